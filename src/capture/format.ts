/** The contract between the push driver (reader.ts) and one capture format's parser. */
export interface FormatReader {
  /**
   * Parse as many complete units (file header, records, blocks) as lie in b[pos, end) and return the
   * position after the last one. When bytes are left over, ReadState.need must be set to the total
   * size of the next unit counted from the returned position, and be larger than what is left.
   * Nothing may be kept pointing into b after the call returns.
   */
  parse(b: Uint8Array, pos: number, end: number): number
  /** Message (after "<file>: ") for the partial unit b[0, len) left at end of input. */
  truncation(b: Uint8Array, len: number): string
  /** Whether the file header (pcap header / first SHB) was read completely. */
  readonly headerRead: boolean
  readonly format: 'pcap' | 'pcapng'
  readonly precision: string
  readonly byteOrder: 'little' | 'big' | 'mixed'
  readonly sections: number
}
