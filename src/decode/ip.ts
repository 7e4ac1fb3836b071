/**
 * IPv4 and IPv6 (with extension headers). Each decoder overwrites every network-layer field of
 * `pkt` (so a tunnel's inner header cleanly replaces the outer one) and returns the offset of the
 * transport header, or -1 after setting `pkt.stop`.
 */
import {u16, u32} from './bytes.js'
import {Dirty, Stop} from './packet.js'
import type {Packet} from './packet.js'

const EXT_HOP_BY_HOP = 0
const EXT_ROUTING = 43
const EXT_FRAGMENT = 44
const EXT_AH = 51
const EXT_DEST_OPTS = 60

/**
 * `repEnd` is where the frame ends as originally sent (origlen; Infinity when unknown): Linux
 * TSO/GSO captures carry IP length 0, and like Wireshark we then size the packet by the frame.
 */
export function decodeIPv4(d: Uint8Array, off: number, end: number, repEnd: number, pkt: Packet): number {
  pkt.l3Off = off
  if (off + 20 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  const vihl = d[off]
  const ihl = (vihl & 0x0f) << 2
  if (vihl >> 4 !== 4 || ihl < 20) {
    pkt.stop = Stop.Malformed
    return -1
  }
  pkt.ipVersion = 4
  pkt.ipHdrLen = ihl
  let total = u16(d, off + 2)
  if (total === 0) total = (repEnd < Infinity ? repEnd : end) - off
  pkt.ipTotalLen = total
  pkt.dscp = d[off + 1] >> 2
  pkt.ipId = u16(d, off + 4)
  const ff = u16(d, off + 6)
  pkt.df = (ff & 0x4000) !== 0
  pkt.fragOffset = (ff & 0x1fff) << 3
  pkt.fragment = (ff & 0x2000) !== 0 || pkt.fragOffset !== 0
  pkt.ttl = d[off + 8]
  pkt.proto = d[off + 9]
  pkt.ipChecksum = u16(d, off + 10)
  pkt.v4Src = u32(d, off + 12)
  pkt.v4Dst = u32(d, off + 16)
  if (pkt.dirty & Dirty.V6) {
    // An outer IPv6 header of a tunnel left its addresses here.
    const s6 = pkt.v6Src
    const d6 = pkt.v6Dst
    s6[0] = s6[1] = s6[2] = s6[3] = 0
    d6[0] = d6[1] = d6[2] = d6[3] = 0
  }
  if (total < ihl) {
    pkt.stop = Stop.Malformed
    return -1
  }
  if (off + ihl > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  if (pkt.proto !== EXT_AH || pkt.fragOffset !== 0) return off + ihl
  // IPsec AH (transport or tunnel mode) sits between IPv4 and the next protocol, as in IPv6;
  // counting it into ipHdrLen keeps l4Off = l3Off + ipHdrLen.
  let p = off + ihl
  while (pkt.proto === EXT_AH) {
    if (p + 2 > end) {
      pkt.stop = Stop.Truncated
      return -1
    }
    const len = (d[p + 1] + 2) << 2
    if (p + len > off + total) {
      pkt.stop = Stop.Malformed
      return -1
    }
    if (p + len > end) {
      pkt.stop = Stop.Truncated
      return -1
    }
    pkt.proto = d[p]
    p += len
  }
  pkt.ipHdrLen = p - off
  return p
}

/**
 * Result of walking IPv6 extension headers. Module-level scratch (one object for the process) so
 * the walk can return several numbers without allocating.
 */
export const ext = {
  /** Offset of the first non-extension header, or -1 when the walk stopped early. */
  off: 0,
  /** Next-header value there (upper-layer protocol, or 50 ESP / 59 no-next). */
  proto: 0,
  hasFragment: false,
  fragOffset: 0,
  moreFragments: false,
  fragId: 0,
  stop: 0 as Stop,
}

/**
 * Walk extension headers from `off` with next-header `nh`, staying inside both the captured bytes
 * (`end`) and the packet as the IPv6 header sizes it (`limit`). Stops at the first header that is
 * not an extension header, at ESP (encrypted from there on) and after a non-first fragment
 * header (what follows is data).
 */
export function walkIPv6Ext(d: Uint8Array, off: number, end: number, limit: number, nh: number): void {
  ext.hasFragment = false
  ext.fragOffset = 0
  ext.moreFragments = false
  ext.fragId = 0
  ext.stop = Stop.Ok
  for (;;) {
    let len: number
    if (nh === EXT_HOP_BY_HOP || nh === EXT_ROUTING || nh === EXT_DEST_OPTS) {
      if (off + 2 > end) break
      len = (d[off + 1] + 1) << 3
    } else if (nh === EXT_AH) {
      if (off + 2 > end) break
      len = (d[off + 1] + 2) << 2
    } else if (nh === EXT_FRAGMENT) {
      len = 8
      if (off + 8 > end) break
      const fo = u16(d, off + 2)
      ext.hasFragment = true
      ext.fragOffset = fo & 0xfff8
      ext.moreFragments = (fo & 1) !== 0
      ext.fragId = u32(d, off + 4)
    } else {
      ext.off = off
      ext.proto = nh
      return
    }
    if (off + len > limit) {
      ext.stop = Stop.Malformed
      ext.off = -1
      ext.proto = nh
      return
    }
    if (off + len > end) break
    nh = d[off]
    off += len
    if (ext.hasFragment && ext.fragOffset !== 0) {
      ext.off = off
      ext.proto = nh
      return
    }
  }
  ext.stop = Stop.Truncated
  ext.off = -1
  ext.proto = nh
}

export function decodeIPv6(d: Uint8Array, off: number, end: number, repEnd: number, pkt: Packet): number {
  pkt.l3Off = off
  if (off + 40 > end) {
    pkt.stop = Stop.Truncated
    return -1
  }
  if (d[off] >> 4 !== 6) {
    pkt.stop = Stop.Malformed
    return -1
  }
  pkt.ipVersion = 6
  const plen = u16(d, off + 4)
  // 0 = jumbogram / BIG TCP or TSO/GSO; either way the frame is the best size we have.
  const total = plen === 0 ? (repEnd < Infinity ? repEnd : end) - off : 40 + plen
  pkt.ipTotalLen = total
  pkt.dscp = (u16(d, off) >> 6) & 0x3f
  pkt.ttl = d[off + 7]
  pkt.ipChecksum = 0
  pkt.v4Src = 0
  pkt.v4Dst = 0
  pkt.dirty |= Dirty.V6
  for (let i = 0; i < 4; i++) {
    pkt.v6Src[i] = u32(d, off + 8 + 4 * i)
    pkt.v6Dst[i] = u32(d, off + 24 + 4 * i)
  }
  walkIPv6Ext(d, off + 40, end, off + total, d[off + 6])
  pkt.proto = ext.proto
  pkt.df = false
  pkt.ipId = ext.hasFragment ? ext.fragId : -1
  pkt.fragOffset = ext.fragOffset
  pkt.fragment = ext.hasFragment && (ext.moreFragments || ext.fragOffset !== 0)
  if (ext.off < 0) {
    pkt.ipHdrLen = 40
    pkt.stop = ext.stop
    return -1
  }
  pkt.ipHdrLen = ext.off - off
  return ext.off
}
