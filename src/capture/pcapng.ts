/**
 * pcapng: a sequence of blocks (type, total length, body, total length again). Sections (SHB) carry
 * their own byte order and interface list; each IDB has its own link type, snaplen and time scale.
 * Packets come from EPB, SPB and the obsolete PB; every other block is skipped by its length.
 */
import {hex32, u16, u32} from './bytes.js'
import type {FormatReader} from './format.js'
import {MAX_INTERFACES, type ReadState} from './state.js'
import type {TsScale} from './timestamp.js'
import {int64, makeScale, out, scaleFineness, scaleName, toTime} from './timestamp.js'

export const SHB = 0x0a0d0d0a
const IDB = 0x00000001
const PB = 0x00000002
const SPB = 0x00000003
const EPB = 0x00000006
const BOM = 0x1a2b3c4d
/** Larger blocks are treated as damage: a length field must never size an allocation unchecked. */
export const MAX_BLOCK = 16 * 1024 * 1024
/** Enough bytes to read a block's type, length and (for an SHB) its byte-order magic. */
const BLOCK_PEEK = 12

/** Per-interface facts needed on the hot path. */
interface Iface {
  globalId: number
  linktype: number
  snaplen: number
  fcsLen: number
  scale: TsScale
}

const utf8 = new TextDecoder('utf-8', {fatal: false})

export class PcapngReader implements FormatReader {
  readonly format = 'pcapng'
  private le = true
  private section = -1
  private ifs: Iface[] = []
  /** Blocks of a section whose SHB version we cannot read are skipped up to the next SHB. */
  private skipping = false
  private sawLe = false
  private sawBe = false
  private finest: TsScale | null = null

  constructor(private readonly st: ReadState) {}

  get headerRead(): boolean {
    return this.section >= 0
  }
  get sections(): number {
    return this.section + 1
  }
  get byteOrder(): 'little' | 'big' | 'mixed' {
    if (this.sawLe && this.sawBe) return 'mixed'
    return this.sawBe ? 'big' : 'little'
  }
  get precision(): string {
    return this.finest ? scaleName(this.finest) : 'micro'
  }

