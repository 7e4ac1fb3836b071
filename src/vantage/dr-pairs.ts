import type {CaptureRecord} from '../capture/record.js'
import {Link, type Packet} from '../decode/packet.js'
import {fingerprintInto} from './fingerprint.js'
import {MacRegistry} from './macs.js'

/** How a frame relates to an earlier frame with the same fingerprint. */
export const FrameClass = {
  /** No earlier copy (an original, or a frame whose copy has not come yet). */
  Original: 0,
  /** The director's forwarded copy of an earlier inbound frame (MACs rewritten, TTL −1 or equal). */
  DrCopy: 1,
  /** A byte-identical repeat (SPAN/mirror port or capturing on two interfaces). */
  SpanDuplicate: 2,
} as const
export type FrameClass = (typeof FrameClass)[keyof typeof FrameClass]

/** Forwarding method of a DR pair, judged from what changed between the two copies. */
export const Forwarding = {DR: 0, TUN: 1, NAT: 2} as const

/**
 * Frames remembered. A director forwards its copy microseconds after the original arrives, so the pair is a
 * few frames apart even at line rate; 16 Ki frames is ~15 ms at 1 Mpps. Kept small, the ring and its index
 * stay in cache: decoding and pairing the bench capture's first 256 MiB took 250 ns a frame with 2^17 slots,
 * 195 ns with 2^14.
 */
const RING = 1 << 14
/** Buckets of the fingerprint index: twice the ring, so chains stay short. */
const BUCKETS = RING * 2
const CHAIN = 8
const SLL_OUTGOING = 4

/** 48-bit MAC as a double (exact): the link layer's view of who sent or received a frame. */
export function macNumber(data: Uint8Array, off: number): number {
  if (off < 0) return -1
  return (data[off] * 0x10000 + ((data[off + 1] << 8) | data[off + 2])) * 0x1000000 + ((data[off + 3] << 16) | (data[off + 4] << 8) | data[off + 5])
}

const macNames = new Map<number, string>()

/** "aa:bb:cc:dd:ee:ff"; cached, since a capture holds few distinct MACs and flows ask for them often. */
export function macNumberToString(n: number): string {
  if (n < 0) return ''
  let s = macNames.get(n)
  if (s === undefined) {
    s = n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')
    if (macNames.size < 65536) macNames.set(n, s)
  }
  return s
}

// A ring slot, in 32-bit words: fingerprint, MAC ids, (outer) destination address, the L3 word, the older
// slot in the same bucket, then Float64 frame number (0 = empty slot) and time at word 8 and 10.
const R_KEY_A = 0
const R_KEY_B = 1
const R_SRC_MAC = 2
const R_DST_MAC = 3
const R_DST = 4
/** TTL (bits 0-7), IP checksum (8-23), SLL outgoing (24), waiting for a copy (25). */
const R_L3 = 5
const R_PREV = 6
const R_STRIDE = 16
/** Float64 indexes within the slot (word / 2). */
const R_FRAME = 4
const R_TIME = 5
const R_OUTGOING = 1 << 24
const R_WAITING = 1 << 25
/** The bits two byte-identical frames share. */
const R_L3_MASK = R_WAITING - 1

/**
 * Pairs each client frame a director received with the copy it forwarded, in one streaming pass and bounded
 * memory (a ring of recent frames keyed by fingerprint). A genuine retransmission carries a new IP ID, so it
 * never pairs with its original.
 */
export class DrPairer {
  /** Frames classified DrCopy / SpanDuplicate so far. */
  drCopies = 0
  spanDuplicates = 0
  /** Pairs by forwarding method and by TTL change. */
  readonly byMethod = [0, 0, 0]
  ttlDecremented = 0
  ttlEqual = 0
  /** Ids of the capture's MAC addresses (shared with later stages for naming). */
  readonly macs = new MacRegistry()
  /** Frame number of the earlier copy, valid after observe() returned DrCopy or SpanDuplicate. */
  pairFrame = 0
  /** MAC ids of the last pair's director and real server (-1 unknown; the real server is -1 in NAT/TUN). */
  pairDirectorId = -1
  pairRealServerId = -1
  /** New destination of the last pair in NAT/TUN (IPv4), -1 otherwise. */
  private pairRsIp = -1
  private readonly copiesByMac = new Float64Array(1 << 16)
  private readonly copiesByIp = new Map<number, number>()

