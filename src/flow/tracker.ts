/**
 * FlowTracker: the per-frame entry point of the flow stage. For every decoded frame it finds or
 * creates the flow (TCP and UDP), updates counters, runs the Wireshark TCP analysis and the
 * Zeek-style history, and leaves the frame's analysis in `result` (one reusable object). Idle
 * flows are evicted to a callback with their summary, so memory follows concurrency.
 *
 * All per-flow state (key, counters, analysis, history) sits in one FlowStore block per flow: with
 * tens of thousands of live flows, each frame's cost is mostly cache misses, one per separate
 * place it touches. Strings (addresses, history) are built only when a summary is asked for.
 */
import type {CaptureRecord} from '../capture/record.js'
import {ipv4ToString, ipv6ToString} from '../decode/format.js'
import {IPPROTO_TCP, IPPROTO_UDP, Stop} from '../decode/packet.js'
import type {Packet} from '../decode/packet.js'
import {ConnHistory} from './history.js'
import {
  CHUNK_SHIFT,
  T_C,
  T_C_FIN,
  T_C_FLAGS,
  T_C_N,
  T_C_RST,
  T_C_SYN,
  T_CLOSED,
  T_EP,
  T_EP_N,
  T_FIRST_FRAME,
  T_FIRST_NSEC,
  T_FIRST_SEC,
  T_ID,
  T_LAST_FRAME,
  T_LAST_NSEC,
  T_LAST_SEC,
  T_LAST_SEEN,
  T_ORIG_DIR,
  T_PACKETS,
  T_PAYLOAD,
  T_REUSED_OF,
  T_WIRE,
  A_WORDS,
  FlowStore,
  blockOf,
} from './store.js'
import {FlowTable} from './table.js'
import {
  DEFAULT_MAX_UNACKED,
  TCP_A_REUSED_PORTS,
  TCP_ANALYSIS_FLAG_NAMES,
  TcpAnalysisResult,
  TcpAnalyzer,
  tsharkFlags,
} from './tcp-analysis.js'
import type {SegmentInput} from './tcp-analysis.js'

const SYN = 0x02
const FIN = 0x01
const RST = 0x04
const ACK = 0x10

export interface FlowTrackerOptions {
  /** Evict flows idle for longer than this (capture time, seconds); 0 = never. Default 300 (Zeek's tcp_inactivity_timeout). */
  idleTimeoutSec?: number
  /**
   * A flow is idle only once this many frames have also passed since its last one (default
   * 10000): a capture with a bogus far-future timestamp, or a quiet capture, does not flush
   * every flow, yet memory stays bounded on busy ones.
   */
  idleMinFrames?: number
  /** Receives each flow that leaves the table (closed, idle, replaced by a reused-ports SYN, or flush()). */
  onEvict?: (flow: FlowSummary) => void
  /**
   * Release closed TCP flows (a RST, or a FIN each way) before they idle out, so memory follows live flows on
   * captures of many short connections. A closed flow leaves once `closeGraceSec` of capture time and
   * `closeMinFrames` frames have passed since its last frame, and only while more than `closedHold` closed
   * flows are held: a capture with fewer closed flows than that keeps them all, as before (a later SYN on the
   * same ports is then still Wireshark's "reused ports" of the old conversation). Default on when idle
   * eviction is on.
   */
  releaseClosed?: boolean
  /** Closed flows kept before any is released (default 8192). */
  closedHold?: number
  /** Capture seconds a closed flow stays after its last frame (default 5, Zeek's tcp_close_delay). */
  closeGraceSec?: number
  /** Frames that must also pass (default 1000): a bogus far-future timestamp does not release everything. */
  closeMinFrames?: number
  /** Cap on unacked segments remembered per direction (Wireshark: 10000). */
  maxUnackedSegments?: number
  /**
   * Run a second Wireshark analysis per flow over only the frames observe() is told belong to it
   * (`inCleanView`): what the capture would show without its duplicates. Sharing the flow lookup
   * costs far less than a second tracker. Its per-frame output is `cleanResult`. Without this option
   * it starts when `startCleanView()` is called.
   */
  cleanView?: boolean
  /** Keep the Zeek history and state (default true); without it summaries say history '' and state 'OTH'. */
  history?: boolean
}

