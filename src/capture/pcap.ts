/**
 * Classic pcap (libpcap savefile): 24-byte file header, then records of a 16-byte header (24 for the
 * Kuznetzov "modified" format) and caplen unpadded bytes. µs or ns per the magic, either byte order.
 */
import {u16, u32} from './bytes.js'
import type {FormatReader} from './format.js'
import type {ReadState} from './state.js'

/** libpcap's and Wireshark's ceiling for a standard link type; larger caplens mean a damaged file. */
export const MAX_CAPLEN = 262144
const FILE_HEADER = 24

export type PcapMagic = {le: boolean; nano: boolean; modified: boolean}

/** Recognise a classic pcap magic in the first 4 bytes; null if it is not one. */
export function pcapMagic(b: Uint8Array, p: number): PcapMagic | null {
  const le = u32(b, p, true)
  const be = u32(b, p, false)
  if (le === 0xa1b2c3d4) return {le: true, nano: false, modified: false}
  if (be === 0xa1b2c3d4) return {le: false, nano: false, modified: false}
  if (le === 0xa1b23c4d) return {le: true, nano: true, modified: false}
  if (be === 0xa1b23c4d) return {le: false, nano: true, modified: false}
  if (le === 0xa1b2cd34) return {le: true, nano: false, modified: true}
  if (be === 0xa1b2cd34) return {le: false, nano: false, modified: true}
  return null
}

export class PcapReader implements FormatReader {
  readonly le: boolean
  readonly nano: boolean
  private readonly hdrLen: number
  private headerDone = false
  snaplen = 0
  linktype = 0
  fcsLen = 0

  constructor(
    private readonly st: ReadState,
    magic: PcapMagic,
  ) {
    this.le = magic.le
    this.nano = magic.nano
    this.hdrLen = magic.modified ? 24 : 16
  }

  readonly format = 'pcap'
  get headerRead(): boolean {
    return this.headerDone
  }
  get precision(): string {
    return this.nano ? 'nano' : 'micro'
  }
  get byteOrder(): 'little' | 'big' {
    return this.le ? 'little' : 'big'
  }
  get sections(): number {
    return this.headerDone ? 1 : 0
  }

  parse(b: Uint8Array, pos: number, end: number): number {
    const st = this.st
    let p = pos
    if (!this.headerDone) {
      if (end - p < FILE_HEADER) {
        st.need = FILE_HEADER
        return p
      }
      this.fileHeader(b, p)
      p += FILE_HEADER
    }
    const le = this.le
    const hl = this.hdrLen
    const rec = st.rec
    const fracMax = this.nano ? 1_000_000_000 : 1_000_000
    const fracMul = this.nano ? 1 : 1000
    const snaplen = this.snaplen
    for (;;) {
      const avail = end - p
      if (avail < hl) {
        st.need = hl
        return p
      }
      const caplen = u32(b, p + 8, le)
      if (caplen > MAX_CAPLEN) {
        st.stop(
          'caplen-too-big',
          st.base + (p - pos),
          `record ${st.packets + 1} at byte ${st.base + (p - pos)}: caplen ${caplen} exceeds the maximum of ${MAX_CAPLEN}; stopped reading`,
        )
        return end
      }
      const total = hl + caplen
      if (avail < total) {
        st.need = total
        return p
      }
      let sec = u32(b, p, le)
      let frac = u32(b, p + 4, le)
      const at = st.base + (p - pos)
      if (frac >= fracMax) {
        // Out-of-range sub-second field (tcpdump's timestamp_invalid_* tests): carry into seconds.
        const carry = Math.floor(frac / fracMax)
        st.warn(
          'ts-frac-range',
          at,
          `record ${st.packets + 1} at byte ${at}: sub-second field ${frac} is out of range (>= ${fracMax}); normalised by carrying ${carry} s`,
        )
        sec += carry
        frac -= carry * fracMax
      }
      if (caplen > snaplen && snaplen !== 0) {
        st.warn(
          'caplen-over-snaplen',
          at,
          `record ${st.packets + 1} at byte ${at}: caplen ${caplen} exceeds snaplen ${snaplen}; delivered in full`,
        )
      }
      rec.data = b
      rec.offset = p + hl
      rec.caplen = caplen
      rec.origlen = u32(b, p + 12, le)
      rec.tsSec = sec
      rec.tsNsec = frac * fracMul
      rec.fileOffset = at
      st.emit()
      p += total
    }
  }

  private fileHeader(b: Uint8Array, p: number): void {
    const st = this.st
    const le = this.le
    const major = u16(b, p + 4, le)
    const minor = u16(b, p + 6, le)
    this.snaplen = u32(b, p + 16, le)
    const network = u32(b, p + 20, le)
    this.linktype = network & 0xffff
    // Upper bits: FCS length in 16-bit words (bits 28-31) valid when P (bit 26) is set.
    this.fcsLen = network & 0x04000000 ? ((network >>> 28) & 0xf) * 2 : 0
    if (major !== 2 || minor !== 4) {
      st.warn('pcap-version', st.base, `pcap version ${major}.${minor} at byte 4 is not 2.4; reading it as 2.4`)
    }
    if ((network & 0x0bff0000) !== 0) {
      st.warn(
        'linktype-reserved-bits',
        st.base + 20,
        `link-type field 0x${network.toString(16).padStart(8, '0')} at byte 20 has reserved bits set; using link type ${this.linktype}`,
      )
    }
    if (this.snaplen === 0) st.warn('snaplen-zero', st.base + 16, `snaplen at byte 16 is 0`)
    const rec = st.rec
    rec.linktype = this.linktype
    rec.fcsLen = this.fcsLen
    rec.interfaceId = 0
    rec.hasTs = true
    rec.tsDigits = this.nano ? 9 : 6
    rec.epbFlags = 0
    rec.hasPacketId = false
    rec.packetIdHi = 0
    rec.packetIdLo = 0
    st.addInterface({
      id: 0,
      section: 0,
      linktype: this.linktype,
      snaplen: this.snaplen,
      tsDigits: this.nano ? 9 : 6,
      fcsLen: this.fcsLen,
    })
    this.headerDone = true
  }

  truncation(_b: Uint8Array, len: number): string {
    const at = this.st.base
    if (!this.headerDone) return `truncated pcap file header at byte 0: ${FILE_HEADER} bytes needed, ${len} present`
    if (len < this.hdrLen) {
      return `truncated record header at byte ${at}: ${this.hdrLen} bytes needed, ${len} present`
    }
    return `truncated record at byte ${at}: header says ${this.st.need - this.hdrLen} bytes, ${len - this.hdrLen} present`
  }
}
