/**
 * A capture record is a *view*: the reader fills one mutable object per file and hands it to the
 * consumer's callback. `data` is a large shared buffer; the bytes are valid only until the callback
 * returns. Copy (`data.slice(offset, offset + caplen)`) only when a packet must outlive the buffer.
 */
export interface CaptureRecord {
  /** 1-based index among packet records in file order (Wireshark's frame.number). */
  frame: number
  /** Shared buffer holding the packet bytes at [offset, offset + caplen). */
  data: Uint8Array
  offset: number
  caplen: number
  origlen: number
  /** LINKTYPE_* of the interface the packet arrived on (low 16 bits; FCS bits split out). */
  linktype: number
  /** Bytes of FCS at the end of the frame (from pcap FCS bits or pcapng if_fcslen), 0 if none. */
  fcsLen: number
  /** Interface index across the whole file (sections numbered consecutively); 0 for classic pcap. */
  interfaceId: number
  /** Whole seconds since 1970-01-01 UTC; exact integer. */
  tsSec: number
  /** Nanoseconds within the second, 0..999_999_999; exact integer. */
  tsNsec: number
  /** False for pcapng Simple Packet Blocks, which carry no timestamp. */
  hasTs: boolean
  /** Decimal digits of the timestamp's native precision (6 = µs, 9 = ns). */
  tsDigits: number
  /** pcapng epb_flags (direction bits 0-1, offload bits 9-11 …), 0 when absent. */
  epbFlags: number
  /** pcapng epb_packetid split into two uint32 halves; hasPacketId false when absent. */
  hasPacketId: boolean
  packetIdHi: number
  packetIdLo: number
  /** Byte offset of the record's header in the (decompressed) capture stream. */
  fileOffset: number
}

export function newCaptureRecord(): CaptureRecord {
  return {
    frame: 0,
    data: new Uint8Array(0),
    offset: 0,
    caplen: 0,
    origlen: 0,
    linktype: 0,
    fcsLen: 0,
    interfaceId: 0,
    tsSec: 0,
    tsNsec: 0,
    hasTs: false,
    tsDigits: 6,
    epbFlags: 0,
    hasPacketId: false,
    packetIdHi: 0,
    packetIdLo: 0,
    fileOffset: 0,
  }
}