export type EvictReason = 'closed' | 'idle' | 'reused-ports' | 'flush'

export interface EndpointSummary {
  addr: string
  port: number
  packets: number
  /** Transport payload bytes (TCP seglen / UDP payload), as the IP header sizes them. */
  payloadBytes: number
  /** Original frame lengths (on-the-wire bytes). */
  wireBytes: number
  syn: number
  fin: number
  rst: number
  /** tcp.analysis.* counts for frames this endpoint sent, by Wireshark filter name (tshark counting). */
  analysis: Record<string, number>
}

export interface FlowSummary {
  /** Sequential id in order of creation (like tcp.stream, but shared with UDP). */
  id: number
  /** 'tcp' or 'udp'. */
  protocol: 'tcp' | 'udp'
  ipVersion: number
  /** Originator (Zeek's notion: first sender, unless the first packet was a SYN/ACK). */
  orig: EndpointSummary
  resp: EndpointSummary
  firstSec: number
  firstNsec: number
  lastSec: number
  lastNsec: number
  firstFrame: number
  lastFrame: number
  /** Zeek conn.log history, e.g. "ShADadFf". */
  history: string
  /** Zeek conn_state (S0, S1, SF, REJ, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, S2, S3, OTH). */
  state: string
  /** Wireshark's tcp.analysis.initial_rtt in ns, null when unknown (TCP only). */
  initialRttNs: number | null
  /** Id of the conversation this one replaced through a reused-ports SYN, or null. */
  reusedPortsOf: number | null
  /** Why the summary was produced. */
  reason: EvictReason | 'live'
}

/** True for the frames observe() accounts to a TCP flow (what a replay of one flow's frames must also take). */
export function isTcpFlowFrame(pkt: Packet): boolean {
  // tcpHdrLen is set once the fixed header was read; a cut inside the options still counts.
  return pkt.ipVersion !== 0 && !pkt.fragment && pkt.proto === IPPROTO_TCP && pkt.tcpHdrLen >= 20 && (pkt.stop === Stop.Ok || pkt.stop === Stop.Truncated)
}

const N_FLAGS = TCP_ANALYSIS_FLAG_NAMES.length

if (N_FLAGS > T_C_N - T_C_FLAGS) throw new Error('flow store: too few flag counters per endpoint')

/** Column of each TCP_A_* bit (by bit position) in the per-endpoint flag counters; -1 = not counted. */
const FLAG_COLUMN = new Int8Array(32).fill(-1)
TCP_ANALYSIS_FLAG_NAMES.forEach(([bit], i) => {
  FLAG_COLUMN[31 - Math.clz32(bit)] = i
})

// Float64 fields of the flow's block, in f64 units.
const L_LAST_SEC = T_LAST_SEC / 2
const L_LAST_NSEC = T_LAST_NSEC / 2
const L_LAST_FRAME = T_LAST_FRAME / 2
const L_LAST_SEEN = T_LAST_SEEN / 2
const L_ID = T_ID / 2
const L_ORIG_DIR = T_ORIG_DIR / 2
const L_EP = T_EP / 2
const L_EP_N = T_EP_N / 2
const L_PACKETS = T_PACKETS / 2
const L_PAYLOAD = T_PAYLOAD / 2
const L_WIRE = T_WIRE / 2
const L_FIRST_SEC = T_FIRST_SEC / 2
const L_FIRST_NSEC = T_FIRST_NSEC / 2
const L_FIRST_FRAME = T_FIRST_FRAME / 2
const L_REUSED_OF = T_REUSED_OF / 2