  parse(b: Uint8Array, pos: number, end: number): number {
    const st = this.st
    let p = pos
    for (;;) {
      const avail = end - p
      if (avail < BLOCK_PEEK) {
        st.need = BLOCK_PEEK
        return p
      }
      const at = st.base + (p - pos)
      let le = this.le
      // The SHB type reads the same in both byte orders; its byte-order magic decides the rest.
      const type = u32(b, p, le)
      if (type === SHB) {
        const bom = u32(b, p + 8, true)
        if (bom === BOM) le = true
        else if (u32(b, p + 8, false) === BOM) le = false
        else {
          st.stop('bad-byte-order-magic', at, `section header block at byte ${at} has a bad byte-order magic ${hex32(bom)}; stopped reading`)
          return end
        }
      } else if (this.section < 0) {
        // Unreachable through sniffing, but keeps the reader honest if fed mid-stream.
        st.stop('no-section-header', at, `block at byte ${at} precedes any section header block; stopped reading`)
        return end
      }
      const len = u32(b, p + 4, le)
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        const why = len < 12 ? 'less than 12' : len % 4 !== 0 ? 'not a multiple of 4' : `over the ${MAX_BLOCK}-byte limit`
        st.stop('bad-block-length', at, `block type ${hex32(type)} at byte ${at} has bad length ${len} (${why}); stopped reading`)
        return end
      }
      if (avail < len) {
        st.need = len
        return p
      }
      const trailer = u32(b, p + len - 4, le)
      if (trailer !== len) {
        st.stop(
          'block-length-mismatch',
          at,
          `block type ${hex32(type)} at byte ${at}: trailing length ${trailer} != leading length ${len}; stopped reading`,
        )
        return end
      }
      if (type === SHB) {
        this.le = le
        this.sectionHeader(b, p, len, at)
      } else if (!this.skipping) {
        if (type === EPB) this.timed(b, p, len, at, false)
        else if (type === IDB) this.interfaceBlock(b, p, len, at)
        else if (type === SPB) this.simple(b, p, len, at)
        else if (type === PB) this.timed(b, p, len, at, true)
        // NRB, ISB, DSB, custom and unknown blocks carry no packets: skipped by length.
      }
      if (st.stopped) return end
      p += len
    }
  }

  /** A block shorter than its fixed part: stop there, since nothing after it can be framed. */
  private tooShort(what: string, len: number, min: number, at: number): boolean {
    if (len >= min) return false
    this.st.stop('bad-block-length', at, `${what} at byte ${at} has length ${len} (< ${min}); stopped reading`)
    return true
  }

  private sectionHeader(b: Uint8Array, p: number, len: number, at: number): void {
    const st = this.st
    if (this.tooShort('section header block', len, 28, at)) return
    const le = this.le
    const major = u16(b, p + 12, le)
    const minor = u16(b, p + 14, le)
    this.section++
    this.ifs = []
    if (le) this.sawLe = true
    else this.sawBe = true
    // pcapng readers treat 1.2 as 1.0; anything else is a format we cannot trust (tshark stops there).
    this.skipping = !(major === 1 && (minor === 0 || minor === 2))
    if (this.skipping) {
      st.warn(
        'shb-version',
        at,
        `section ${this.section} at byte ${at} has unsupported version ${major}.${minor}; its blocks are skipped`,
      )
    }
  }

  private interfaceBlock(b: Uint8Array, p: number, len: number, at: number): void {
    const st = this.st
    if (this.tooShort('interface description block', len, 20, at)) return
    const le = this.le
    const linktype = u16(b, p + 8, le)
    const snaplen = u32(b, p + 12, le)
    let tsresol = 6
    let offsetSec = 0
    let fcsLen = 0
    let name: string | undefined
    const oe = p + len - 4
    let o = p + 16
    while (o + 4 <= oe) {
      const code = u16(b, o, le)
      const olen = u16(b, o + 2, le)
      if (code === 0) break
      if (o + 4 + olen > oe) {
        st.warn('option-overrun', o - p + at, `option ${code} at byte ${o - p + at} runs past the end of its block; rest ignored`)
        break
      }
      const v = o + 4
      if (code === 9 && olen >= 1) tsresol = b[v]
      else if (code === 13 && olen >= 1) fcsLen = b[v]
      else if (code === 14 && olen >= 8) {
        offsetSec = le ? int64(u32(b, v + 4, le), u32(b, v, le)) : int64(u32(b, v, le), u32(b, v + 4, le))
      } else if (code === 2) name = utf8.decode(b.subarray(v, v + olen)).replace(/\0+$/, '')
      o = v + ((olen + 3) & ~3)
    }
    const binary = (tsresol & 0x80) !== 0
    const exp = tsresol & 0x7f
    if ((binary && exp > 63) || (!binary && exp > 19)) {
      st.warn('tsresol-high', at, `interface at byte ${at} has if_tsresol 0x${tsresol.toString(16)} finer than 64-bit counters can use`)
    }
    const scale = makeScale(tsresol, offsetSec)
    if (!this.finest || scaleFineness(scale) > scaleFineness(this.finest)) this.finest = scale
    const globalId = st.interfaces.length
    const info = {id: globalId, section: this.section, linktype, snaplen, tsDigits: scale.digits, fcsLen}
    // The cap is per section (interface ids restart at each SHB); addInterface bounds the file's total.
    if (this.ifs.length >= MAX_INTERFACES) {
      st.stop('too-many-interfaces', at, `interface at byte ${at}: section ${this.section} declares more than ${MAX_INTERFACES} interfaces; stopped reading`)
      return
    }
    if (!st.addInterface(name === undefined ? info : {...info, name})) {
      st.stop('too-many-interfaces', at, `interface at byte ${at}: more than ${st.interfaces.length} interfaces in the file; stopped reading`)
      return
    }
    this.ifs.push({globalId, linktype, snaplen, fcsLen, scale})
  }

  private iface(id: number, at: number, what: string): Iface | null {
    const f = this.ifs[id]
    if (f === undefined) {
      this.st.stop(
        'unknown-interface',
        at,
        `${what} at byte ${at} refers to interface ${id}, but section ${this.section} declares ${this.ifs.length}; stopped reading`,
      )
      return null
    }
    return f
  }

  private fill(f: Iface, data: Uint8Array, off: number, caplen: number, origlen: number, at: number): void {
    const rec = this.st.rec
    rec.data = data
    rec.offset = off
    rec.caplen = caplen
    rec.origlen = origlen
    rec.linktype = f.linktype
    rec.fcsLen = f.fcsLen
    rec.interfaceId = f.globalId
    rec.tsDigits = f.scale.digits
    rec.fileOffset = at
  }

  /**
   * An Enhanced Packet Block, or the obsolete Packet Block: the same layout, but a 16-bit interface id (then a
   * drops count) and no epb_packetid option.
   */
  private timed(b: Uint8Array, p: number, len: number, at: number, obsolete: boolean): void {
    const st = this.st
    const name = obsolete ? 'packet block' : 'enhanced packet block'
    if (this.tooShort(name, len, 32, at)) return
    const le = this.le
    const f = this.iface(obsolete ? u16(b, p + 8, le) : u32(b, p + 8, le), at, name)
    if (f === null) return
    const caplen = u32(b, p + 20, le)
    if (caplen > len - 32) {
      st.stop('caplen-over-block', at, `${name} at byte ${at}: caplen ${caplen} does not fit in its ${len}-byte block; stopped reading`)
      return
    }
    const rec = st.rec
    this.fill(f, b, p + 28, caplen, u32(b, p + 24, le), at)
    toTime(u32(b, p + 12, le), u32(b, p + 16, le), f.scale)
    rec.tsSec = out.sec
    rec.tsNsec = out.nsec
    rec.hasTs = true
    this.packetOptions(b, p + 28 + ((caplen + 3) & ~3), p + len - 4, obsolete ? -1 : 5)
    st.emit()
  }

  private simple(b: Uint8Array, p: number, len: number, at: number): void {
    const st = this.st
    if (this.tooShort('simple packet block', len, 16, at)) return
    const f = this.iface(0, at, 'simple packet block')
    if (f === null) return
    const origlen = u32(b, p + 8, this.le)
    // No caplen field: the data is the original length cut at the snaplen (and at the block end).
    let caplen = Math.min(origlen, len - 16)
    if (f.snaplen !== 0 && caplen > f.snaplen) caplen = f.snaplen
    const rec = st.rec
    this.fill(f, b, p + 12, caplen, origlen, at)
    rec.tsSec = 0
    rec.tsNsec = 0
    rec.hasTs = false
    rec.epbFlags = 0
    rec.hasPacketId = false
    rec.packetIdHi = 0
    rec.packetIdLo = 0
    st.emit()
  }

  /** epb_flags / pack_flags (code 2; may set fcsLen) and, when pidCode > 0, epb_packetid into the record. */
  private packetOptions(b: Uint8Array, o: number, oe: number, pidCode: number): void {
    const rec = this.st.rec
    const le = this.le
    rec.epbFlags = 0
    rec.hasPacketId = false
    rec.packetIdHi = 0
    rec.packetIdLo = 0
    while (o + 4 <= oe) {
      const code = u16(b, o, le)
      const olen = u16(b, o + 2, le)
      if (code === 0) break
      if (o + 4 + olen > oe) break // a damaged option list ends the options, not the packet
      const v = o + 4
      if (code === 2 && olen >= 4) {
        const flags = u32(b, v, le)
        rec.epbFlags = flags
        // Bits 5-8: FCS length in octets for this packet, overriding the interface's if_fcslen.
        const fcs = (flags >>> 5) & 0xf
        if (fcs !== 0) rec.fcsLen = fcs
      } else if (code === pidCode && olen >= 8) {
        rec.hasPacketId = true
        rec.packetIdHi = u32(b, le ? v + 4 : v, le)
        rec.packetIdLo = u32(b, le ? v : v + 4, le)
      }
      o = v + ((olen + 3) & ~3)
    }
  }

  truncation(b: Uint8Array, len: number): string {
    const at = this.st.base
    if (len < 8) return `truncated block header at byte ${at}: 8 bytes needed, ${len} present`
    let le = this.le
    if (len >= 12 && u32(b, 0, true) === SHB) le = u32(b, 8, true) === BOM
    const what = this.section < 0 ? 'section header block' : 'block'
    return `truncated ${what} at byte ${at}: header says ${u32(b, 4, le)} bytes, ${len} present`
  }
}
