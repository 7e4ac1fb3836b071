/**
 * The streaming matcher. Sightings arrive from all captures merged in (corrected) time order; each
 * client packet becomes one pending entry that collects its sightings (client out, director in,
 * director out, real server in — or real server out and client in for a reply), matched by
 * fingerprint within a transit window. When an entry is older than the window, its fate is decided
 * and it is dropped. Entries live in a ring of typed arrays indexed by an ever-growing id (slot =
 * id & mask), chained by fingerprint bucket and by flow through ids, so an evicted entry simply falls
 * behind `tail`: memory follows packets per window, not the capture size.
 */
import {EnvelopeEstimator} from './clock.js'
import type {ClockEdge} from './clock.js'
import type {FlowStats} from './flows.js'
import {F_LOST, F_MATCHED, F_NOT_FORWARDED, F_ONLY_RS} from './flows.js'
import {hopPriority, KIND_REPLY, KIND_REQUEST, kindOf, P, pointOfSlot, slotOf} from './points.js'
import type {CorrelationTotals} from './types.js'

export const ROLE_DIRECTOR = 0
export const ROLE_RS = 1
export const ROLE_CLIENT = 2
export const ROLE_UNKNOWN = 3

export const FATE = {
  DELIVERED: 0,
  LOST_ON_PATH: 1,
  NOT_FORWARDED: 2,
  ONLY_AT_RS: 3,
  LOST_BEFORE_DIRECTOR: 4,
  REPLY_LOST: 5,
  REPLY_DELIVERED: 6,
  UNJUDGED: 7,
  /** The other half of a byte-range match, counted with its director frame. */
  COUNTED_ELSEWHERE: 8,
} as const

const BIT_CLI = 1
const BIT_DIN = 2
const BIT_DOUT = 4
const BIT_RS = 8
const MAX_HOPS = 32
const MAX_FLOW_HOPS = 64
const MAX_RING = 1 << 21

/** Coverage and ordering state of the captures, shared with the merge loop. */
export class Timeline {
  /** Raw capture time minus reference time, as used for ordering (tracked during the pass). */
  readonly trackOff: Float64Array
  readonly firstRaw: Float64Array
  readonly lastRaw: Float64Array
  readonly ended: Uint8Array

  constructor(
    readonly role: Int8Array,
    readonly margin: number,
  ) {
    const n = role.length
    this.trackOff = new Float64Array(n)
    this.firstRaw = new Float64Array(n).fill(NaN)
    this.lastRaw = new Float64Array(n).fill(NaN)
    this.ended = new Uint8Array(n)
  }

  /** Did capture c record around reference time t? */
  covers(c: number, t: number): boolean {
    const first = this.firstRaw[c]
    if (Number.isNaN(first)) return false
    const off = this.trackOff[c]
    if (t < first - off + this.margin) return false
    return this.ended[c] === 0 || t <= this.lastRaw[c] - off - this.margin
  }

  anyCovers(role: number, t: number): boolean {
    for (let c = 0; c < this.role.length; c++) if (this.role[c] === role && this.covers(c, t)) return true
    return false
  }
}

/** A not-delivered packet, in numbers; made into text when the result is assembled. */
export interface NotableRecord {
  fate: number
  /** Slot of the frame that proves the fate. */
  proof: number
  kind: number
  flow: number
  flags: number
  seq: number
  len: number
  /** Per slot 0-3: capture index (-1 absent), frame, raw time. */
  cap: number[]
  frame: number[]
  raw: number[]
}

export interface MatcherConfig {
  guard: number
  maxTransit: number
  maxNotable: number
  /** Per capture, the frames the caller asked about (null = none). */
  queries: Array<Set<number> | null>
}

export class Matcher {
  readonly totals: CorrelationTotals = {
    delivered: 0,
    byteRangeMatched: 0,
    lostOnPath: 0,
    notForwarded: 0,
    onlyAtRealServer: 0,
    lostBeforeDirector: 0,
    repliesDelivered: 0,
    replyLost: 0,
    unjudged: 0,
    duplicates: 0,
  }
  readonly notable: NotableRecord[] = []
  notableOmitted = 0
  /** Answers to the caller's queries, keyed "capture:frame". */
  readonly answers = new Map<string, NotableRecord>()
  /** How long an entry waits for its other sightings (key time). */
  readonly window: number