/**
 * Closed flows waiting for their grace period, oldest close first: a ring of (slot, flow id, packet clock at
 * queueing). A flow that leaves the table another way stays in the ring until it reaches the head, where its
 * mismatching id (or cleared T_CLOSED) discards it.
 */
class ClosedQueue {
  private slot = new Int32Array(1024)
  private id = new Float64Array(1024)
  private seen = new Float64Array(1024)
  private head = 0
  length = 0

  push(slot: number, id: number, seen: number): void {
    if (this.length === this.slot.length) this.grow()
    const i = (this.head + this.length) & (this.slot.length - 1)
    this.slot[i] = slot
    this.id[i] = id
    this.seen[i] = seen
    this.length++
  }
  get headSlot(): number {
    return this.slot[this.head]
  }
  get headId(): number {
    return this.id[this.head]
  }
  get headSeen(): number {
    return this.seen[this.head]
  }
  shift(): void {
    this.head = (this.head + 1) & (this.slot.length - 1)
    this.length--
  }
  private grow(): void {
    const n = this.slot.length * 2
    const slot = new Int32Array(n)
    const id = new Float64Array(n)
    const seen = new Float64Array(n)
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & (this.slot.length - 1)
      slot[k] = this.slot[i]
      id[k] = this.id[i]
      seen[k] = this.seen[i]
    }
    this.slot = slot
    this.id = id
    this.seen = seen
    this.head = 0
  }
}

export class FlowTracker {
  /** Analysis of the last observed frame. */
  readonly result = new TcpAnalysisResult()
  /** The clean view's analysis of the last observed frame (never analysed without `cleanView`). */
  readonly cleanResult = new TcpAnalysisResult()
  /** Slot and direction of the last observed frame (valid when observe() returned ≥ 0). */
  slot = -1
  isOrig = false

  private readonly table = new FlowTable(1024)
  private readonly store: FlowStore = this.table.store
  private readonly tcp: TcpAnalyzer
  private cleanStore: FlowStore | null
  private cleanTcp: TcpAnalyzer | null
  private readonly maxUnacked: number
  private readonly keepHistory: boolean
  private readonly hist = new ConnHistory(this.store)
  private readonly idleSec: number
  private readonly idleFrames: number
  /** Sweep spacing: capture seconds and frames (Infinity when idle eviction is off). */
  private readonly sweepSec: number
  private readonly sweepFrames: number
  private readonly onEvict: ((flow: FlowSummary) => void) | undefined
  private readonly releaseClosed: boolean
  private readonly closedHold: number
  private readonly closeGraceSec: number
  private readonly closeMinFrames: number
  private readonly closed = new ClosedQueue()
  /** Closed flows in the table that wait in the queue. */
  private closedHeld = 0
  private readonly seg: SegmentInput = {
    frame: 0,
    sec: 0,
    nsec: 0,
    seq: 0,
    ack: 0,
    seglen: 0,
    tcpFlags: 0,
    window: 0,
    wscale: -1,
    headerComplete: true,
  }
  private nextId = 0
  private nowSec = -Infinity
  private lastSweepSec = -Infinity
  /** Frames observed (the packet clock for idleness). */
  private frameCount = 0
  private lastSweepFrame = 0

  constructor(opts: FlowTrackerOptions = {}) {
    const idle = opts.idleTimeoutSec ?? 300
    this.idleSec = idle > 0 ? idle : 0
    this.idleFrames = Math.max(0, opts.idleMinFrames ?? 10_000)
    this.sweepSec = this.idleSec > 0 ? this.idleSec / 8 : Infinity
    this.sweepFrames = this.idleSec > 0 ? this.idleFrames / 8 : Infinity
    this.onEvict = opts.onEvict
    this.releaseClosed = opts.releaseClosed ?? this.idleSec > 0
    this.closedHold = Math.max(0, opts.closedHold ?? 8192)
    this.closeGraceSec = Math.max(0, opts.closeGraceSec ?? 5)
    this.closeMinFrames = Math.max(0, opts.closeMinFrames ?? 1000)
    this.maxUnacked = opts.maxUnackedSegments ?? DEFAULT_MAX_UNACKED
    this.tcp = new TcpAnalyzer(this.store, this.maxUnacked)
    this.keepHistory = opts.history ?? true
    this.cleanStore = null
    this.cleanTcp = null
    if (opts.cleanView) this.startCleanView()
  }