  /** Director MAC (as number) of the last DR pair, -1 if unknown. */
  get pairDirectorMac(): number {
    return this.macs.value(this.pairDirectorId)
  }

  /** Real server key of the last DR pair (MAC number, or IPv4 for NAT/TUN), -1 if unknown. */
  get pairRealServer(): number {
    return this.pairRsIp >= 0 ? this.pairRsIp : this.macs.value(this.pairRealServerId)
  }

  /** Forwarded copies per real-server MAC (Ethernet) or address (NAT/TUN: the new destination). */
  get perRealServer(): Map<number, number> {
    const m = new Map<number, number>(this.copiesByIp)
    for (let i = 0; i < this.copiesByMac.length; i++) if (this.copiesByMac[i] > 0) m.set(this.macs.value(i), this.copiesByMac[i])
    return m
  }

  /** Fingerprint of the last observed frame: [lookup key, confirmation]. */
  readonly fp = new Uint32Array(2)
  /** Newest ring slot per fingerprint bucket (-1 empty); older slots chain through R_PREV. A typed array, not
   *  a Map: uint32 keys above 2^30 are heap numbers, and a Map would allocate for each of them. */
  private readonly bucket = new Int32Array(BUCKETS).fill(-1)
  /** The ring of recent frames, one 64-byte record per slot (see R_*): a frame touches one cache line. */
  private readonly ring = new ArrayBuffer(RING * R_STRIDE * 4)
  private readonly u32 = new Uint32Array(this.ring)
  private readonly i32 = new Int32Array(this.ring)
  private readonly f64 = new Float64Array(this.ring)
  private head = 0

  constructor(private readonly windowSeconds = 1) {}

  /**
   * Classify one IP frame; frame numbers must increase from call to call (they order the ring). Returns the
   * class; `pairFrame` names the earlier copy.
   */
  observe(frameNo: number, tsSec: number, tsNsec: number, pkt: Packet): FrameClass {
    return this.classify(frameNo, tsSec, tsNsec, pkt)
  }

  /** The same, reading the record's fields here: passing its 1.7e9-second timestamp as an argument would box it. */
  observeRecord(rec: CaptureRecord, pkt: Packet): FrameClass {
    return this.classify(rec.frame, rec.tsSec, rec.tsNsec, pkt)
  }

