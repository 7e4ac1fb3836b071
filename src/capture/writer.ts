/**
 * Streaming capture writers for cleaned output (e.g. `dedupe`): classic pcap (µs or ns) and pcapng
 * (one section, one IDB per input interface, epb_flags / epb_packetid kept, optional shb_comment and per-packet
 * opt_comment). Little-endian.
 * Records are copied into a 1 MiB staging buffer; nothing is allocated per record.
 */
import {once} from 'node:events'
import {writeSync} from 'node:fs'
import type {CaptureRecord} from './record.js'
import type {InterfaceInfo} from './state.js'
import {optionBytes} from './pcapng-writer.js'
import {toUnits, units} from './timestamp.js'

const STAGE = 1024 * 1024

/** Buffers bytes and hands them to a file descriptor (synchronously) or a stream (with backpressure). */
class Sink {
  private buf = new Uint8Array(STAGE)
  private view = new DataView(this.buf.buffer)
  private len = 0
  private waitDrain = false
  bytesWritten = 0

  constructor(private readonly out: NodeJS.WritableStream | number) {}

  /** Make room for n contiguous bytes; returns the position to write them at. */
  reserve(n: number): number {
    if (this.len + n > this.buf.length) {
      this.flush()
      if (n > this.buf.length) {
        this.buf = new Uint8Array(n)
        this.view = new DataView(this.buf.buffer)
      }
    }
    const p = this.len
    this.len += n
    this.bytesWritten += n
    return p
  }

  u16(p: number, v: number): void {
    this.view.setUint16(p, v, true)
  }
  u32(p: number, v: number): void {
    this.view.setUint32(p, v, true)
  }
  bytes(p: number, src: Uint8Array, off: number, n: number): void {
    this.buf.set(src.subarray(off, off + n), p)
  }
  zero(p: number, n: number): void {
    this.buf.fill(0, p, p + n)
  }

  flush(): void {
    if (this.len === 0) return
    if (typeof this.out === 'number') {
      let done = 0
      while (done < this.len) done += writeSync(this.out, this.buf, done, this.len - done)
    } else {
      // The stream may keep the chunk until it is written, so it gets its own copy.
      if (!this.out.write(this.buf.slice(0, this.len))) this.waitDrain = true
    }
    this.len = 0
  }

  /** Flush and, for a stream, wait until it has accepted everything (the caller ends/closes it). */
  async end(): Promise<void> {
    this.flush()
    if (this.waitDrain && typeof this.out !== 'number') {
      this.waitDrain = false
      await once(this.out as NodeJS.EventEmitter, 'drain')
    }
  }
}

export interface PcapWriterOptions {
  linktype: number
  /** Header snaplen; default 262144. */
  snaplen?: number
  /** Nanosecond timestamps (magic 0xA1B23C4D); default µs, which drops sub-µs digits. */
  nano?: boolean
  /** FCS bytes per frame (even, <= 30) to record in the link-type field's FCS bits; default 0. */
  fcsLen?: number
}

export class PcapWriter {
  private readonly sink: Sink
  private readonly linktype: number
  private readonly nano: boolean