  /**
   * Start the clean view now (option `cleanView` starts it at once): until the first frame it does not see,
   * it would equal the full view, so it begins as a copy of the full view's state of every live flow.
   */
  startCleanView(): void {
    if (this.cleanTcp !== null) return
    const store = new FlowStore(A_WORDS)
    const tcp = new TcpAnalyzer(store, this.maxUnacked)
    store.grow(this.store.capacity)
    for (let s = 0; s < this.table.slotLimit; s++) if (this.table.isLive(s)) tcp.copyFlowFrom(this.tcp, s)
    this.cleanStore = store
    this.cleanTcp = tcp
  }

  /** Number of flows currently held. */
  get liveFlows(): number {
    return this.table.size
  }

  /** Flow slots the table has handed out (live + free): what its memory follows. */
  get slotsAllocated(): number {
    return this.table.slotLimit
  }

  /** Unacked-segment pool nodes currently held across all flows (memory check). */
  get unackedSegments(): number {
    return this.tcp.unackedNodesInUse
  }

  /** The same for the clean view (0 before it starts). */
  get cleanUnackedSegments(): number {
    return this.cleanTcp?.unackedNodesInUse ?? 0
  }

  /**
   * Account one decoded frame. Returns the flow id, or -1 for frames that belong to no flow
   * (not TCP/UDP, IP fragments, headers cut before the ports). The TCP analysis of the frame is in
   * `this.result` (result.analysed is false for non-TCP frames and for TCP segments whose length
   * Wireshark would not know). `inCleanView` says whether the clean view (option `cleanView`) sees
   * the frame.
   */
  observe(rec: CaptureRecord, pkt: Packet, inCleanView = true): number {
    const res = this.result
    res.analysed = false
    res.flags = 0
    res.dupAckNum = 0
    res.dupAckFrame = 0
    if (this.cleanTcp !== null) this.cleanResult.clear()
    this.slot = -1
    if (pkt.ipVersion === 0 || pkt.fragment) return -1
    const proto = pkt.proto
    const stop = pkt.stop
    let tcpUsable = false
    if (proto === IPPROTO_TCP) {
      if (!isTcpFlowFrame(pkt)) return -1
      tcpUsable = true
    } else if (proto === IPPROTO_UDP) {
      if (stop !== Stop.Ok) return -1
    } else {
      return -1
    }

    const sec = rec.tsSec
    const nsec = rec.tsNsec
    if (sec > this.nowSec) this.nowSec = sec
    const frames = ++this.frameCount
    const sinceSweep = frames - this.lastSweepFrame
    if (
      sinceSweep >= this.sweepFrames &&
      this.nowSec - this.lastSweepSec >= this.sweepSec &&
      // Amortised: a sweep visits every flow, so wait at least a quarter as many frames.
      sinceSweep >= this.table.size / 4
    )
      this.sweep()
    if (this.closedHeld > this.closedHold) this.releaseClosedFlows()

    const table = this.table
    let slot = table.find(pkt)
    const flags = tcpUsable ? pkt.tcpFlags : 0
    let reused = false
    if (slot < 0) {
      slot = this.create(pkt, rec, flags)
    } else if ((flags & (SYN | ACK)) === SYN && tcpUsable && this.tcp.synStartsNewConversation(slot, table.dir, pkt.seq)) {
      const oldId = this.store.f64[slot >>> CHUNK_SHIFT][blockOf(slot) / 2 + L_ID]
      this.evict(slot, 'reused-ports')
      table.find(pkt) // insert() reuses this lookup's hash and direction
      reused = true
      slot = this.create(pkt, rec, flags)
      this.store.f64[slot >>> CHUNK_SHIFT][blockOf(slot) / 2 + L_REUSED_OF] = oldId
    }
    const ch = slot >>> CHUNK_SHIFT
    const f64 = this.store.f64[ch]
    const u32 = this.store.u32[ch]
    const b = blockOf(slot)
    const fo = b / 2
    const dir = table.dir
    const isOrig = f64[fo + L_ORIG_DIR] === dir
    const role = isOrig ? 0 : 1
    this.slot = slot
    this.isOrig = isOrig
    const ep = fo + L_EP + role * L_EP_N

    f64[fo + L_LAST_SEC] = sec
    f64[fo + L_LAST_NSEC] = nsec
    f64[fo + L_LAST_FRAME] = rec.frame
    f64[fo + L_LAST_SEEN] = frames
    f64[ep + L_PACKETS]++
    f64[ep + L_WIRE] += rec.origlen

    if (!tcpUsable) {
      f64[ep + L_PAYLOAD] += pkt.payloadLen
      return f64[fo + L_ID]
    }
    const c = b + T_C + role * T_C_N
    if (flags & (SYN | FIN | RST)) {
      if (flags & SYN) u32[c + T_C_SYN]++
      if (flags & FIN) u32[c + T_C_FIN]++
      if (flags & RST) u32[c + T_C_RST]++
      if (flags & (FIN | RST) && this.releaseClosed && u32[b + T_CLOSED] === 0) this.noteClosing(slot, b, u32, f64[fo + L_ID], frames)
    }

    // Wireshark's seglen: what the IP header reports, bounded by the frame's reported length.
    const reportedEnd = rec.offset + rec.origlen - rec.fcsLen
    let ipLen = pkt.ipTotalLen
    const avail = reportedEnd - pkt.l3Off
    if (avail < ipLen) ipLen = avail
    const seglen = ipLen - pkt.ipHdrLen - pkt.tcpHdrLen
    if (seglen >= 0) {
      f64[ep + L_PAYLOAD] += seglen
      const s = this.seg
      s.frame = rec.frame
      s.sec = sec
      s.nsec = nsec
      s.seq = pkt.seq
      s.ack = pkt.ack
      s.seglen = seglen
      s.tcpFlags = flags
      s.window = pkt.window
      s.wscale = pkt.wscale
      s.headerComplete = stop === Stop.Ok
      this.tcp.analyze(slot, dir, s, reused, res)
      if (this.cleanTcp !== null && inCleanView) this.cleanTcp.analyze(slot, dir, s, reused, this.cleanResult)
      let f = tsharkFlags(res.flags)
      if (f !== 0) {
        const base = c + T_C_FLAGS
        while (f !== 0) {
          const low = f & -f
          const col = FLAG_COLUMN[31 - Math.clz32(low)]
          if (col >= 0) u32[base + col]++
          f ^= low
        }
      }
    } else if (reused) {
      res.flags = TCP_A_REUSED_PORTS
      if (inCleanView) this.cleanResult.flags = TCP_A_REUSED_PORTS
    }
    // seq as int32: a uint32 above 2^31 would be boxed (allocated) as an argument.
    if (this.keepHistory) this.hist.observeTcp(slot, isOrig, pkt.seq | 0, flags, pkt.window, seglen > 0 ? seglen : 0)
    return f64[fo + L_ID]
  }

