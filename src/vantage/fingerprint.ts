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
const FNV_PRIME = 0x01000193

/** MurmurHash3's 32-bit round: the lookup key needs a well-spread hash. */
function mix(h: number, k: number): number {
  k = Math.imul(k, C1)
  k = (k << 15) | (k >>> 17)
  k = Math.imul(k, C2)
  h ^= k
  h = (h << 13) | (h >>> 19)
  return (Math.imul(h, 5) + 0xe6546b64) | 0
}

/** FNV-1a over the word: the confirmation hash only needs to be independent of `mix`, and cheap. */
function fnv(h: number, k: number): number {
  return Math.imul(h ^ k, FNV_PRIME)
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

function fullWord(data: Uint8Array, i: number): number {
  return (data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]
}

/** The words hashed for one packet (at most 1 + 4 + 1 + 5 + 1 + 8); reused, so hashing allocates nothing. */
const words = new Int32Array(24)

/**
 * Write the packet's fingerprint into out[0] (lookup key) and out[1] (confirmation), both in one pass over
 * the same words; no allocation. The packet must have an IP layer (ipVersion 4 or 6). Writing the uint32s to
 * a typed array (rather than returning them) keeps V8 from boxing them.
 */
export function fingerprintInto(pkt: Packet, out: Uint32Array): void {
  const w = words
  let n = 0
  w[n++] = (pkt.ipVersion << 8) | pkt.proto
  if (pkt.ipVersion === 4) {
    w[n++] = pkt.v4Src
  } else {
    const v6 = pkt.v6Src
    for (let i = 0; i < 4; i++) w[n++] = v6[i]
  }
  w[n++] = (pkt.sport << 16) ^ pkt.ipId
  if (pkt.proto === IPPROTO_TCP) {
    w[n++] = pkt.seq
    w[n++] = pkt.ack
    w[n++] = (pkt.tcpFlags << 16) | pkt.window
    if (pkt.hasTimestamps) {
      w[n++] = pkt.tsVal
      w[n++] = pkt.tsEcr
    }
  } else if (pkt.proto === IPPROTO_UDP) {
    w[n++] = pkt.udpLen
  } else {
    w[n++] = (pkt.icmpType << 8) | (pkt.icmpCode & 0xff)
  }
  w[n++] = pkt.payloadLen
  const off = pkt.payloadOff
  const cap = pkt.payloadCaptured
  if (off >= 0 && cap > 0) {
    const data = pkt.data
    const end = off + cap
    if (cap >= 2 * SAMPLE) {
      // Whole words at both ends: no per-byte bounds checks.
      for (let i = off; i < off + SAMPLE; i += 4) w[n++] = fullWord(data, i)
      for (let i = end - SAMPLE; i < end; i += 4) w[n++] = fullWord(data, i)
    } else {
      const headEnd = Math.min(end, off + SAMPLE)
      for (let i = off; i < headEnd; i += 4) w[n++] = word(data, i, headEnd)
      for (let i = Math.max(headEnd, end - SAMPLE); i < end; i += 4) w[n++] = word(data, i, end)
    }
  }
  let a = 0x9747b28c | 0
  let b = 0x811c9dc5 | 0
  for (let i = 0; i < n; i++) {
    a = mix(a, w[i])
    b = fnv(b, w[i])
  }
  out[0] = finish(a)
  out[1] = finish(b)
}

const scratch = new Uint32Array(2)

/** Fill `out` with the packet's fingerprint. The packet must have an IP layer (ipVersion 4 or 6). */
export function fingerprint(pkt: Packet, out: Fingerprint): Fingerprint {
  fingerprintInto(pkt, scratch)
  out.a = scratch[0]
  out.b = scratch[1]
  return out
}
