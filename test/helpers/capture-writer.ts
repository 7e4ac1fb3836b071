/**
 * In-memory capture builders for tests: classic pcap (µs/ns/modified, either byte order, hostile
 * header fields on request) and pcapng (several sections of either byte order, IDB options, EPB/SPB/PB,
 * NRB/ISB/DSB/custom/unknown blocks, and raw length overrides for damaged files). Return Uint8Array.
 */

/** Little growable byte buffer with byte-order-aware writes. */
export class Bytes {
  private buf = new Uint8Array(256)
  private view = new DataView(this.buf.buffer)
  len = 0
  le = true

  private grow(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n))
      next.set(this.buf.subarray(0, this.len))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    const p = this.len
    this.len += n
    return p
  }
  u8(v: number): this {
    const p = this.grow(1)
    this.view.setUint8(p, v)
    return this
  }
  u16(v: number): this {
    const p = this.grow(2)
    this.view.setUint16(p, v, this.le)
    return this
  }
  u32(v: number): this {
    const p = this.grow(4)
    this.view.setUint32(p, v >>> 0, this.le)
    return this
  }
  u64(v: bigint): this {
    const p = this.grow(8)
    this.view.setBigUint64(p, BigInt.asUintN(64, v), this.le)
    return this
  }
  bytes(b: Uint8Array): this {
    const p = this.grow(b.length)
    this.buf.set(b, p)
    return this
  }
  pad(): this {
    while (this.len % 4 !== 0) this.u8(0)
    return this
  }
  /** Overwrite a u32 already written at p. */
  setU32(p: number, v: number): void {
    this.view.setUint32(p, v >>> 0, this.le)
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

// ---------------------------------------------------------------- classic pcap

export interface PcapRec {
  sec: number
  /** µs or ns according to the file's magic (may be out of range on purpose). */
  frac: number
  data: Uint8Array
  /** Defaults to data.length. */
  origlen?: number
  /** Header caplen override (hostile files); data is written as given. */
  caplen?: number
}

export interface PcapOptions {
  bigEndian?: boolean
  nano?: boolean
  /** Kuznetzov 0xA1B2CD34 magic with 24-byte record headers. */
  modified?: boolean
  linktype?: number
  /** Raw 32-bit network field (overrides linktype; for FCS / reserved bits). */
  network?: number
  snaplen?: number
  major?: number
  minor?: number
}

export function buildPcap(opts: PcapOptions, records: PcapRec[]): Uint8Array {
  const w = new Bytes()
  w.le = !opts.bigEndian
  w.u32(opts.modified ? 0xa1b2cd34 : opts.nano ? 0xa1b23c4d : 0xa1b2c3d4)
  w.u16(opts.major ?? 2).u16(opts.minor ?? 4)
  w.u32(0).u32(0)
  w.u32(opts.snaplen ?? 262144)
  w.u32(opts.network ?? opts.linktype ?? 1)
  for (const r of records) {
    w.u32(r.sec).u32(r.frac).u32(r.caplen ?? r.data.length).u32(r.origlen ?? r.data.length)
    if (opts.modified) w.u32(7).u16(0x0800).u8(0).u8(0)
    w.bytes(r.data)
  }
  return w.done()
}

// ---------------------------------------------------------------- pcapng

export interface Opt {
  code: number
  value: Uint8Array
}

export interface IdbOptions {
  linktype: number
  snaplen?: number
  /** if_tsresol byte (absent: µs). */
  tsresol?: number
  /** if_tsoffset seconds. */
  tsoffset?: bigint
  fcslen?: number
  name?: string
  options?: Opt[]
}

export interface EpbOptions {
  iface: number
  /** Timestamp in the interface's units. */
  ts: bigint
  data: Uint8Array
  origlen?: number
  /** Header caplen override (hostile files). */
  caplen?: number
  flags?: number
  packetId?: bigint
  options?: Opt[]
}

export interface BlockOverrides {
  /** Leading total length to write instead of the true one. */
  length?: number
  /** Trailing total length to write instead of the leading one. */
  trailer?: number
}

const enc = new TextEncoder()

export class PcapngBuilder {
  private readonly w = new Bytes()

  /** Start a section; every later block uses its byte order. */
  shb(opts: {bigEndian?: boolean; major?: number; minor?: number; options?: Opt[]} = {}): this {
    this.w.le = !opts.bigEndian
    const body = this.sub()
    body.u32(0x1a2b3c4d).u16(opts.major ?? 1).u16(opts.minor ?? 0).u64(-1n)
    this.options(body, [{code: 4, value: enc.encode('lvscope tests')}, ...(opts.options ?? [])])
    return this.block(0x0a0d0d0a, body.done())
  }

  idb(o: IdbOptions, over: BlockOverrides = {}): this {
    const body = this.sub()
    body.u16(o.linktype).u16(0).u32(o.snaplen ?? 0)
    const opts: Opt[] = []
    if (o.name !== undefined) opts.push({code: 2, value: enc.encode(o.name)})
    if (o.tsresol !== undefined) opts.push({code: 9, value: Uint8Array.of(o.tsresol)})
    if (o.fcslen !== undefined) opts.push({code: 13, value: Uint8Array.of(o.fcslen)})
    if (o.tsoffset !== undefined) opts.push({code: 14, value: this.sub().u64(o.tsoffset).done()})
    this.options(body, [...opts, ...(o.options ?? [])])
    return this.block(1, body.done(), over)
  }

  epb(o: EpbOptions, over: BlockOverrides = {}): this {
    const body = this.sub()
    body.u32(o.iface).u32(Number(BigInt.asUintN(64, o.ts) >> 32n)).u32(Number(BigInt.asUintN(32, o.ts)))
    body.u32(o.caplen ?? o.data.length).u32(o.origlen ?? o.data.length)
    body.bytes(o.data).pad()
    const opts: Opt[] = []
    if (o.flags !== undefined) opts.push({code: 2, value: this.sub().u32(o.flags).done()})
    if (o.packetId !== undefined) opts.push({code: 5, value: this.sub().u64(o.packetId).done()})
    this.options(body, [...opts, ...(o.options ?? [])])
    return this.block(6, body.done(), over)
  }

  spb(data: Uint8Array, origlen = data.length, over: BlockOverrides = {}): this {
    const body = this.sub()
    body.u32(origlen).bytes(data).pad()
    return this.block(3, body.done(), over)
  }

  /** Obsolete Packet Block (interface id is 16-bit; pack_flags = code 2). */
  pb(o: {iface: number; ts: bigint; data: Uint8Array; origlen?: number; flags?: number}): this {
    const body = this.sub()
    body.u16(o.iface).u16(0xffff).u32(Number(BigInt.asUintN(64, o.ts) >> 32n)).u32(Number(BigInt.asUintN(32, o.ts)))
    body.u32(o.data.length).u32(o.origlen ?? o.data.length).bytes(o.data).pad()
    this.options(body, o.flags !== undefined ? [{code: 2, value: this.sub().u32(o.flags).done()}] : [])
    return this.block(2, body.done())
  }

  /** Name Resolution Block with one IPv4 record. */
  nrb(): this {
    const body = this.sub()
    const rec = Uint8Array.of(10, 0, 0, 1, ...enc.encode('vip.example'), 0)
    body.u16(1).u16(rec.length).bytes(rec).pad().u16(0).u16(0)
    return this.block(4, body.done())
  }

  /** Interface Statistics Block with isb_ifrecv. */
  isb(iface: number, ts: bigint): this {
    const body = this.sub()
    body.u32(iface).u32(Number(ts >> 32n)).u32(Number(BigInt.asUintN(32, ts)))
    this.options(body, [{code: 4, value: this.sub().u64(1234n).done()}])
    return this.block(5, body.done())
  }

  /** Decryption Secrets Block (TLS key log). */
  dsb(secret = 'CLIENT_RANDOM 00 11'): this {
    const s = enc.encode(secret)
    const body = this.sub()
    body.u32(0x544c534b).u32(s.length).bytes(s).pad()
    return this.block(10, body.done())
  }

  custom(pen: number, data: Uint8Array, copyable = true): this {
    const body = this.sub()
    body.u32(pen).bytes(data).pad()
    return this.block(copyable ? 0xbad : 0x40000bad, body.done())
  }

  /** Any block, body padded to 4; `over` writes inconsistent lengths for damage tests. */
  block(type: number, body: Uint8Array, over: BlockOverrides = {}): this {
    const w = this.w
    const len = 12 + ((body.length + 3) & ~3)
    w.u32(type).u32(over.length ?? len).bytes(body).pad().u32(over.trailer ?? over.length ?? len)
    return this
  }

  /** Append raw bytes (e.g. garbage or a cut block). */
  raw(b: Uint8Array): this {
    this.w.bytes(b)
    return this
  }

  build(): Uint8Array {
    return this.w.done()
  }

  private sub(): Bytes {
    const b = new Bytes()
    b.le = this.w.le
    return b
  }

  private options(body: Bytes, opts: Opt[]): void {
    if (opts.length === 0) return
    for (const o of opts) body.u16(o.code).u16(o.value.length).bytes(o.value).pad()
    body.u16(0).u16(0)
  }
}

// ---------------------------------------------------------------- expectations

/** Reference (BigInt) conversion of a unit count to [sec, nsec], truncating below 1 ns. */
export function refTime(ts: bigint, tsresol = 6, offset = 0n): [number, number] {
  const binary = (tsresol & 0x80) !== 0
  const e = BigInt(tsresol & 0x7f)
  const per = binary ? 1n << e : 10n ** e
  const sec = ts / per + offset
  const nsec = ((ts % per) * 1_000_000_000n) / per
  return [Number(sec), Number(nsec)]
}
