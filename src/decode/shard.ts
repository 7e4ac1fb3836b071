import type {CaptureRecord} from '../capture/record.js'
import {LINKTYPE} from './linktypes.js'
import type {Packet} from './packet.js'

/** One of `count` threads sharing a capture's flows (see shardOf). */
export interface Shard {
  index: number
  count: number
}

/**
 * Which of `count` threads handles a frame when one capture's flows are split across threads. All
 * frames of a flow (both directions) and the director's forwarded copies of them land in the same
 * shard, so per-flow analysis and DR pairing stay whole: the key is the larger port, in practice
 * the client's ephemeral port, which DR and TUN keep and LVS-NAT does not rewrite either. Frames
 * without ports (ARP, ICMP, later fragments, headers cut short) go to shard 0.
 */
export function shardOf(pkt: Packet, count: number): number {
  if (pkt.ipVersion === 0) return 0
  return shardOfPorts(pkt.sport, pkt.dport, count)
}

function shardOfPorts(sport: number, dport: number, count: number): number {
  const port = sport > dport ? sport : dport
  if (port === 0) return 0
  return (Math.imul(port, 0x9e3779b1) >>> 16) % count
}

/**
 * shardOf() for the common frame — Ethernet, IPv4 not fragmented, TCP or UDP — read straight
 * from the record, so a thread skips decoding the frames of other shards. -1 where only a decode can tell;
 * otherwise the same answer the decoded packet gives.
 */
export function shardOfRecord(rec: CaptureRecord, count: number): number {
  return peekPorts(rec, peeked) ? shardOfPorts(peeked[0], peeked[1], count) : -1
}

const peeked = new Uint16Array(2)

/**
 * The common frame's ports read straight from the record into `out` ([sport, dport]), without decoding; false
 * where only a decode can tell (not Ethernet/IPv4/TCP-or-UDP, a fragment, a header cut short). The checks
 * mirror where the decoder stops, so a value here is the one the decoded packet would give.
 */
export function peekPorts(rec: CaptureRecord, out: Uint16Array): boolean {
  if (rec.linktype !== LINKTYPE.ETHERNET || rec.fcsLen !== 0) return false
  const d = rec.data
  const o = rec.offset
  const end = o + rec.caplen
  if (end > d.length || o + 34 > end || d[o + 12] !== 0x08 || d[o + 13] !== 0x00) return false
  const vihl = d[o + 14]
  const ihl = (vihl & 0x0f) << 2
  if (vihl >> 4 !== 4 || ihl < 20 || ((d[o + 16] << 8) | d[o + 17]) < ihl || ((d[o + 20] << 8) | d[o + 21]) & 0x3fff) return false
  const proto = d[o + 23]
  const l4 = o + 14 + ihl
  if ((proto !== 6 || l4 + 20 > end) && (proto !== 17 || l4 + 8 > end)) return false
  out[0] = (d[l4] << 8) | d[l4 + 1]
  out[1] = (d[l4 + 2] << 8) | d[l4 + 3]
  return true
}
