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

/** An inbound frame that left the window without a forwarded copy: dropped, or answered by the director itself. */
export type UnforwardedHandler = (frame: number, tag: number, tsSec: number, tsNsec: number) => void

const RING = 1 << 17
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
  /** Newest ring slot per fingerprint bucket (-1 empty); older slots chain through `prev`. A typed array, not
   *  a Map: uint32 keys above 2^30 are heap numbers, and a Map would allocate for each of them. */
  private readonly bucket = new Int32Array(BUCKETS).fill(-1)
  /** Insertion sequence per slot: a chain link to a slot that was since reused points to a newer sequence. */
  private readonly order = new Float64Array(RING)
  private seqNo = 0
  private readonly keyA = new Uint32Array(RING)
  private readonly keyB = new Uint32Array(RING)
  private readonly frame = new Float64Array(RING)
  private readonly time = new Float64Array(RING)
  private readonly tsSec = new Float64Array(RING)
  private readonly tsNsec = new Uint32Array(RING)
  private readonly srcMac = new Int32Array(RING)
  private readonly dstMac = new Int32Array(RING)
  private readonly dst = new Uint32Array(RING)
  private readonly ttl = new Uint8Array(RING)
  private readonly ipSum = new Uint16Array(RING)
  private readonly outgoing = new Uint8Array(RING)
  /** 0 empty, 1 waiting for a copy, 2 paired/duplicate or not a candidate. */
  private readonly state = new Uint8Array(RING)
  private readonly tag = new Float64Array(RING)
  private readonly prev = new Int32Array(RING).fill(-1)
  private head = 0

  constructor(
    private readonly windowSeconds = 1,
    private readonly onUnforwarded: UnforwardedHandler | null = null,
  ) {}

  /**
   * Classify one IP frame. `tag` is carried to the unforwarded callback (e.g. a flow id). Returns the class;
   * `pairFrame` names the earlier copy.
   */
  observe(frameNo: number, tsSec: number, tsNsec: number, pkt: Packet, tag = 0): FrameClass {
    return this.classify(frameNo, tsSec, tsNsec, pkt, tag)
  }

  /** The same, reading the record's fields here: passing its 1.7e9-second timestamp as an argument would box it. */
  observeRecord(rec: CaptureRecord, pkt: Packet, tag = 0): FrameClass {
    return this.classify(rec.frame, rec.tsSec, rec.tsNsec, pkt, tag)
  }

  private classify(frameNo: number, tsSec: number, tsNsec: number, pkt: Packet, tag: number): FrameClass {
    fingerprintInto(pkt, this.fp)
    const fa = this.fp[0]
    const fb = this.fp[1]
    const t = tsSec + tsNsec / 1e9
    const data = pkt.data
    const src = this.macs.id(data, pkt.macSrcOff)
    const dstMacN = this.macs.id(data, pkt.macDstOff)
    const out = pkt.sllPktType === SLL_OUTGOING ? 1 : 0
    const dstAddr = pkt.tunnelVersion === 4 ? pkt.tunnelV4Dst : pkt.v4Dst

    let cls: FrameClass = FrameClass.Original
    let s = this.bucket[fa & (BUCKETS - 1)]
    let newer = Infinity
    for (let hops = 0; s >= 0 && hops < CHAIN && this.order[s] < newer; hops++, newer = this.order[s], s = this.prev[s]) {
      if (this.keyA[s] !== fa || this.keyB[s] !== fb) continue
      if (t - this.time[s] > this.windowSeconds) break
      const sameL2 = this.srcMac[s] === src && this.dstMac[s] === dstMacN && this.outgoing[s] === out
      if (sameL2 && this.ttl[s] === pkt.ttl && this.ipSum[s] === pkt.ipChecksum && this.dst[s] === dstAddr) {
        cls = FrameClass.SpanDuplicate
        this.spanDuplicates++
        this.pairFrame = this.frame[s]
        break
      }
      if (this.state[s] !== 1 || !this.isForwardedCopy(s, src, out, pkt.link, pkt.ttl)) continue
      cls = FrameClass.DrCopy
      this.state[s] = 2
      this.drCopies++
      this.pairFrame = this.frame[s]
      this.notePair(s, pkt, src, dstMacN)
      break
    }
    // Remember this frame (inline: passing these doubles to a helper would box them).
    const r = this.head
    this.head = (r + 1) & (RING - 1)
    if (this.state[r] !== 0) this.evict(r)
    this.keyA[r] = fa
    this.keyB[r] = fb
    this.frame[r] = frameNo
    this.time[r] = t
    if (this.onUnforwarded !== null) {
      // Exact times and tags matter only to the callback.
      this.tsSec[r] = tsSec
      this.tsNsec[r] = tsNsec
      this.tag[r] = tag
    }
    this.srcMac[r] = src
    this.dstMac[r] = dstMacN
    this.dst[r] = dstAddr
    this.ttl[r] = pkt.ttl
    this.ipSum[r] = pkt.ipChecksum
    this.outgoing[r] = out
    this.state[r] = cls === FrameClass.Original ? 1 : 2
    this.order[r] = ++this.seqNo
    const k = fa & (BUCKETS - 1)
    this.prev[r] = this.bucket[k]
    this.bucket[k] = r
    return cls
  }

  /** Report every inbound frame still waiting as unforwarded (call at end of capture). */
  flush(): void {
    for (let i = 0; i < RING; i++) this.evict(i)
    this.bucket.fill(-1)
  }

  private isForwardedCopy(s: number, src: number, out: number, link: number, ttl: number): boolean {
    // The copy leaves the director: it was addressed to the director and now comes from it.
    let direction: boolean
    if (link === Link.Ethernet) direction = this.dstMac[s] === src && this.srcMac[s] !== src
    else if (link === Link.Sll || link === Link.Sll2) direction = this.outgoing[s] === 0 && out === 1
    else direction = true // raw IP: only the TTL tells
    const dttl = this.ttl[s] - ttl
    return direction && (dttl === 1 || (dttl === 0 && link !== Link.Raw && link !== Link.Null))
  }

  private notePair(s: number, pkt: Packet, src: number, dstMacN: number): void {
    // Read here rather than passed in: a uint32 argument is boxed when the call is not inlined.
    const dstAddr = pkt.tunnelVersion === 4 ? pkt.tunnelV4Dst : pkt.v4Dst
    let method: number = Forwarding.DR
    if (pkt.tunnelVersion !== 0) method = Forwarding.TUN
    else if (dstAddr !== this.dst[s]) method = Forwarding.NAT
    this.byMethod[method]++
    if (this.ttl[s] === pkt.ttl) this.ttlEqual++
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

  private evict(s: number): void {
    if (this.state[s] === 0) return
    if (this.state[s] === 1 && this.onUnforwarded !== null) this.onUnforwarded(this.frame[s], this.tag[s], this.tsSec[s], this.tsNsec[s])
    const b = this.keyA[s] & (BUCKETS - 1)
    if (this.bucket[b] === s) this.bucket[b] = -1
    this.state[s] = 0
    this.prev[s] = -1
  }
}
