/**
 * Link-layer decoders. Each takes the frame window [off, end), fills the link fields of `pkt`,
 * leaves the network-layer EtherType in `pkt.ethertype` and returns the offset of the network
 * header — or -1 after setting `pkt.stop`.
 */
import {u16, u32, u32le} from './bytes.js'
import {Dirty, ETHERTYPE_IPV4, ETHERTYPE_IPV6, Link, Stop} from './packet.js'
import type {Packet} from './packet.js'

const ETHERTYPE_VLAN = 0x8100
const ETHERTYPE_QINQ = 0x88a8
/** Pre-standard QinQ TPIDs still emitted by some switches. */
const ETHERTYPE_QINQ_OLD1 = 0x9100
const ETHERTYPE_QINQ_OLD2 = 0x9200

const ARPHRD_ETHER = 1
const ARPHRD_LOOPBACK = 772

/** Values below this are 802.3 lengths (or SLL pseudo-protocols), not EtherTypes. */
const MIN_ETHERTYPE = 0x0600

function isVlanTpid(t: number): boolean {
  return t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD1 || t === ETHERTYPE_QINQ_OLD2
}

/**
 * Walk 802.1Q / 802.1ad tags of any depth starting at `off` (just after a TPID already stored in
 * pkt.ethertype). Records the first two VIDs. Depth is bounded by the frame length.
 */
function vlanTags(d: Uint8Array, off: number, end: number, pkt: Packet): number {
  while (isVlanTpid(pkt.ethertype)) {
    if (off + 4 > end) {
      pkt.stop = Stop.Truncated
      return -1
    }
    const vid = u16(d, off) & 0x0fff
    pkt.dirty |= Dirty.LinkExtra
    if (pkt.vlanCount === 0) pkt.vlanOuter = vid
    else if (pkt.vlanCount === 1) pkt.vlanInner = vid
    pkt.vlanCount++
    pkt.ethertype = u16(d, off + 2)
    off += 4
  }
  if (pkt.ethertype < MIN_ETHERTYPE) {
    // 802.3 length field / LLC: nothing an LVS analysis needs.
    pkt.stop = Stop.Unsupported
    return -1
  }
  return off
}

export function decodeEthernet(d: Uint8Array, off: number, end: number, pkt: Packet): number {
  pkt.link = Link.Ethernet
  if (off + 14 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  pkt.macDstOff = off
  pkt.macSrcOff = off + 6
  pkt.ethertype = u16(d, off + 12)
  return vlanTags(d, off + 14, end, pkt)
}

/** Linux "cooked" v1 (LINKTYPE_LINUX_SLL, 16 bytes). */
export function decodeSll(d: Uint8Array, off: number, end: number, pkt: Packet): number {
  pkt.link = Link.Sll
  if (off + 16 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  pkt.dirty |= Dirty.LinkExtra
  pkt.sllPktType = u16(d, off)
  const hatype = u16(d, off + 2)
  const halen = u16(d, off + 4)
  // The one address SLL keeps is the sender's link-layer address.
  if (halen === 6 && (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK)) pkt.macSrcOff = off + 6
  pkt.ethertype = u16(d, off + 14)
  // libpcap re-inserts a stripped 802.1Q tag right after the SLL header.
  return vlanTags(d, off + 16, end, pkt)
}

/** Linux "cooked" v2 (LINKTYPE_LINUX_SLL2, 20 bytes). */
export function decodeSll2(d: Uint8Array, off: number, end: number, pkt: Packet): number {
  pkt.link = Link.Sll2
  if (off + 20 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  pkt.ethertype = u16(d, off)
  pkt.dirty |= Dirty.LinkExtra
  pkt.sllIfIndex = u32(d, off + 4) | 0
  const hatype = u16(d, off + 8)
  pkt.sllPktType = d[off + 10]
  if (d[off + 11] === 6 && (hatype === ARPHRD_ETHER || hatype === ARPHRD_LOOPBACK)) pkt.macSrcOff = off + 12
  return vlanTags(d, off + 20, end, pkt)
}

/** Map a BSD address family to an EtherType; 0 when it is not IP. */
function familyToEthertype(family: number): number {
  if (family === 2) return ETHERTYPE_IPV4
  // AF_INET6 differs per BSD: 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD), 30 (Darwin).
  if (family === 24 || family === 28 || family === 30) return ETHERTYPE_IPV6
  return 0
}

/**
 * NULL (family in the capturing host's byte order) and LOOP (always big-endian). A family fits
 * in 16 bits, so a NULL word with high bits set was written in the other byte order.
 */
export function decodeNull(d: Uint8Array, off: number, end: number, pkt: Packet, bigEndian: boolean): number {
  pkt.link = Link.Null
  if (off + 4 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  let family: number
  if (bigEndian) {
    family = u32(d, off)
  } else {
    family = u32le(d, off)
    if ((family & 0xffff0000) !== 0) family = u32(d, off)
  }
  const et = familyToEthertype(family)
  if (et === 0) {
    pkt.stop = Stop.Unsupported
    return -1
  }
  pkt.ethertype = et
  return off + 4
}

/**
 * Raw IP: the version nibble decides. `only` is 4 or 6 for LINKTYPE_IPV4/IPV6 (a mismatching
 * version is then malformed), 0 for LINKTYPE_RAW and the DLT 12/14 aliases.
 */
export function decodeRaw(d: Uint8Array, off: number, end: number, pkt: Packet, only: number): number {
  pkt.link = Link.Raw
  if (off + 1 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  const version = d[off] >> 4
  if (version === 4 && only !== 6) pkt.ethertype = ETHERTYPE_IPV4
  else if (version === 6 && only !== 4) pkt.ethertype = ETHERTYPE_IPV6
  else {
    pkt.stop = Stop.Malformed
    return -1
  }
  return off
}