  private rmask: number
  private cap: number
  private head = 0
  private tail = 0
  private bmask: number
  private buckets: Float64Array
  private flowHead = new Float64Array(1024).fill(-1)
  private readonly estimators: (EnvelopeEstimator | null)[]
  private readonly nCaps: number
  private readonly dupWindow = 0.005

  // ---- entry fields (struct of arrays over the ring) ----
  private fpA!: Uint32Array
  private fpB!: Uint32Array
  private key!: Float64Array
  private flow!: Int32Array
  private kind!: Uint8Array
  private mask!: Uint8Array
  private flags!: Uint8Array
  private rangeFlag!: Uint8Array
  private seq!: Uint32Array
  private len!: Uint32Array
  private rsTarget!: Int16Array
  private prevFp!: Float64Array
  private prevFlow!: Float64Array
  private slotCap!: Int8Array
  private slotFrame!: Float64Array
  private slotRaw!: Float64Array
  private slotRef!: Float64Array
  private readonly scratch = new Float64Array(MAX_FLOW_HOPS)

  constructor(
    private readonly tl: Timeline,
    private readonly flows: FlowStats,
    private readonly cfg: MatcherConfig,
    ringSize = 1 << 16,
  ) {
    this.nCaps = tl.role.length
    this.window = cfg.maxTransit + 4 * cfg.guard
    this.cap = ringSize
    this.rmask = ringSize - 1
    this.allocate(ringSize)
    this.buckets = new Float64Array(ringSize * 4).fill(-1)
    this.bmask = ringSize * 4 - 1
    this.estimators = new Array<EnvelopeEstimator | null>(2 * this.nCaps * this.nCaps).fill(null)
  }

  /** One sighting. `key` is its merge key (reference time plus the capture's stage guard). */
  event(
    c: number,
    point: number,
    tRaw: number,
    key: number,
    frame: number,
    a: number,
    b: number,
    flow: number,
    seq: number,
    len: number,
    flags: number,
    rsTarget: number,
  ): void {
    this.advance(key)
    const tRef = tRaw - this.tl.trackOff[c]
    const kind = kindOf(point)
    const s = slotOf(point)
    const bit = 1 << s
    const g = this.cfg.guard
    const maxT = this.cfg.maxTransit + g
    let best = -1
    let bestAbs = Infinity
    let bestAnchor = -1
    let id = this.buckets[a & this.bmask]
    for (let hops = 0; id >= this.tail && hops < MAX_HOPS; hops++) {
      const e = id & this.rmask
      const next = this.prevFp[e]
      if (this.fpA[e] === a && this.fpB[e] === b && this.kind[e] === kind) {
        const m = this.mask[e]
        if ((m & bit) !== 0) {
          const k = e * 4 + s
          if (this.slotCap[k] === c && Math.abs(this.slotRaw[k] - tRaw) < this.dupWindow) {
            this.totals.duplicates++
            return
          }
        } else if (
          !(point === P.DIRECTOR_OUT && (m & BIT_DIN) !== 0 && this.slotCap[e * 4 + 1] !== c) &&
          !(point === P.DIRECTOR_IN && (m & BIT_DOUT) !== 0 && this.slotCap[e * 4 + 2] !== c)
        ) {
          const anchor = this.anchorSlot(m, kind, s)
          if (anchor >= 0) {
            const ar = this.slotRef[e * 4 + anchor]
            const dt = anchor < s !== (kind === KIND_REPLY) ? tRef - ar : ar - tRef
            if (dt >= -g && dt <= maxT) {
              const ad = dt < 0 ? -dt : dt
              if (ad < bestAbs) {
                bestAbs = ad
                best = id
                bestAnchor = anchor
              }
            }
          }
        }
      }
      id = next
    }
    if (best >= 0) {
      const e = best & this.rmask
      this.setSlot(e, s, c, frame, tRaw, tRef)
      this.mask[e] |= bit
      if (point === P.DIRECTOR_OUT) this.rsTarget[e] = rsTarget
      const ka = e * 4 + bestAnchor
      const ac = this.slotCap[ka]
      if (ac !== c) {
        // Upstream → downstream in path order (for replies, slot 3 is upstream of slot 0).
        const anchorUp = kind === KIND_REQUEST ? bestAnchor < s : bestAnchor > s
        const upP = pointOfSlot(kind, anchorUp ? bestAnchor : s)
        const downP = pointOfSlot(kind, anchorUp ? s : bestAnchor)
        const prio = hopPriority(upP, downP)
        if (prio > 0) {
          if (anchorUp) this.estimator(ac, c, prio).add(this.slotRaw[ka], tRaw - this.slotRaw[ka])
          else this.estimator(c, ac, prio).add(tRaw, this.slotRaw[ka] - tRaw)
        }
      }
      return
    }
    this.create(c, s, kind, tRaw, tRef, key, frame, a, b, flow, seq, len, flags, point === P.DIRECTOR_OUT ? rsTarget : -2)
  }

