/**
 * TCP header and options. `l4Len` is the transport length the IP header gives (seglen comes from
 * it, not from the captured bytes). Returns false after setting `pkt.stop`.
 */
import {u16, u32} from './bytes.js'
import {Dirty, Stop} from './packet.js'
import type {Packet} from './packet.js'

const OPT_EOL = 0
const OPT_NOP = 1
const OPT_MSS = 2
const OPT_WSCALE = 3
const OPT_SACK_PERM = 4
const OPT_SACK = 5
const OPT_TIMESTAMP = 8
/** NOP, NOP, kind 8, length 10: RFC 7323 appendix A's layout. */
const TS_ALIGNED = 0x0101080a

export function decodeTcp(d: Uint8Array, off: number, end: number, l4Len: number, pkt: Packet): boolean {
  pkt.l4Off = off
  if (off + 20 > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.sport = u16(d, off)
  pkt.dport = u16(d, off + 2)
  pkt.seq = u32(d, off + 4)
  pkt.ack = u32(d, off + 8)
  const hl = (d[off + 12] >> 4) << 2
  pkt.tcpHdrLen = hl
  // The NS/AE bit (low bit of byte 12) is not a flag Wireshark's tcp.flags counts in 8 bits.
  pkt.tcpFlags = d[off + 13]
  pkt.window = u16(d, off + 14)
  pkt.tcpChecksum = u16(d, off + 16)
  pkt.urgentPtr = u16(d, off + 18)
  if (hl < 20 || hl > l4Len) {
    pkt.stop = Stop.Malformed
    return false
  }
  if (hl > 20) {
    pkt.dirty |= Dirty.TcpOptions
    // The usual Linux data segment: NOP NOP TS, read without the option walk.
    if (hl === 32 && off + 32 <= end && u32(d, off + 20) === TS_ALIGNED) {
      pkt.hasTimestamps = true
      pkt.tsVal = u32(d, off + 24)
      pkt.tsEcr = u32(d, off + 28)
    } else {
      // Parse whatever options were captured, never past the header.
      parseOptions(d, off + 20, off + hl < end ? off + hl : end, pkt)
    }
  }
  if (off + hl > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.setPayload(off + hl, l4Len - hl, end)
  return true
}

/**
 * Options with a wrong length are ignored one by one; a length that is < 2 or runs past the
 * header ends the walk (what follows cannot be framed). Neither sets pkt.stop: the segment itself
 * is still usable.
 */
function parseOptions(d: Uint8Array, i: number, optEnd: number, pkt: Packet): void {
  while (i < optEnd) {
    const kind = d[i]
    if (kind === OPT_EOL) return
    if (kind === OPT_NOP) {
      i++
      continue
    }
    if (i + 2 > optEnd) return
    const len = d[i + 1]
    if (len < 2 || i + len > optEnd) return
    switch (kind) {
      case OPT_MSS:
        if (len === 4) pkt.mss = u16(d, i + 2)
        break
      case OPT_WSCALE:
        if (len === 3) pkt.wscale = d[i + 2]
        break
      case OPT_SACK_PERM:
        if (len === 2) pkt.sackPermitted = true
        break
      case OPT_SACK:
        if ((len - 2) % 8 === 0) {
          let n = (len - 2) >> 3
          if (n > 4) n = 4
          for (let b = 0; b < n; b++) {
            pkt.sackLeft[b] = u32(d, i + 2 + 8 * b)
            pkt.sackRight[b] = u32(d, i + 6 + 8 * b)
          }
          pkt.sackCount = n
        }
        break
      case OPT_TIMESTAMP:
        if (len === 10) {
          pkt.hasTimestamps = true
          pkt.tsVal = u32(d, i + 2)
          pkt.tsEcr = u32(d, i + 6)
        }
        break
      default:
        break
    }
    i += len
  }
}
