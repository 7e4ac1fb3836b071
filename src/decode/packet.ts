/**
 * The decoded view of one frame. One Packet object is reused for every frame of a capture: the
 * decoder overwrites numbers and offsets in place and allocates nothing. Offsets point into the
 * record's shared buffer (`data`), valid only while that record is current. Addresses are kept as
 * numbers (IPv4) or as four uint32 words (IPv6); strings are built only for flows and findings
 * (see `./format.ts`).
 */

/** What the link layer was. */
export const Link = {None: 0, Ethernet: 1, Sll: 2, Sll2: 3, Raw: 4, Null: 5} as const
export type Link = (typeof Link)[keyof typeof Link]

/** Which layer the decode stopped at, when it stopped early. */
export const Stop = {
  Ok: 0,
  /** The frame ends before a header that should be there. */
  Truncated: 1,
  /** A length or version field makes no sense. */
  Malformed: 2,
  /** A link type or EtherType we do not decode (counted, not an error). */
  Unsupported: 3,
} as const
export type Stop = (typeof Stop)[keyof typeof Stop]

export const IPPROTO_ICMP = 1
export const IPPROTO_IPIP = 4
export const IPPROTO_TCP = 6
export const IPPROTO_UDP = 17
export const IPPROTO_IPV6 = 41
export const IPPROTO_ICMPV6 = 58

export const TCP_FIN = 0x01
export const TCP_SYN = 0x02
export const TCP_RST = 0x04
export const TCP_PSH = 0x08
export const TCP_ACK = 0x10
export const TCP_URG = 0x20
export const TCP_ECE = 0x40
export const TCP_CWR = 0x80

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_ARP = 0x0806
export const ETHERTYPE_IPV6 = 0x86dd

/**
 * Field groups most frames leave at their defaults. A decoder that writes into one sets its bit in
 * `Packet.dirty`; `reset` then restores the group.
 */
export const Dirty = {LinkExtra: 1, V6: 2, Tunnel: 4, TcpOptions: 8, Icmp: 16, Arp: 32} as const

/** Four stores beat TypedArray.fill for a 4-word address (fill costs ~15 ns each in V8). */
function zero4(a: Uint32Array): void {
  a[0] = 0
  a[1] = 0
  a[2] = 0
  a[3] = 0
}

export class Packet {
  /** Buffer the offsets below point into (the record's `data`). */
  data: Uint8Array = new Uint8Array(0)
  /** Where decoding stopped early (Stop.Ok when the whole stack was understood). */
  stop: Stop = Stop.Ok

  // ---- link layer ----
  link: Link = Link.None
  /** Offset of the 6-byte source / destination MAC, -1 when the link layer has none. */
  macSrcOff = -1
  macDstOff = -1
  /** Number of 802.1Q/802.1ad tags and the first two VLAN IDs (outermost first), -1 if absent. */
  vlanCount = 0
  vlanOuter = -1
  vlanInner = -1
  /** Linux SLL/SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 otherhost, 4 outgoing), -1 otherwise. */
  sllPktType = -1
  /** SLL2 interface index, -1 otherwise. */
  sllIfIndex = -1
  /** EtherType (or equivalent protocol) of the network layer. */
  ethertype = 0

  // ---- network layer (the innermost IP header when tunnelled) ----
  /** 0 = no IP, 4 or 6. */
  ipVersion = 0
  l3Off = -1
  /** Bytes from l3Off to the transport header: IPv4 header with options, or IPv6 header plus extension headers. */
  ipHdrLen = 0
  /** IPv4 total length, or IPv6 40 + payload length: what the IP header says the packet is. */
  ipTotalLen = 0
  /** IPv4 source/destination as unsigned 32-bit numbers (0 for IPv6). */
  v4Src = 0
  v4Dst = 0
  /** IPv6 addresses as four big-endian uint32 words each (zeros for IPv4). */
  readonly v6Src = new Uint32Array(4)
  readonly v6Dst = new Uint32Array(4)
  /** TTL / hop limit. */
  ttl = 0
  /** IPv4 identification; -1 for IPv6 without a fragment header. */
  ipId = -1
  df = false
  /** True for any IPv4/IPv6 fragment (MF set or offset > 0); L4 fields are filled only for offset 0. */
  fragment = false
  /** Fragment offset in bytes (not 8-byte units). */
  fragOffset = 0
  ipChecksum = 0
  dscp = 0
  /** Transport protocol after IPv6 extension headers (6, 17, 1, 58, …). */
  proto = 0

  // ---- tunnel (LVS TUN: IPIP / IPv6-in-IPv4); the fields above describe the inner packet ----
  /** 0 when not tunnelled; otherwise the outer IP version. */
  tunnelVersion = 0
  tunnelL3Off = -1
  tunnelV4Src = 0
  tunnelV4Dst = 0
  tunnelTtl = 0
  tunnelIpId = -1
  /** Outer IPv6 addresses when the outer header is IPv6 (ip6ip6 / IPv4-in-IPv6 LVS TUN), zeros otherwise. */
  readonly tunnelV6Src = new Uint32Array(4)
  readonly tunnelV6Dst = new Uint32Array(4)

  // ---- transport ----
  l4Off = -1
  sport = 0
  dport = 0