  /** Decide the fate of every entry older than the window before `key`. */
  advance(key: number): void {
    const limit = key - this.window
    while (this.tail < this.head && this.key[this.tail & this.rmask] < limit) {
      this.judge(this.tail & this.rmask, this.tail)
      this.tail++
    }
  }

  /** End of input: judge everything still pending. */
  flush(): void {
    while (this.tail < this.head) {
      this.judge(this.tail & this.rmask, this.tail)
      this.tail++
    }
  }

  /** Clock edges measured so far (fits of the lower envelopes). */
  edges(minDriftSpan: number): ClockEdge[] {
    const out: ClockEdge[] = []
    const n = this.nCaps
    for (let i = 0; i < this.estimators.length; i++) {
      const est = this.estimators[i]
      if (est === null) continue
      const fit = est.fit(minDriftSpan)
      if (fit === null) continue
      out.push({priority: Math.floor(i / (n * n)) + 1, up: Math.floor(i / n) % n, down: i % n, fit})
    }
    return out
  }

  /** Edges from the most recent windows only, to track the offsets while the pass runs. */
  recentEdges(windows: number): ClockEdge[] {
    const out: ClockEdge[] = []
    const n = this.nCaps
    for (let i = 0; i < this.estimators.length; i++) {
      const est = this.estimators[i]
      if (est === null) continue
      const m = est.recentMin(windows)
      if (Number.isNaN(m)) continue
      out.push({
        priority: Math.floor(i / (n * n)) + 1,
        up: Math.floor(i / n) % n,
        down: i % n,
        fit: {offset: m, at: 0, slope: 0, driftMeasured: false, spread: 0, uncertainty: 0, points: est.points, windows: 1},
      })
    }
    return out
  }

  // ------------------------------------------------------------------ internals

  private estimator(up: number, down: number, prio: number): EnvelopeEstimator {
    const n = this.nCaps
    const i = (prio - 1) * n * n + up * n + down
    let e = this.estimators[i]
    if (e === null) {
      e = new EnvelopeEstimator(1)
      this.estimators[i] = e
    }
    return e
  }

  /** The nearest filled slot upstream of s (or, if none, downstream), -1 when the entry is empty. */
  private anchorSlot(m: number, kind: number, s: number): number {
    if (kind === KIND_REPLY) return s === 0 ? ((m & BIT_RS) !== 0 ? 3 : -1) : (m & BIT_CLI) !== 0 ? 0 : -1
    for (let j = s - 1; j >= 0; j--) if ((m & (1 << j)) !== 0) return j
    for (let j = s + 1; j < 4; j++) if ((m & (1 << j)) !== 0) return j
    return -1
  }

  private setSlot(e: number, s: number, c: number, frame: number, tRaw: number, tRef: number): void {
    const k = e * 4 + s
    this.slotCap[k] = c
    this.slotFrame[k] = frame
    this.slotRaw[k] = tRaw
    this.slotRef[k] = tRef
  }

