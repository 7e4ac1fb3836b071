import {IPPROTO_TCP, IPPROTO_UDP, type Packet} from '../decode/packet.js'

/**
 * A packet fingerprint that survives what an LVS director (and the path to a real server) changes: it covers
 * the source address and port, protocol, IP ID, TCP seq/ack/flags/window, timestamps option, payload length and
 * a sample of payload bytes — and leaves out the link layer, TTL, IP checksum, and the destination address and
 * port (NAT rewrites them; DR and TUN keep them, so leaving them out costs nothing there). Two independent
 * 32-bit hashes make accidental collisions negligible; `a` is the lookup key, `b` confirms.
 */
export interface Fingerprint {
  a: number
  b: number
}

export function newFingerprint(): Fingerprint {
  return {a: 0, b: 0}
}

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

function mix(h: number, k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

function finish(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Payload bytes sampled: the first and last 16 (DR copies carry identical payloads; sampling keeps it O(1)). */
const SAMPLE = 16

function word(data: Uint8Array, i: number, end: number): number {
  // Bytes past `end` read as 0 so a short payload still hashes deterministically.
  return (
    ((i < end ? data[i] : 0) << 24) |
    ((i + 1 < end ? data[i + 1] : 0) << 16) |
    ((i + 2 < end ? data[i + 2] : 0) << 8) |
    (i + 3 < end ? data[i + 3] : 0)
  )
}

/** Hash into out[idx]: writing the uint32 to a typed array (rather than returning it) keeps V8 from boxing it. */
function hashPacket(pkt: Packet, seed: number, out: Uint32Array, idx: number): void {
  let h = seed
  h = mix(h, (pkt.ipVersion << 8) | pkt.proto)
  if (pkt.ipVersion === 4) {
    h = mix(h, pkt.v4Src)
  } else {
    h = mix(h, pkt.v6Src[0])
    h = mix(h, pkt.v6Src[1])
    h = mix(h, pkt.v6Src[2])
    h = mix(h, pkt.v6Src[3])
  }
  h = mix(h, pkt.sport)
  h = mix(h, pkt.ipId)
  if (pkt.proto === IPPROTO_TCP) {
    h = mix(h, pkt.seq)
    h = mix(h, pkt.ack)
    h = mix(h, (pkt.tcpFlags << 16) | pkt.window)
    if (pkt.hasTimestamps) {
      h = mix(h, pkt.tsVal)
      h = mix(h, pkt.tsEcr)
    }
  } else if (pkt.proto === IPPROTO_UDP) {
    h = mix(h, pkt.udpLen)
  } else {
    h = mix(h, (pkt.icmpType << 8) | (pkt.icmpCode & 0xff))
  }
  h = mix(h, pkt.payloadLen)
  const off = pkt.payloadOff
  if (off >= 0 && pkt.payloadCaptured > 0) {
    const end = off + pkt.payloadCaptured
    const data = pkt.data
    const headEnd = Math.min(end, off + SAMPLE)
    for (let i = off; i < headEnd; i += 4) h = mix(h, word(data, i, headEnd))
    const tailStart = Math.max(headEnd, end - SAMPLE)
    for (let i = tailStart; i < end; i += 4) h = mix(h, word(data, i, end))
  }
  out[idx] = finish(h)
}

/** Write the packet's fingerprint into out[0] (lookup key) and out[1] (confirmation); no allocation. */
export function fingerprintInto(pkt: Packet, out: Uint32Array): void {
  hashPacket(pkt, 0x9747b28c, out, 0)
  hashPacket(pkt, 0x5bd1e995, out, 1)
}

const scratch = new Uint32Array(2)

/** Fill `out` with the packet's fingerprint. The packet must have an IP layer (ipVersion 4 or 6). */
export function fingerprint(pkt: Packet, out: Fingerprint): Fingerprint {
  fingerprintInto(pkt, scratch)
  out.a = scratch[0]
  out.b = scratch[1]
  return out
}
