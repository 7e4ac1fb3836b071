/** UDP header. Payload length comes from the IP header (like TCP), not from the UDP length field. */
import {u16} from './bytes.js'
import {Stop} from './packet.js'
import type {Packet} from './packet.js'

export function decodeUdp(d: Uint8Array, off: number, end: number, l4Len: number, pkt: Packet): boolean {
  pkt.l4Off = off
  if (off + 8 > end) {
    pkt.stop = Stop.Truncated
    return false
  }
  pkt.sport = u16(d, off)
  pkt.dport = u16(d, off + 2)
  pkt.udpLen = u16(d, off + 4)
  if (l4Len < 8) {
    pkt.stop = Stop.Malformed
    return false
  }
  pkt.setPayload(off + 8, l4Len - 8, end)
  return true
}