  // TCP (valid when proto === 6 and stop === Ok)
  /** Raw sequence and acknowledgement numbers as unsigned 32-bit numbers. */
  seq = 0
  ack = 0
  /** The 8 classic flag bits (FIN … CWR); the AE/NS and reserved bits are not included. */
  tcpFlags = 0
  /** Raw 16-bit window from the header (unscaled). */
  window = 0
  tcpHdrLen = 0
  tcpChecksum = 0
  urgentPtr = 0
  /** TCP options, -1 when absent. */
  mss = -1
  wscale = -1
  sackPermitted = false
  /** SACK blocks (left/right edges, raw), up to 4. */
  sackCount = 0
  readonly sackLeft = new Uint32Array(4)
  readonly sackRight = new Uint32Array(4)
  hasTimestamps = false
  tsVal = 0
  tsEcr = 0

  // UDP (valid when proto === 17)
  udpLen = 0

  /**
   * Payload of the transport layer: `payloadLen` is what the IP header says (Wireshark's
   * tcp.len / seglen, independent of snaplen); `payloadCaptured` is how much of it is in the frame.
   */
  payloadOff = -1
  payloadLen = 0
  payloadCaptured = 0

  // ICMP / ICMPv6 (valid when proto === 1 or 58)
  icmpType = -1
  icmpCode = -1
  /** The header quoted inside an ICMP error, when present: protocol, addresses, ports, TCP seq. */
  icmpInnerProto = -1
  icmpInnerV4Src = 0
  icmpInnerV4Dst = 0
  /** Quoted IPv6 addresses of an ICMPv6 error (zeros otherwise). */
  readonly icmpInnerV6Src = new Uint32Array(4)
  readonly icmpInnerV6Dst = new Uint32Array(4)
  icmpInnerSport = -1
  icmpInnerDport = -1
  icmpInnerSeq = -1

  // ARP (valid when ethertype === 0x0806)
  arpOp = 0
  arpSenderMacOff = -1
  arpSenderIp = 0
  arpTargetMacOff = -1
  arpTargetIp = 0

  /**
   * Which groups of rarely set fields (Dirty bits) a decoder wrote since the last reset: reset()
   * restores only those, which halves the cost of decoding a plain TCP frame.
   */
  dirty = 0

  /** The transport payload: `len` bytes at `off` as the IP header sizes them, of which the frame holds those before `end`. */
  setPayload(off: number, len: number, end: number): void {
    this.payloadOff = off
    this.payloadLen = len
    const cap = end - off
    this.payloadCaptured = cap < len ? cap : len
  }

  /** Reset every field so nothing leaks from the previous frame. */
  reset(data: Uint8Array): void {
    this.data = data
    this.stop = Stop.Ok
    this.link = Link.None
    this.macSrcOff = -1
    this.macDstOff = -1
    this.ethertype = 0
    this.ipVersion = 0
    this.l3Off = -1
    this.ipHdrLen = 0
    this.ipTotalLen = 0
    this.v4Src = 0
    this.v4Dst = 0
    this.ttl = 0
    this.ipId = -1
    this.df = false
    this.fragment = false
    this.fragOffset = 0
    this.ipChecksum = 0
    this.dscp = 0
    this.proto = 0
    this.l4Off = -1
    this.sport = 0
    this.dport = 0
    this.seq = 0
    this.ack = 0
    this.tcpFlags = 0
    this.window = 0
    this.tcpHdrLen = 0
    this.tcpChecksum = 0
    this.urgentPtr = 0
    this.udpLen = 0
    this.payloadOff = -1
    this.payloadLen = 0
    this.payloadCaptured = 0
    const dirty = this.dirty
    if (dirty !== 0) this.resetDirty(dirty)
  }

  private resetDirty(dirty: number): void {
    this.dirty = 0
    if (dirty & Dirty.LinkExtra) {
      this.vlanCount = 0
      this.vlanOuter = -1
      this.vlanInner = -1
      this.sllPktType = -1
      this.sllIfIndex = -1
    }
    if (dirty & Dirty.V6) {
      zero4(this.v6Src)
      zero4(this.v6Dst)
    }
    if (dirty & Dirty.Tunnel) {
      this.tunnelVersion = 0
      this.tunnelL3Off = -1
      this.tunnelV4Src = 0
      this.tunnelV4Dst = 0
      this.tunnelTtl = 0
      this.tunnelIpId = -1
      zero4(this.tunnelV6Src)
      zero4(this.tunnelV6Dst)
    }
    if (dirty & Dirty.TcpOptions) {
      this.mss = -1
      this.wscale = -1
      this.sackPermitted = false
      this.sackCount = 0
      this.hasTimestamps = false
      this.tsVal = 0
      this.tsEcr = 0
    }
    if (dirty & Dirty.Icmp) {
      this.icmpType = -1
      this.icmpCode = -1
      this.icmpInnerProto = -1
      this.icmpInnerV4Src = 0
      this.icmpInnerV4Dst = 0
      zero4(this.icmpInnerV6Src)
      zero4(this.icmpInnerV6Dst)
      this.icmpInnerSport = -1
      this.icmpInnerDport = -1
      this.icmpInnerSeq = -1
    }
    if (dirty & Dirty.Arp) {
      this.arpOp = 0
      this.arpSenderMacOff = -1
      this.arpSenderIp = 0
      this.arpTargetMacOff = -1
      this.arpTargetIp = 0
    }
  }
}