  /** Summaries of the flows currently in the table (allocates; call at the end or for reports). */
  flows(): FlowSummary[] {
    const out: FlowSummary[] = []
    for (let s = 0; s < this.table.slotLimit; s++) if (this.table.isLive(s)) out.push(this.summary(s, 'live'))
    out.sort((a, b) => a.id - b.id)
    return out
  }

  /** Hand every remaining flow to onEvict (if any) and empty the table. */
  flush(): void {
    for (let s = 0; s < this.table.slotLimit; s++) if (this.table.isLive(s)) this.evict(s, 'flush')
  }

  /** Evict idle flows (also run automatically as capture time and frames advance). */
  sweep(): void {
    this.lastSweepSec = this.nowSec
    this.lastSweepFrame = this.frameCount
    if (this.idleSec <= 0) return
    const limit = this.nowSec - this.idleSec
    const frameLimit = this.frameCount - this.idleFrames
    for (let s = 0; s < this.table.slotLimit; s++) {
      const o = blockOf(s) / 2
      const f64 = this.store.f64[s >>> CHUNK_SHIFT]
      if (f64[o + L_LAST_SEC] < limit && f64[o + L_LAST_SEEN] <= frameLimit && this.table.isLive(s)) this.evict(s, 'idle')
    }
  }

