/**
 * Frame decoder entry points: link layer → IP (through IPIP / IPv6-in-IP tunnels) → transport.
 * Fills the caller's reusable Packet and allocates nothing. Bad input never throws: decoding stops
 * with `pkt.stop` set, and the fields of the layers completed before that remain valid.
 */
import type {CaptureRecord} from '../capture/record.js'
import {decodeArp} from './arp.js'
import {decodeIcmp} from './icmp.js'
import {decodeIPv4, decodeIPv6} from './ip.js'
import {decodeEthernet, decodeNull, decodeRaw, decodeSll, decodeSll2} from './link.js'
import {LINKTYPE} from './linktypes.js'
import {
  Dirty,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Stop,
} from './packet.js'
import type {Packet} from './packet.js'
import {decodeTcp} from './tcp.js'
import {decodeUdp} from './udp.js'

/** Nested tunnels beyond this are not unwrapped (LVS TUN uses one level). */
const MAX_TUNNEL_DEPTH = 4

/**
 * Decode one frame into `pkt` (reset first). Never throws; sets pkt.stop on truncation/malformation/unsupported.
 *
 * `fcsLen` is the FCS length of the original frame. `origlen` (the original frame length, -1 when
 * unknown) serves two purposes: an FCS only partly captured is trimmed only as far as it is
 * present, and — as in Wireshark — when the original frame is shorter than the IP header claims,
 * the payload length is what the frame really held (tcp.len for such frames). A snaplen cut
 * (origlen > caplen) never shortens payloadLen.
 */
export function decodeFrame(
  data: Uint8Array,
  offset: number,
  caplen: number,
  linktype: number,
  pkt: Packet,
  fcsLen = 0,
  origlen = -1,
): Packet {
  pkt.reset(data)
  let end = offset + caplen
  if (end > data.length) end = data.length
  // Written as negations so NaN also lands here.
  if (!(offset >= 0) || !(end >= offset)) {
    pkt.stop = Stop.Truncated
    return pkt
  }
  let repEnd = Infinity
  let capFcs = fcsLen
  if (origlen >= caplen) {
    repEnd = offset + origlen - fcsLen
    capFcs = fcsLen - (origlen - caplen)
  }
  if (capFcs > 0 && end - offset >= capFcs) end -= capFcs
  if (repEnd < end) repEnd = end

  let off: number
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      off = decodeEthernet(data, offset, end, pkt)
      break
    case LINKTYPE.LINUX_SLL:
      off = decodeSll(data, offset, end, pkt)
      break
    case LINKTYPE.LINUX_SLL2:
      off = decodeSll2(data, offset, end, pkt)
      break
    case LINKTYPE.RAW:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
      off = decodeRaw(data, offset, end, pkt, 0)
      break
    case LINKTYPE.IPV4:
      off = decodeRaw(data, offset, end, pkt, 4)
      break
    case LINKTYPE.IPV6:
      off = decodeRaw(data, offset, end, pkt, 6)
      break
    case LINKTYPE.NULL:
      off = decodeNull(data, offset, end, pkt, false)
      break
    case LINKTYPE.LOOP:
      off = decodeNull(data, offset, end, pkt, true)
      break
    default:
      pkt.stop = Stop.Unsupported
      return pkt
  }
  if (off < 0) return pkt

  switch (pkt.ethertype) {
    case ETHERTYPE_IPV4:
      decodeIp(data, off, end, repEnd, pkt, 4)
      break
    case ETHERTYPE_IPV6:
      decodeIp(data, off, end, repEnd, pkt, 6)
      break
    case ETHERTYPE_ARP:
      decodeArp(data, off, end, pkt)
      break
    default:
      pkt.stop = Stop.Unsupported
  }
  return pkt
}

/** Convenience wrapper for a reader's record. */
export function decodeRecord(rec: CaptureRecord, pkt: Packet): Packet {
  return decodeFrame(rec.data, rec.offset, rec.caplen, rec.linktype, pkt, rec.fcsLen, rec.origlen)
}

/** Copy the outer IP header's identity into tunnel* before the inner header overwrites it. */
function saveOuter(pkt: Packet): void {
  pkt.dirty |= Dirty.Tunnel
  pkt.tunnelVersion = pkt.ipVersion
  pkt.tunnelL3Off = pkt.l3Off
  pkt.tunnelV4Src = pkt.v4Src
  pkt.tunnelV4Dst = pkt.v4Dst
  pkt.tunnelV6Src.set(pkt.v6Src)
  pkt.tunnelV6Dst.set(pkt.v6Dst)
  pkt.tunnelTtl = pkt.ttl
  pkt.tunnelIpId = pkt.ipId
}

/** Transport length: what the IP header says, unless the original frame was shorter (then what it held). */
function l4Length(pkt: Packet, repEnd: number): number {
  const avail = repEnd - pkt.l3Off
  return (pkt.ipTotalLen < avail ? pkt.ipTotalLen : avail) - pkt.ipHdrLen
}

function decodeIp(d: Uint8Array, off: number, end: number, repEnd: number, pkt: Packet, version: number): void {
  let l4 = version === 4 ? decodeIPv4(d, off, end, repEnd, pkt) : decodeIPv6(d, off, end, repEnd, pkt)
  for (let depth = 0; ; depth++) {
    // A non-first fragment carries no transport header: the IP layer is all there is.
    if (l4 < 0 || pkt.fragOffset !== 0) return
    const proto = pkt.proto
    if ((proto !== IPPROTO_IPIP && proto !== IPPROTO_IPV6) || depth >= MAX_TUNNEL_DEPTH) break
    if (pkt.tunnelVersion === 0) saveOuter(pkt)
    // The inner packet ends where the outer one does (Ethernet padding is not part of it).
    const outerEnd = pkt.l3Off + pkt.ipTotalLen
    const innerEnd = outerEnd < end ? outerEnd : end
    const outerRep = l4 + l4Length(pkt, repEnd)
    if (outerRep < repEnd) repEnd = outerRep
    // Until the inner header decodes, the main IP fields describe nothing valid.
    pkt.ipVersion = 0
    pkt.proto = 0
    l4 = proto === IPPROTO_IPIP ? decodeIPv4(d, l4, innerEnd, repEnd, pkt) : decodeIPv6(d, l4, innerEnd, repEnd, pkt)
  }

  // Never negative: repEnd >= the captured end, which holds the whole IP header.
  const l4Len = l4Length(pkt, repEnd)
  switch (pkt.proto) {
    case IPPROTO_TCP:
      decodeTcp(d, l4, end, l4Len, pkt)
      break
    case IPPROTO_UDP:
      decodeUdp(d, l4, end, l4Len, pkt)
      break
    case IPPROTO_ICMP:
      decodeIcmp(d, l4, end, l4Len, pkt, false)
      break
    case IPPROTO_ICMPV6:
      decodeIcmp(d, l4, end, l4Len, pkt, true)
      break
    default:
      // Other transports (GRE, ESP, SCTP, …): only the offset is known.
      pkt.l4Off = l4
  }
}
