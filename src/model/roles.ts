/** Who a capture belongs to, and who sent a packet: the vocabulary every stage shares. */
export type Role = 'director' | 'real-server' | 'client' | 'unknown'
export type Sender = 'director' | 'real-server' | 'client' | 'unknown'