  /** Queue a flow that is now closed: a RST either way, or a FIN each way. */
  private noteClosing(slot: number, b: number, u32: Uint32Array, id: number, frames: number): void {
    const o = b + T_C
    const n = T_C_N
    const rst = u32[o + T_C_RST] + u32[o + n + T_C_RST]
    if (rst === 0 && (u32[o + T_C_FIN] === 0 || u32[o + n + T_C_FIN] === 0)) return
    u32[b + T_CLOSED] = 1
    this.closed.push(slot, id, frames)
    this.closedHeld++
  }

  /**
   * Release closed flows, oldest first, while more than `closedHold` are held and the oldest is past its grace.
   * A flow that took frames after it closed goes to the back of the queue; the oldest one not yet past its
   * grace stops the round (a few reads per frame until it is).
   */
  private releaseClosedFlows(): void {
    const q = this.closed
    const limitSec = this.nowSec - this.closeGraceSec
    const limitFrames = this.frameCount - this.closeMinFrames
    while (q.length > 0 && this.closedHeld > this.closedHold) {
      const s = q.headSlot
      const id = q.headId
      const seen = q.headSeen
      const ch = s >>> CHUNK_SHIFT
      const b = blockOf(s)
      const f64 = this.store.f64[ch]
      // The flow left the table another way (idle, reused ports) and the slot may hold a new one.
      if (this.store.u32[ch][b + T_CLOSED] === 0 || f64[b / 2 + L_ID] !== id) {
        q.shift()
        continue
      }
      const lastSeen = f64[b / 2 + L_LAST_SEEN]
      if (lastSeen > seen) {
        q.shift()
        q.push(s, id, lastSeen)
        continue
      }
      if (f64[b / 2 + L_LAST_SEC] >= limitSec || lastSeen > limitFrames) return
      q.shift()
      this.evict(s, 'closed')
    }
  }

  private evict(slot: number, reason: EvictReason): void {
    const u32 = this.store.u32[slot >>> CHUNK_SHIFT]
    const b = blockOf(slot)
    if (u32[b + T_CLOSED] !== 0) {
      u32[b + T_CLOSED] = 0
      this.closedHeld--
    }
    if (this.onEvict) this.onEvict(this.summary(slot, reason))
    this.tcp.releaseFlow(slot)
    if (this.cleanTcp !== null) this.cleanTcp.releaseFlow(slot)
    this.table.remove(slot)
  }

