/**
 * Byte-by-byte frame builders for decoder tests. Every layer takes its payload as bytes, so a test
 * composes a frame inside out: ethernet({type: 0x0800}, ipv4({...}, tcp({...}, data))).
 * Length and checksum fields are computed unless a test overrides them to build a malformed frame.
 */

export type Bytes = Uint8Array | readonly number[]

export function concat(...parts: Bytes[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

export function be16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff]
}

export function be32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}

export function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
}

/** "aa:bb:cc:dd:ee:ff" → 6 bytes. */
export function mac(s: string): number[] {
  const parts = s.split(':').map((x) => parseInt(x, 16))
  if (parts.length !== 6 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad MAC ${s}`)
  return parts
}

/** "10.0.0.1" → 4 bytes. */
export function ip4(s: string): number[] {
  const parts = s.split('.').map(Number)
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${s}`)
  return parts
}

/** IPv6 text → 16 bytes (supports "::"). */
export function ip6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t]
  if (groups.length !== 8) throw new Error(`bad IPv6 ${s}`)
  return groups.flatMap((g) => be16(parseInt(g, 16)))
}

/** Internet checksum (RFC 1071) over `b`. */
export function inetChecksum(b: Bytes): number {
  let sum = 0
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

// ---------------------------------------------------------------- link layers

export interface VlanTag {
  tpid?: number
  vid: number
  pcp?: number
}

export interface EthernetOpts {
  dst?: string
  src?: string
  type: number
  /** Tags outermost first; tpid defaults to 0x8100. */
  vlans?: VlanTag[]
}

export function ethernet(o: EthernetOpts, payload: Bytes): Uint8Array {
  const tags = (o.vlans ?? []).flatMap((t) => [...be16(t.tpid ?? 0x8100), ...be16(((t.pcp ?? 0) << 13) | t.vid)])
  return concat(mac(o.dst ?? '02:00:00:00:00:02'), mac(o.src ?? '02:00:00:00:00:01'), tags, be16(o.type), payload)
}

/** Pad to the 60-byte Ethernet minimum (without FCS), as NICs do. */
export function padTo60(frame: Uint8Array): Uint8Array {
  return frame.length >= 60 ? frame : concat(frame, new Array<number>(60 - frame.length).fill(0))
}

export interface SllOpts {
  pktType?: number
  hatype?: number
  addr?: string
  proto: number
}

export function sll(o: SllOpts, payload: Bytes): Uint8Array {
  const addr = mac(o.addr ?? '02:00:00:00:00:01')
  return concat(be16(o.pktType ?? 0), be16(o.hatype ?? 1), be16(6), addr, [0, 0], be16(o.proto), payload)
}

export interface Sll2Opts {
  proto: number
  ifindex?: number
  hatype?: number
  pktType?: number
  addr?: string
}

export function sll2(o: Sll2Opts, payload: Bytes): Uint8Array {
  const addr = mac(o.addr ?? '02:00:00:00:00:01')
  return concat(
    be16(o.proto),
    [0, 0],
    be32(o.ifindex ?? 1),
    be16(o.hatype ?? 1),
    [o.pktType ?? 0, 6],
    addr,
    [0, 0],
    payload,
  )
}

/** BSD NULL / LOOP header: address family in the given byte order. */
export function nullHdr(family: number, littleEndian: boolean, payload: Bytes): Uint8Array {
  return concat(littleEndian ? le32(family) : be32(family), payload)
}

// ---------------------------------------------------------------- network layers

export interface Ipv4Opts {
  src: string
  dst: string
  proto: number
  ttl?: number
  id?: number
  tos?: number
  df?: boolean
  mf?: boolean
  /** In bytes (multiple of 8). */
  fragOffset?: number
  /** Raw option bytes, padded here to a multiple of 4. */
  options?: number[]
  /** Override the computed total length (malformed frames). */
  totalLen?: number
  /** Override the IHL nibble (malformed frames). */
  ihl?: number
  version?: number
}

export function ipv4(o: Ipv4Opts, payload: Bytes): Uint8Array {
  const opts = [...(o.options ?? [])]
  while (opts.length % 4 !== 0) opts.push(0)
  const hl = 20 + opts.length
  const ihl = o.ihl ?? hl / 4
  const flags = (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) >> 3)
  const hdr = [
    ((o.version ?? 4) << 4) | ihl,
    o.tos ?? 0,
    ...be16(o.totalLen ?? hl + payload.length),
    ...be16(o.id ?? 0x1234),
    ...be16(flags),
    o.ttl ?? 64,
    o.proto,
    0,
    0,
    ...ip4(o.src),
    ...ip4(o.dst),
    ...opts,
  ]
  const ck = inetChecksum(hdr)
  hdr[10] = ck >>> 8
  hdr[11] = ck & 0xff
  return concat(hdr, payload)
}

/** One IPv6 extension header: `type` is its own header type (0, 43, 44, 51, 60). */
export interface Ipv6Ext {
  type: number
  /** Body bytes after next-header/length (padded here to the unit size). Ignored for fragment. */
  body?: number[]
  /** Fragment header fields. */
  fragOffset?: number
  more?: boolean
  id?: number
}