  constructor(out: NodeJS.WritableStream | number, opts: PcapWriterOptions) {
    this.sink = new Sink(out)
    this.linktype = opts.linktype
    this.nano = opts.nano ?? false
    const s = this.sink
    const p = s.reserve(24)
    s.u32(p, this.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    s.u16(p + 4, 2)
    s.u16(p + 6, 4)
    s.u32(p + 8, 0)
    s.u32(p + 12, 0)
    s.u32(p + 16, opts.snaplen ?? 262144)
    const fcs = opts.fcsLen ?? 0
    s.u32(p + 20, ((fcs > 0 ? (((fcs >>> 1) & 0xf) << 28) | 0x04000000 : 0) | (opts.linktype & 0xffff)) >>> 0)
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten
  }

  /** Append one record. A pcap file has one link type; other records are refused loudly. */
  write(rec: CaptureRecord): void {
    if (rec.linktype !== this.linktype) {
      throw new Error(`PcapWriter: record ${rec.frame} has link type ${rec.linktype}, file has ${this.linktype}; use PcapngWriter`)
    }
    const s = this.sink
    const p = s.reserve(16 + rec.caplen)
    s.u32(p, rec.tsSec)
    s.u32(p + 4, this.nano ? rec.tsNsec : Math.floor(rec.tsNsec / 1000))
    s.u32(p + 8, rec.caplen)
    s.u32(p + 12, rec.origlen)
    s.bytes(p + 16, rec.data, rec.offset, rec.caplen)
  }

  flush(): void {
    this.sink.flush()
  }

  end(): Promise<void> {
    return this.sink.end()
  }
}

export interface PcapngWriterOptions {
  /** if_tsresol 9 (ns, default) or 6 (µs) for every interface. */
  nano?: boolean
  /** Interfaces of the input (CaptureSummary.interfaces, or collected while reading): names and snaplens. */
  interfaces?: InterfaceInfo[]
  /** shb_userappl. */
  userAppl?: string
  /** shb_comment options (e.g. annotate's role and clock offset). */
  comments?: readonly string[]
}

const utf8 = new TextEncoder()

export class PcapngWriter {
  private readonly sink: Sink
  private readonly nano: boolean
  private readonly known: InterfaceInfo[]
  /** Input interfaceId → output interface id (IDBs are written on first use). */
  private readonly ids = new Map<number, number>()
  /** Snaplen written in each output IDB (0 = none), for the SPB test below. */
  private readonly snaplens: number[] = []

  constructor(out: NodeJS.WritableStream | number, opts: PcapngWriterOptions = {}) {
    this.sink = new Sink(out)
    this.nano = opts.nano ?? true
    this.known = opts.interfaces ?? []
    const appl = utf8.encode(opts.userAppl ?? 'lvscope')
    const notes = (opts.comments ?? []).map(optionBytes)
    const s = this.sink
    const len = 24 + 4 + pad4(appl.length) + commentsSize(notes) + 4 + 4
    const p = s.reserve(len)
    s.u32(p, 0x0a0d0d0a)
    s.u32(p + 4, len)
    s.u32(p + 8, 0x1a2b3c4d)
    s.u16(p + 12, 1)
    s.u16(p + 14, 0)
    s.u32(p + 16, 0xffffffff) // section length unknown (-1)
    s.u32(p + 20, 0xffffffff)
    s.u16(p + 24, 4) // shb_userappl
    s.u16(p + 26, appl.length)
    s.zero(p + 28, pad4(appl.length))
    s.bytes(p + 28, appl, 0, appl.length)
    const q = this.comments(p + 28 + pad4(appl.length), notes)
    s.u32(q, 0) // opt_endofopt
    s.u32(q + 4, len)
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten
  }