  private create(
    c: number,
    s: number,
    kind: number,
    tRaw: number,
    tRef: number,
    key: number,
    frame: number,
    a: number,
    b: number,
    flow: number,
    seq: number,
    len: number,
    flags: number,
    rsTarget: number,
  ): void {
    if (this.head - this.tail >= this.cap) {
      if (this.cap < MAX_RING) this.grow()
      else {
        // More packets inside one window than the ring holds: judge the oldest early.
        this.judge(this.tail & this.rmask, this.tail)
        this.tail++
      }
    }
    const id = this.head++
    const e = id & this.rmask
    this.fpA[e] = a
    this.fpB[e] = b
    this.key[e] = key
    this.flow[e] = flow
    this.kind[e] = kind
    this.mask[e] = 1 << s
    this.flags[e] = flags
    this.rangeFlag[e] = 0
    this.seq[e] = seq
    this.len[e] = len
    this.rsTarget[e] = rsTarget
    for (let j = 0; j < 4; j++) this.slotCap[e * 4 + j] = -1
    this.setSlot(e, s, c, frame, tRaw, tRef)
    const bk = a & this.bmask
    this.prevFp[e] = this.buckets[bk]
    this.buckets[bk] = id
    if (flow >= this.flowHead.length) {
      let n = this.flowHead.length
      while (n <= flow) n *= 2
      const f = new Float64Array(n).fill(-1)
      f.set(this.flowHead)
      this.flowHead = f
    }
    this.prevFlow[e] = this.flowHead[flow]
    this.flowHead[flow] = id
  }

  /**
   * TSO/GRO: is [seq, seq+len) of entry e covered by the byte ranges of live entries of the same flow
   * seen only on the other side (director side ↔ real-server side)? Marks those entries when it is.
   */
  private rangeCovered(e: number, id: number, directorSide: boolean): boolean {
    const flow = this.flow[e]
    const seq0 = this.seq[e]
    const want = this.len[e]
    const tE = directorSide ? this.refOfAny(e, BIT_DOUT | BIT_DIN) : this.refOfAny(e, BIT_RS)
    const span = this.cfg.maxTransit + 2 * this.cfg.guard
    let n = 0
    let x = flow < this.flowHead.length ? this.flowHead[flow] : -1
    for (let hops = 0; x >= this.tail && hops < MAX_FLOW_HOPS; hops++) {
      const f = x & this.rmask
      const next = this.prevFlow[f]
      if (x !== id && this.flow[f] === flow && this.kind[f] === KIND_REQUEST && this.len[f] > 0) {
        const m = this.mask[f]
        const hasDir = (m & (BIT_DIN | BIT_DOUT)) !== 0
        const hasRs = (m & BIT_RS) !== 0
        const other = directorSide ? hasRs && !hasDir : hasDir && !hasRs
        if (other) {
          const t = directorSide ? this.refOfAny(f, BIT_RS) : this.refOfAny(f, BIT_DOUT | BIT_DIN)
          if (Math.abs(t - tE) <= span) this.scratch[n++] = x
        }
      }
      x = next
    }
    if (n === 0) return false
    let cur = 0
    for (let progressed = true; progressed && cur < want; ) {
      progressed = false
      for (let i = 0; i < n; i++) {
        const f = this.scratch[i] & this.rmask
        const lo = (this.seq[f] - seq0) | 0
        const hi = lo + this.len[f]
        if (lo <= cur && hi > cur) {
          cur = hi
          progressed = true
        }
      }
    }
    if (cur < want) return false
    for (let i = 0; i < n; i++) {
      const f = this.scratch[i] & this.rmask
      const lo = (this.seq[f] - seq0) | 0
      if (lo < want && lo + this.len[f] > 0) this.rangeFlag[f] = 1
    }
    return true
  }

  /** Reference time of the first filled slot among `bits` (path order). */
  private refOfAny(e: number, bits: number): number {
    const m = this.mask[e] & bits
    for (let j = 0; j < 4; j++) if ((m & (1 << j)) !== 0) return this.slotRef[e * 4 + j]
    return NaN
  }

