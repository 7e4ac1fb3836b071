/** ARP (Ethernet/IPv4 only: the case that matters for VIP failover and gratuitous ARP). */
import {u16, u32} from './bytes.js'
import {Dirty, Stop} from './packet.js'
import type {Packet} from './packet.js'

const HTYPE_ETHERNET = 1
const PTYPE_IPV4 = 0x0800

export function decodeArp(d: Uint8Array, off: number, end: number, pkt: Packet): boolean {
  if (off + 8 > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.dirty |= Dirty.Arp
  pkt.arpOp = u16(d, off + 6)
  if (u16(d, off) !== HTYPE_ETHERNET || u16(d, off + 2) !== PTYPE_IPV4 || d[off + 4] !== 6 || d[off + 5] !== 4) {
    pkt.stop = Stop.Unsupported
    return false
  }
  if (off + 28 > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.arpSenderMacOff = off + 8
  pkt.arpSenderIp = u32(d, off + 14)
  pkt.arpTargetMacOff = off + 18
  pkt.arpTargetIp = u32(d, off + 24)
  return true
}