  /** Append one record; `comments` become its opt_comment options (an SPB, which has none, is then not used). */
  write(rec: CaptureRecord, comments?: readonly string[]): void {
    const notes = comments === undefined || comments.length === 0 ? null : comments.map(optionBytes)
    let id = this.ids.get(rec.interfaceId)
    if (id === undefined) id = this.interfaceBlock(rec)
    const s = this.sink
    const cap = rec.caplen
    const snap = this.snaplens[id]
    if (notes === null && !rec.hasTs && id === 0 && cap === (snap !== 0 && snap < rec.origlen ? snap : rec.origlen)) {
      // Simple Packet Block keeps "no timestamp", but it has no caplen: only valid on interface 0
      // when the data is the packet cut at that IDB's snaplen. Otherwise an EPB with time 0.
      const len = 16 + pad4(cap)
      const p = s.reserve(len)
      s.u32(p, 3)
      s.u32(p + 4, len)
      s.u32(p + 8, rec.origlen)
      s.zero(p + 12, pad4(cap))
      s.bytes(p + 12, rec.data, rec.offset, cap)
      s.u32(p + len - 4, len)
      return
    }
    const optLen = (rec.epbFlags !== 0 ? 8 : 0) + (rec.hasPacketId ? 12 : 0) + (notes === null ? 0 : commentsSize(notes))
    const len = 32 + pad4(cap) + (optLen > 0 ? optLen + 4 : 0)
    const p = s.reserve(len)
    s.u32(p, 6)
    s.u32(p + 4, len)
    s.u32(p + 8, id)
    if (rec.hasTs) toUnits(rec.tsSec, rec.tsNsec, this.nano ? 9 : 6)
    else units.hi = units.lo = 0
    s.u32(p + 12, units.hi)
    s.u32(p + 16, units.lo)
    s.u32(p + 20, cap)
    s.u32(p + 24, rec.origlen)
    s.zero(p + 28, pad4(cap))
    s.bytes(p + 28, rec.data, rec.offset, cap)
    let o = p + 28 + pad4(cap)
    if (rec.epbFlags !== 0) {
      s.u16(o, 2)
      s.u16(o + 2, 4)
      s.u32(o + 4, rec.epbFlags)
      o += 8
    }
    if (rec.hasPacketId) {
      s.u16(o, 5)
      s.u16(o + 2, 8)
      s.u32(o + 4, rec.packetIdLo) // little-endian u64: low word first
      s.u32(o + 8, rec.packetIdHi)
      o += 12
    }
    if (notes !== null) o = this.comments(o, notes)
    if (optLen > 0) {
      s.u32(o, 0)
      o += 4
    }
    s.u32(o, len)
  }

  /** opt_comment options at p; returns the position after them. */
  private comments(p: number, notes: readonly Uint8Array[]): number {
    const s = this.sink
    for (const c of notes) {
      s.u16(p, 1)
      s.u16(p + 2, c.length)
      s.zero(p + 4, pad4(c.length))
      s.bytes(p + 4, c, 0, c.length)
      p += 4 + pad4(c.length)
    }
    return p
  }

  private interfaceBlock(rec: CaptureRecord): number {
    const id = this.ids.size
    this.ids.set(rec.interfaceId, id)
    const info = this.known.find((i) => i.id === rec.interfaceId)
    const name = info?.name !== undefined ? utf8.encode(info.name) : null
    // The interface's FCS length: known, or this record's unless it came from its epb_flags bits.
    const fcsLen = info?.fcsLen ?? ((rec.epbFlags >>> 5) & 0xf ? 0 : rec.fcsLen)
    const len = 16 + 8 + (fcsLen > 0 ? 8 : 0) + (name ? 4 + pad4(name.length) : 0) + 4 + 4
    const s = this.sink
    const p = s.reserve(len)
    s.u32(p, 1)
    s.u32(p + 4, len)
    s.u16(p + 8, rec.linktype)
    s.u16(p + 10, 0)
    this.snaplens.push(info?.snaplen ?? 0)
    s.u32(p + 12, info?.snaplen ?? 0)
    let o = p + 16
    s.u16(o, 9) // if_tsresol
    s.u16(o + 2, 1)
    s.u32(o + 4, this.nano ? 9 : 6)
    o += 8
    if (fcsLen > 0) {
      s.u16(o, 13) // if_fcslen
      s.u16(o + 2, 1)
      s.u32(o + 4, fcsLen)
      o += 8
    }
    if (name) {
      s.u16(o, 2) // if_name
      s.u16(o + 2, name.length)
      s.zero(o + 4, pad4(name.length))
      s.bytes(o + 4, name, 0, name.length)
      o += 4 + pad4(name.length)
    }
    s.u32(o, 0)
    s.u32(o + 4, len)
    return id
  }

  flush(): void {
    this.sink.flush()
  }

  end(): Promise<void> {
    return this.sink.end()
  }
}

function commentsSize(notes: readonly Uint8Array[]): number {
  let n = 0
  for (const c of notes) n += 4 + pad4(c.length)
  return n
}

function pad4(n: number): number {
  return (n + 3) & ~3
}