export interface Ipv6Opts {
  src: string
  dst: string
  /** Upper-layer protocol after the extension headers. */
  proto: number
  hopLimit?: number
  trafficClass?: number
  ext?: Ipv6Ext[]
  /** Override payload length (malformed frames). */
  payloadLen?: number
}

function extBytes(e: Ipv6Ext, next: number): number[] {
  if (e.type === 44) {
    return [next, 0, ...be16((e.fragOffset ?? 0) | (e.more ? 1 : 0)), ...be32(e.id ?? 0xabcdef01)]
  }
  const body = [...(e.body ?? [])]
  if (e.type === 51) {
    // AH: length in 4-byte units minus 2; body = SPI(4) + seq(4) + ICV.
    while ((body.length + 2) % 4 !== 0 || body.length < 10) body.push(0)
    return [next, (body.length + 2) / 4 - 2, ...body]
  }
  while ((body.length + 2) % 8 !== 0) body.push(0)
  return [next, (body.length + 2) / 8 - 1, ...body]
}

export function ipv6(o: Ipv6Opts, payload: Bytes): Uint8Array {
  const exts = o.ext ?? []
  const extParts: number[][] = []
  for (let i = 0; i < exts.length; i++) extParts.push(extBytes(exts[i], i + 1 < exts.length ? exts[i + 1].type : o.proto))
  const extLen = extParts.reduce((n, p) => n + p.length, 0)
  const first = exts.length > 0 ? exts[0].type : o.proto
  const tc = o.trafficClass ?? 0
  const hdr = [
    0x60 | (tc >> 4),
    (tc & 0x0f) << 4,
    0,
    0,
    ...be16(o.payloadLen ?? extLen + payload.length),
    first,
    o.hopLimit ?? 64,
    ...ip6(o.src),
    ...ip6(o.dst),
  ]
  return concat(hdr, ...extParts, payload)
}

// ---------------------------------------------------------------- transport

export const TCP = {FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80} as const

export const tcpOpt = {
  eol: (): number[] => [0],
  nop: (): number[] => [1],
  mss: (n: number): number[] => [2, 4, ...be16(n)],
  wscale: (n: number): number[] => [3, 3, n],
  sackPerm: (): number[] => [4, 2],
  sack: (blocks: Array<[number, number]>): number[] => [5, 2 + 8 * blocks.length, ...blocks.flatMap(([l, r]) => [...be32(l), ...be32(r)])],
  ts: (val: number, ecr: number): number[] => [8, 10, ...be32(val), ...be32(ecr)],
}

export interface TcpOpts {
  sport: number
  dport: number
  seq?: number
  ack?: number
  flags?: number
  window?: number
  urgent?: number
  /** Raw option bytes (use tcpOpt.*), padded here with EOL to a multiple of 4. */
  options?: number[]
  /** Override the data-offset nibble (malformed frames). */
  dataOffset?: number
}

export function tcp(o: TcpOpts, payload: Bytes = []): Uint8Array {
  const opts = [...(o.options ?? [])]
  while (opts.length % 4 !== 0) opts.push(0)
  const doff = o.dataOffset ?? (20 + opts.length) / 4
  return concat(
    be16(o.sport),
    be16(o.dport),
    be32(o.seq ?? 1000),
    be32(o.ack ?? 0),
    [doff << 4, o.flags ?? TCP.ACK],
    be16(o.window ?? 65535),
    [0xbe, 0xef],
    be16(o.urgent ?? 0),
    opts,
    payload,
  )
}

export function udp(o: {sport: number; dport: number; len?: number}, payload: Bytes = []): Uint8Array {
  return concat(be16(o.sport), be16(o.dport), be16(o.len ?? 8 + payload.length), [0, 0], payload)
}

/** ICMP / ICMPv6 message; `rest` is the 4 bytes after the checksum (id/seq, MTU, unused). */
export function icmp(type: number, code: number, payload: Bytes = [], rest: number[] = [0, 0, 0, 0]): Uint8Array {
  const msg = concat([type, code, 0, 0], rest, payload)
  const ck = inetChecksum(msg)
  msg[2] = ck >>> 8
  msg[3] = ck & 0xff
  return msg
}

export interface ArpOpts {
  op: number
  senderMac: string
  senderIp: string
  targetMac?: string
  targetIp: string
}

export function arp(o: ArpOpts): Uint8Array {
  return concat(
    be16(1),
    be16(0x0800),
    [6, 4],
    be16(o.op),
    mac(o.senderMac),
    ip4(o.senderIp),
    mac(o.targetMac ?? '00:00:00:00:00:00'),
    ip4(o.targetIp),
  )
}

// ---------------------------------------------------------------- files

/** A little-endian microsecond classic pcap holding `frames` (1 s apart) with one link type. */
export function pcapFile(linktype: number, frames: readonly Uint8Array[], snaplen = 262144): Uint8Array {
  const parts: Bytes[] = [le32(0xa1b2c3d4), [2, 0, 4, 0], le32(0), le32(0), le32(snaplen), le32(linktype)]
  frames.forEach((f, i) => {
    parts.push(le32(1_700_000_000 + i), le32(0), le32(f.length), le32(f.length), f)
  })
  return concat(...parts)
}