  private judge(e: number, id: number): void {
    const m = this.mask[e]
    const tl = this.tl
    const flow = this.flow[e]
    let fate: number = FATE.UNJUDGED
    let proof = 0
    if (this.kind[e] === KIND_REQUEST) {
      if ((m & (BIT_DIN | BIT_DOUT)) !== 0) {
        proof = (m & BIT_DOUT) !== 0 ? 2 : 1
        if ((m & BIT_RS) !== 0) fate = FATE.DELIVERED
        else if (this.rangeFlag[e] === 1 || (this.len[e] > 0 && this.rangeCovered(e, id, true))) {
          fate = FATE.DELIVERED
          this.totals.byteRangeMatched++
        } else if ((m & BIT_DOUT) !== 0) {
          const t = this.slotRef[e * 4 + 2]
          const target = this.rsTarget[e]
          const covered = target >= 0 ? tl.covers(target, t) : target === -2 ? tl.anyCovers(ROLE_RS, t) : false
          fate = covered ? FATE.LOST_ON_PATH : FATE.UNJUDGED
        } else fate = FATE.NOT_FORWARDED
      } else if ((m & BIT_RS) !== 0) {
        proof = 3
        if (this.rangeFlag[e] === 1 || (this.len[e] > 0 && this.rangeCovered(e, id, false))) fate = FATE.COUNTED_ELSEWHERE
        else fate = tl.anyCovers(ROLE_DIRECTOR, this.slotRef[e * 4 + 3]) ? FATE.ONLY_AT_RS : FATE.UNJUDGED
      } else {
        proof = 0
        fate = tl.anyCovers(ROLE_DIRECTOR, this.slotRef[e * 4]) ? FATE.LOST_BEFORE_DIRECTOR : FATE.UNJUDGED
      }
    } else {
      proof = (m & BIT_RS) !== 0 ? 3 : 0
      if ((m & BIT_RS) !== 0 && (m & BIT_CLI) !== 0) fate = FATE.REPLY_DELIVERED
      else if ((m & BIT_RS) !== 0) fate = tl.anyCovers(ROLE_CLIENT, this.slotRef[e * 4 + 3]) ? FATE.REPLY_LOST : FATE.UNJUDGED
    }
    if (fate === FATE.DELIVERED || fate === FATE.LOST_ON_PATH || fate === FATE.NOT_FORWARDED || fate === FATE.ONLY_AT_RS) {
      this.flows.seen(flow, this.refOfAny(e, 0xf))
    }
    const t = this.totals
    switch (fate) {
      case FATE.DELIVERED:
        t.delivered++
        this.flows.inc(flow, F_MATCHED)
        break
      case FATE.LOST_ON_PATH:
        t.lostOnPath++
        this.flows.inc(flow, F_LOST)
        break
      case FATE.NOT_FORWARDED:
        t.notForwarded++
        this.flows.inc(flow, F_NOT_FORWARDED)
        break
      case FATE.ONLY_AT_RS:
        t.onlyAtRealServer++
        this.flows.inc(flow, F_ONLY_RS)
        break
      case FATE.LOST_BEFORE_DIRECTOR:
        t.lostBeforeDirector++
        break
      case FATE.REPLY_LOST:
        t.replyLost++
        break
      case FATE.REPLY_DELIVERED:
        t.repliesDelivered++
        break
      case FATE.UNJUDGED:
        t.unjudged++
        break
    }
    const notable = fate === FATE.LOST_ON_PATH || fate === FATE.NOT_FORWARDED || fate === FATE.ONLY_AT_RS || fate === FATE.LOST_BEFORE_DIRECTOR || fate === FATE.REPLY_LOST
    if (notable) {
      if (this.notable.length < this.cfg.maxNotable) this.notable.push(this.record(e, fate, proof))
      else this.notableOmitted++
    }
    const q = this.cfg.queries
    for (let j = 0; j < 4; j++) {
      if ((m & (1 << j)) === 0) continue
      const c = this.slotCap[e * 4 + j]
      const set = q[c]
      if (set !== null && set.has(this.slotFrame[e * 4 + j])) this.answers.set(`${c}:${this.slotFrame[e * 4 + j]}`, this.record(e, fate, proof))
    }
  }