  private classify(frameNo: number, tsSec: number, tsNsec: number, pkt: Packet): FrameClass {
    fingerprintInto(pkt, this.fp)
    const fa = this.fp[0]
    const fb = this.fp[1]
    const t = tsSec + tsNsec / 1e9
    const data = pkt.data
    const src = this.macs.id(data, pkt.macSrcOff)
    const dstMacN = this.macs.id(data, pkt.macDstOff)
    const out = pkt.sllPktType === SLL_OUTGOING ? 1 : 0
    const dstAddr = pkt.tunnelVersion === 4 ? pkt.tunnelV4Dst : pkt.v4Dst
    const ttl = pkt.ttl
    const l3 = ttl | (pkt.ipChecksum << 8) | (out << 24)
    const u32 = this.u32
    const i32 = this.i32
    const f64 = this.f64

    let cls: FrameClass = FrameClass.Original
    let s = this.bucket[fa & (BUCKETS - 1)]
    let newer = Infinity
    // A chain ends where it reaches a slot reused since (the ring is FIFO, so it holds a newer frame).
    for (let hops = 0; s >= 0 && hops < CHAIN; hops++) {
      const w = s * R_STRIDE
      const older = f64[(w >> 1) + R_FRAME]
      if (older >= newer) break
      newer = older
      s = i32[w + R_PREV]
      if (u32[w + R_KEY_A] !== fa || u32[w + R_KEY_B] !== fb) continue
      if (t - f64[(w >> 1) + R_TIME] > this.windowSeconds) break
      const packed = i32[w + R_L3]
      const sameL2 = i32[w + R_SRC_MAC] === src && i32[w + R_DST_MAC] === dstMacN
      if (sameL2 && (packed & R_L3_MASK) === l3 && u32[w + R_DST] === dstAddr >>> 0) {
        cls = FrameClass.SpanDuplicate
        this.spanDuplicates++
        this.pairFrame = older
        break
      }
      if (packed & R_WAITING && this.isForwardedCopy(w, src, out, pkt.link, ttl)) {
        cls = FrameClass.DrCopy
        i32[w + R_L3] = packed & ~R_WAITING
        this.drCopies++
        this.pairFrame = older
        this.notePair(w, pkt, src, dstMacN)
        break
      }
    }
    // Remember this frame. The ring is FIFO: the slot taken is the oldest, unlinked from its bucket here.
    const r = this.head
    this.head = (r + 1) & (RING - 1)
    const w = r * R_STRIDE
    if (f64[(w >> 1) + R_FRAME] !== 0) {
      const b = u32[w + R_KEY_A] & (BUCKETS - 1)
      if (this.bucket[b] === r) this.bucket[b] = -1
    }
    u32[w + R_KEY_A] = fa
    u32[w + R_KEY_B] = fb
    i32[w + R_SRC_MAC] = src
    i32[w + R_DST_MAC] = dstMacN
    u32[w + R_DST] = dstAddr
    i32[w + R_L3] = cls === FrameClass.Original ? l3 | R_WAITING : l3
    f64[(w >> 1) + R_FRAME] = frameNo
    f64[(w >> 1) + R_TIME] = t
    const k = fa & (BUCKETS - 1)
    i32[w + R_PREV] = this.bucket[k]
    this.bucket[k] = r
    return cls
  }

  private isForwardedCopy(w: number, src: number, out: number, link: number, ttl: number): boolean {
    // The copy leaves the director: it was addressed to the director and now comes from it.
    const i32 = this.i32
    const l3 = i32[w + R_L3]
    let direction: boolean
    if (link === Link.Ethernet) direction = i32[w + R_DST_MAC] === src && i32[w + R_SRC_MAC] !== src
    else if (link === Link.Sll || link === Link.Sll2) direction = (l3 & R_OUTGOING) === 0 && out === 1
    else direction = true // raw IP: only the TTL tells
    const dttl = (l3 & 0xff) - ttl
    return direction && (dttl === 1 || (dttl === 0 && link !== Link.Raw && link !== Link.Null))
  }

  private notePair(w: number, pkt: Packet, src: number, dstMacN: number): void {
    // Read here rather than passed in: a uint32 argument is boxed when the call is not inlined.
    const dstAddr = pkt.tunnelVersion === 4 ? pkt.tunnelV4Dst : pkt.v4Dst
    let method: number = Forwarding.DR
    if (pkt.tunnelVersion !== 0) method = Forwarding.TUN
    else if (dstAddr !== this.u32[w + R_DST]) method = Forwarding.NAT
    this.byMethod[method]++
    if ((this.i32[w + R_L3] & 0xff) === pkt.ttl) this.ttlEqual++
    else this.ttlDecremented++
    this.pairDirectorId = src
    if (method === Forwarding.DR) {
      this.pairRealServerId = dstMacN
      this.pairRsIp = -1
      if (dstMacN >= 0) this.copiesByMac[dstMacN]++
    } else {
      this.pairRealServerId = -1
      this.pairRsIp = dstAddr
      this.copiesByIp.set(dstAddr, (this.copiesByIp.get(dstAddr) ?? 0) + 1)
    }
  }
}
