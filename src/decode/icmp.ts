/**
 * ICMP and ICMPv6, including the header quoted by error messages: that quote names the flow an
 * error refers to (e.g. "port unreachable" or "fragmentation needed" for a real server's reply).
 * A short quote is not an error — RFC 792 only promises 8 bytes past the IP header — so quote
 * fields are filled as far as the captured bytes allow and never set pkt.stop.
 */
import {u16, u32} from './bytes.js'
import {ext, walkIPv6Ext} from './ip.js'
import {Dirty, IPPROTO_TCP, IPPROTO_UDP, Stop} from './packet.js'
import type {Packet} from './packet.js'

const IPPROTO_SCTP = 132

function isIcmp4Error(type: number): boolean {
  // dest unreachable, source quench, redirect, time exceeded, parameter problem
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12
}

function isIcmp6Error(type: number): boolean {
  // dest unreachable, packet too big, time exceeded, parameter problem
  return type >= 1 && type <= 4
}

export function decodeIcmp(d: Uint8Array, off: number, end: number, l4Len: number, pkt: Packet, v6: boolean): boolean {
  pkt.l4Off = off
  if (off + 8 > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.dirty |= Dirty.Icmp
  pkt.icmpType = d[off]
  pkt.icmpCode = d[off + 1]
  if (l4Len < 8) {
    pkt.stop = Stop.Malformed
    return false
  }
  pkt.setPayload(off + 8, l4Len - 8, end)
  // The quote must also lie inside the ICMP message as the IP header sizes it.
  const qEnd = off + l4Len < end ? off + l4Len : end
  if (v6) {
    if (isIcmp6Error(pkt.icmpType)) quotedIPv6(d, off + 8, qEnd, pkt)
  } else if (isIcmp4Error(pkt.icmpType)) {
    quotedIPv4(d, off + 8, qEnd, pkt)
  }
  return true
}

function quotedIPv4(d: Uint8Array, q: number, end: number, pkt: Packet): void {
  if (q + 20 > end || d[q] >> 4 !== 4) return
  const ihl = (d[q] & 0x0f) << 2
  if (ihl < 20) return
  pkt.icmpInnerProto = d[q + 9]
  pkt.icmpInnerV4Src = u32(d, q + 12)
  pkt.icmpInnerV4Dst = u32(d, q + 16)
  // A quoted non-first fragment carries no transport header.
  if ((u16(d, q + 6) & 0x1fff) !== 0) return
  quotedPorts(d, q + ihl, end, pkt)
}

function quotedIPv6(d: Uint8Array, q: number, end: number, pkt: Packet): void {
  if (q + 40 > end || d[q] >> 4 !== 6) return
  for (let i = 0; i < 4; i++) {
    pkt.icmpInnerV6Src[i] = u32(d, q + 8 + 4 * i)
    pkt.icmpInnerV6Dst[i] = u32(d, q + 24 + 4 * i)
  }
  walkIPv6Ext(d, q + 40, end, end, d[q + 6])
  pkt.icmpInnerProto = ext.proto
  if (ext.off < 0 || ext.fragOffset !== 0) return
  quotedPorts(d, ext.off, end, pkt)
}

function quotedPorts(d: Uint8Array, l4: number, end: number, pkt: Packet): void {
  const p = pkt.icmpInnerProto
  if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && p !== IPPROTO_SCTP) return
  if (l4 + 4 > end) return
  pkt.icmpInnerSport = u16(d, l4)
  pkt.icmpInnerDport = u16(d, l4 + 2)
  if (p === IPPROTO_TCP && l4 + 8 <= end) pkt.icmpInnerSeq = u32(d, l4 + 4)
}