  private record(e: number, fate: number, proof: number): NotableRecord {
    const cap: number[] = []
    const frame: number[] = []
    const raw: number[] = []
    for (let j = 0; j < 4; j++) {
      const k = e * 4 + j
      const has = (this.mask[e] & (1 << j)) !== 0
      cap.push(has ? this.slotCap[k] : -1)
      frame.push(has ? this.slotFrame[k] : 0)
      raw.push(has ? this.slotRaw[k] : NaN)
    }
    return {fate, proof, kind: this.kind[e], flow: this.flow[e], flags: this.flags[e], seq: this.seq[e], len: this.len[e], cap, frame, raw}
  }

  private allocate(n: number): void {
    this.fpA = new Uint32Array(n)
    this.fpB = new Uint32Array(n)
    this.key = new Float64Array(n)
    this.flow = new Int32Array(n)
    this.kind = new Uint8Array(n)
    this.mask = new Uint8Array(n)
    this.flags = new Uint8Array(n)
    this.rangeFlag = new Uint8Array(n)
    this.seq = new Uint32Array(n)
    this.len = new Uint32Array(n)
    this.rsTarget = new Int16Array(n)
    this.prevFp = new Float64Array(n)
    this.prevFlow = new Float64Array(n)
    this.slotCap = new Int8Array(n * 4)
    this.slotFrame = new Float64Array(n * 4)
    this.slotRaw = new Float64Array(n * 4)
    this.slotRef = new Float64Array(n * 4)
  }

  /** Double the ring, moving live entries to their slots under the new mask (ids stay valid). */
  private grow(): void {
    const old = {
      fpA: this.fpA, fpB: this.fpB, key: this.key, flow: this.flow, kind: this.kind, mask: this.mask, flags: this.flags,
      rangeFlag: this.rangeFlag, seq: this.seq, len: this.len, rsTarget: this.rsTarget, prevFp: this.prevFp,
      prevFlow: this.prevFlow, slotCap: this.slotCap, slotFrame: this.slotFrame, slotRaw: this.slotRaw, slotRef: this.slotRef,
    }
    const oldMask = this.rmask
    this.cap *= 2
    this.rmask = this.cap - 1
    this.allocate(this.cap)
    for (let id = this.tail; id < this.head; id++) {
      const o = id & oldMask
      const n = id & this.rmask
      this.fpA[n] = old.fpA[o]
      this.fpB[n] = old.fpB[o]
      this.key[n] = old.key[o]
      this.flow[n] = old.flow[o]
      this.kind[n] = old.kind[o]
      this.mask[n] = old.mask[o]
      this.flags[n] = old.flags[o]
      this.rangeFlag[n] = old.rangeFlag[o]
      this.seq[n] = old.seq[o]
      this.len[n] = old.len[o]
      this.rsTarget[n] = old.rsTarget[o]
      this.prevFp[n] = old.prevFp[o]
      this.prevFlow[n] = old.prevFlow[o]
      for (let j = 0; j < 4; j++) {
        this.slotCap[n * 4 + j] = old.slotCap[o * 4 + j]
        this.slotFrame[n * 4 + j] = old.slotFrame[o * 4 + j]
        this.slotRaw[n * 4 + j] = old.slotRaw[o * 4 + j]
        this.slotRef[n * 4 + j] = old.slotRef[o * 4 + j]
      }
    }
    // Bucket heads hold ids, so only the table size changes: rebuild it from the live entries.
    this.buckets = new Float64Array(this.cap * 4).fill(-1)
    this.bmask = this.cap * 4 - 1
    for (let id = this.tail; id < this.head; id++) {
      const e = id & this.rmask
      const bk = this.fpA[e] & this.bmask
      this.prevFp[e] = this.buckets[bk]
      this.buckets[bk] = id
    }
  }
}