  private create(pkt: Packet, rec: CaptureRecord, flags: number): number {
    const slot = this.table.insert(pkt) // may grow the store: views are read after it
    // Zeek's originator: the first sender, unless its first packet answers a SYN (SYN/ACK).
    const flipped = pkt.proto === IPPROTO_TCP && (flags & (SYN | ACK)) === (SYN | ACK)
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const u32 = this.store.u32[slot >>> CHUNK_SHIFT]
    const o = blockOf(slot) / 2
    f64[o + L_ORIG_DIR] = flipped ? this.table.dir ^ 1 : this.table.dir
    f64[o + L_ID] = this.nextId++
    for (let k = L_EP; k < L_EP + 2 * L_EP_N; k++) f64[o + k] = 0
    f64[o + L_FIRST_SEC] = rec.tsSec
    f64[o + L_FIRST_NSEC] = rec.tsNsec
    f64[o + L_FIRST_FRAME] = rec.frame
    f64[o + L_REUSED_OF] = -1
    const c = blockOf(slot) + T_C
    for (let k = 0; k < 2 * T_C_N; k++) u32[c + k] = 0
    u32[blockOf(slot) + T_CLOSED] = 0
    this.tcp.initFlow(slot)
    if (this.cleanTcp !== null) {
      const cs = this.cleanStore as FlowStore
      if (slot >= cs.capacity) cs.grow(slot + 1)
      this.cleanTcp.initFlow(slot)
    }
    if (this.keepHistory) this.hist.initFlow(slot, flipped)
    return slot
  }

  private summary(slot: number, reason: EvictReason | 'live'): FlowSummary {
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const o = blockOf(slot) / 2
    const od = f64[o + L_ORIG_DIR]
    const isTcp = this.table.protocol(slot) === IPPROTO_TCP
    const irtt = isTcp ? this.tcp.initialRtt(slot) : 0
    const reusedOf = f64[o + L_REUSED_OF]
    return {
      id: f64[o + L_ID],
      protocol: isTcp ? 'tcp' : 'udp',
      ipVersion: this.table.ipVersion(slot),
      orig: this.endpoint(slot, od, 0),
      resp: this.endpoint(slot, od ^ 1, 1),
      firstSec: f64[o + L_FIRST_SEC],
      firstNsec: f64[o + L_FIRST_NSEC],
      lastSec: f64[o + L_LAST_SEC],
      lastNsec: f64[o + L_LAST_NSEC],
      firstFrame: f64[o + L_FIRST_FRAME],
      lastFrame: f64[o + L_LAST_FRAME],
      history: isTcp && this.keepHistory ? this.hist.history(slot) : '',
      state: !isTcp ? this.udpState(slot) : this.keepHistory ? this.hist.connState(slot) : 'OTH',
      initialRttNs: irtt === 0 ? null : irtt,
      reusedPortsOf: reusedOf >= 0 ? reusedOf : null,
      reason,
    }
  }

  /** Zeek's conn_state for UDP: traffic seen from one or both sides. */
  private udpState(slot: number): string {
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const o = blockOf(slot) / 2 + L_EP
    const orig = f64[o + L_PACKETS] > 0
    const resp = f64[o + L_EP_N + L_PACKETS] > 0
    if (orig) return resp ? 'SF' : 'S0'
    return resp ? 'SHR' : 'OTH'
  }

  private endpoint(slot: number, dir: number, role: number): EndpointSummary {
    // role: 0 = originator, 1 = responder; dir: the same endpoint in Wireshark's flow1/flow2 terms.
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const u32 = this.store.u32[slot >>> CHUNK_SHIFT]
    const c = blockOf(slot) + T_C + role * T_C_N
    const analysis: Record<string, number> = {}
    for (let i = 0; i < N_FLAGS; i++) {
      const n = u32[c + T_C_FLAGS + i]
      if (n > 0) analysis[TCP_ANALYSIS_FLAG_NAMES[i][1]] = n
    }
    const ep = blockOf(slot) / 2 + L_EP + role * L_EP_N
    // The address string is built here, once per flow summary, never per packet.
    const addr =
      this.table.ipVersion(slot) === 4
        ? ipv4ToString(this.table.addrV4(slot, dir))
        : ipv6ToString(this.table.addrWords(slot, dir))
    return {
      addr,
      port: this.table.port(slot, dir),
      packets: f64[ep + L_PACKETS],
      payloadBytes: f64[ep + L_PAYLOAD],
      wireBytes: f64[ep + L_WIRE],
      syn: u32[c + T_C_SYN],
      fin: u32[c + T_C_FIN],
      rst: u32[c + T_C_RST],
      analysis,
    }
  }
}
