/**
 * The structured timeline of a finding (data, not prose): what the client sent, what the director forwarded,
 * what its IPVS entry and persistence template held, and the resets explained. Renderers draw it.
 */
export type TimelineEventKind =
  | 'client-packet' // a client frame seen at the director (forwarded or not: see `forwarded`)
  | 'forwarded-copy' // the director's DR/TUN copy toward a real server
  | 'server-packet' // a real server's reply (seen at the real server or the client)
  | 'entry-created'
  | 'entry-state'
  | 'entry-expired' // the IPVS connection entry (state, timer)
  | 'template-created'
  | 'template-expired' // the persistence template
  | 'failover'
  | 'real-server-removed'
  | 'real-server-weight-0'
  | 'rst' // the reset(s) the finding explains

export interface TimelineEvent {
  kind: TimelineEventKind
  /** reference-clock seconds, rounded to the µs */
  epoch: number
  /** capture and frame that show it, when a frame does (null for computed instants such as an expiry) */
  capture: string | null
  frame: number | null
  /** lane endpoints for frames: 'client' | 'director' | 'real-server' host labels, e.g. "10.77.0.10" */
  from?: string
  to?: string
  /** TCP flags as Wireshark shows them, e.g. "[R.]", "[P.]" */
  flags?: string
  /** TCP payload length */
  length?: number
  /** for client-packet at a director: did it leave again */
  forwarded?: boolean
  /** entry state (ESTABLISHED, FIN_WAIT, ...) for entry-* events */
  state?: string
  timeout?: number // the timer (s) armed at this event, for entry-*/template-* events
}

/** Seconds to the µs: capture times differ in the ns, which no reader of a timeline needs. */
export function micros(epoch: number): number {
  return Math.round(epoch * 1e6) / 1e6
}

/** TCP flags as Wireshark-style letters (e.g. "R", "R.", "S", "F."; "none" for no flag). */
export function flagText(flags: number): string {
  let s = ''
  if (flags & 0x02) s += 'S'
  if (flags & 0x01) s += 'F'
  if (flags & 0x04) s += 'R'
  if (flags & 0x08) s += 'P'
  if (flags & 0x10) s += '.'
  return s || 'none'
}

/** TCP flags as Wireshark's Info column shows them: "[S]", "[S.]", "[P.]", "[F.]", "[R]", "[R.]", "[.]". */
export function wiresharkFlags(flags: number): string {
  return `[${flagText(flags)}]`
}
