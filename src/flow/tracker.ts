/**
 * FlowTracker: the per-frame entry point of the flow stage. For every decoded frame it finds or
 * creates the flow (TCP and UDP), updates counters, runs the Wireshark TCP analysis and the
 * Zeek-style history, and leaves the frame's analysis in `result` (one reusable object). Idle
 * flows are evicted to a callback with their summary, so memory follows concurrency.
 */
import type {CaptureRecord} from '../capture/record.js'
import {ipv4ToString, ipv6ToString} from '../decode/format.js'
import {IPPROTO_TCP, IPPROTO_UDP, Stop} from '../decode/packet.js'
import type {Packet} from '../decode/packet.js'
import {ConnHistory} from './history.js'
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
  /** Receives each flow that leaves the table (idle, replaced by a reused-ports SYN, or flush()). */
  onEvict?: (flow: FlowSummary) => void
  /** Cap on unacked segments remembered per direction (Wireshark: 10000). */
  maxUnackedSegments?: number
}

export type EvictReason = 'idle' | 'reused-ports' | 'flush'

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

/** Per-direction counters, one row per flow slot × 2 (index slot*2 + (orig ? 0 : 1)). */
const N_FLAGS = TCP_ANALYSIS_FLAG_NAMES.length

export class FlowTracker {
  /** Analysis of the last observed frame. */
  readonly result = new TcpAnalysisResult()
  /** Slot and direction of the last observed frame (valid when observe() returned ≥ 0). */
  slot = -1
  isOrig = false

  private readonly table = new FlowTable(1024)
  private readonly tcp: TcpAnalyzer
  private readonly hist = new ConnHistory()
  private readonly idleSec: number
  private readonly idleFrames: number
  private readonly onEvict: ((flow: FlowSummary) => void) | undefined
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
  private cap = 0
  private nowSec = -Infinity
  private lastSweepSec = -Infinity
  /** Frames observed (the packet clock for idleness). */
  private frameCount = 0
  private lastSweepFrame = 0

  // per flow slot
  private id = new Float64Array(0)
  private origDir = new Uint8Array(0)
  private firstSec = new Float64Array(0)
  private firstNsec = new Float64Array(0)
  private lastSec = new Float64Array(0)
  private lastNsec = new Float64Array(0)
  private firstFrame = new Float64Array(0)
  private lastFrame = new Float64Array(0)
  private reusedOf = new Float64Array(0)
  private lastSeen = new Float64Array(0)
  // per endpoint (slot*2 + (orig ? 0 : 1))
  private packets = new Float64Array(0)
  private payload = new Float64Array(0)
  private wire = new Float64Array(0)
  private syns = new Uint32Array(0)
  private fins = new Uint32Array(0)
  private rsts = new Uint32Array(0)
  private flagCounts = new Uint32Array(0)
  private addrs: string[] = []

  constructor(opts: FlowTrackerOptions = {}) {
    const idle = opts.idleTimeoutSec ?? 300
    this.idleSec = idle > 0 ? idle : 0
    this.idleFrames = Math.max(0, opts.idleMinFrames ?? 10_000)
    this.onEvict = opts.onEvict
    this.tcp = new TcpAnalyzer(opts.maxUnackedSegments ?? DEFAULT_MAX_UNACKED)
    this.ensureCapacity()
  }

  /** Number of flows currently held. */
  get liveFlows(): number {
    return this.table.size
  }

  /** Unacked-segment nodes currently held across all flows (memory check). */
  get unackedSegments(): number {
    return this.tcp.unackedNodesInUse
  }

  /**
   * Account one decoded frame. Returns the flow id, or -1 for frames that belong to no flow
   * (not TCP/UDP, IP fragments, headers cut before the ports). The TCP analysis of the frame is in
   * `this.result` (result.analysed is false for non-TCP frames and for TCP segments whose length
   * Wireshark would not know).
   */
  observe(rec: CaptureRecord, pkt: Packet): number {
    const res = this.result
    res.clear()
    this.slot = -1
    if (pkt.ipVersion === 0 || pkt.fragment) return -1
    const proto = pkt.proto
    let tcpUsable = false
    if (proto === IPPROTO_TCP) {
      // tcpHdrLen is set once the fixed header was read; a cut inside the options still counts.
      if (pkt.tcpHdrLen < 20 || (pkt.stop !== Stop.Ok && pkt.stop !== Stop.Truncated)) return -1
      tcpUsable = true
    } else if (proto === IPPROTO_UDP) {
      if (pkt.stop !== Stop.Ok) return -1
    } else {
      return -1
    }

    const sec = rec.tsSec
    const nsec = rec.tsNsec
    if (sec > this.nowSec) this.nowSec = sec
    this.frameCount++
    if (
      this.idleSec > 0 &&
      this.nowSec - this.lastSweepSec >= this.idleSec / 8 &&
      this.frameCount - this.lastSweepFrame >= this.idleFrames / 8 &&
      // Amortised: a sweep visits every flow, so wait at least a quarter as many frames.
      this.frameCount - this.lastSweepFrame >= this.table.size / 4
    )
      this.sweep()

    let slot = this.table.find(pkt)
    const dir = this.table.dir
    const flags = tcpUsable ? pkt.tcpFlags : 0
    let reused = false
    if (slot >= 0 && tcpUsable && (flags & (SYN | ACK)) === SYN && this.tcp.synStartsNewConversation(slot, dir, pkt.seq)) {
      const oldId = this.id[slot]
      this.evict(slot, 'reused-ports')
      this.table.find(pkt) // insert() reuses this lookup's hash and direction
      reused = true
      slot = this.create(pkt, rec, flags)
      this.reusedOf[slot] = oldId
    } else if (slot < 0) {
      slot = this.create(pkt, rec, flags)
    }
    const isOrig = this.origDir[slot] === this.table.dir
    this.slot = slot
    this.isOrig = isOrig
    const e = slot * 2 + (isOrig ? 0 : 1)

    this.lastSec[slot] = sec
    this.lastNsec[slot] = nsec
    this.lastFrame[slot] = rec.frame
    this.lastSeen[slot] = this.frameCount
    this.packets[e]++
    this.wire[e] += rec.origlen

    if (!tcpUsable) {
      this.payload[e] += pkt.payloadLen
      return this.id[slot]
    }
    if (flags & SYN) this.syns[e]++
    if (flags & FIN) this.fins[e]++
    if (flags & RST) this.rsts[e]++

    // Wireshark's seglen: what the IP header reports, bounded by the frame's reported length.
    const reportedEnd = rec.offset + rec.origlen - rec.fcsLen
    let ipLen = pkt.ipTotalLen
    const avail = reportedEnd - pkt.l3Off
    if (avail < ipLen) ipLen = avail
    const seglen = ipLen - pkt.ipHdrLen - pkt.tcpHdrLen
    if (seglen >= 0) {
      this.payload[e] += seglen
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
      s.headerComplete = pkt.stop === Stop.Ok
      this.tcp.analyze(slot, this.table.dir, s, reused, res)
      let f = tsharkFlags(res.flags)
      const base = e * N_FLAGS
      for (let i = 0; f !== 0 && i < N_FLAGS; i++) {
        const bit = TCP_ANALYSIS_FLAG_NAMES[i][0]
        if (f & bit) {
          this.flagCounts[base + i]++
          f &= ~bit
        }
      }
    } else if (reused) {
      res.flags = TCP_A_REUSED_PORTS
    }
    this.hist.observeTcp(slot, isOrig, pkt.seq, flags, pkt.window, seglen > 0 ? seglen : 0)
    return this.id[slot]
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
      if (this.table.isLive(s) && this.lastSec[s] < limit && this.lastSeen[s] <= frameLimit) this.evict(s, 'idle')
    }
  }

  private evict(slot: number, reason: EvictReason): void {
    if (this.onEvict) this.onEvict(this.summary(slot, reason))
    this.tcp.releaseFlow(slot)
    this.table.remove(slot)
  }

  private create(pkt: Packet, rec: CaptureRecord, flags: number): number {
    const slot = this.table.insert(pkt)
    this.ensureCapacity()
    // Zeek's originator: the first sender, unless its first packet answers a SYN (SYN/ACK).
    const flipped = pkt.proto === IPPROTO_TCP && (flags & (SYN | ACK)) === (SYN | ACK)
    this.origDir[slot] = flipped ? this.table.dir ^ 1 : this.table.dir
    this.id[slot] = this.nextId++
    this.firstSec[slot] = rec.tsSec
    this.firstNsec[slot] = rec.tsNsec
    this.firstFrame[slot] = rec.frame
    this.reusedOf[slot] = -1
    // Endpoint strings are built once per flow, here.
    const od = this.origDir[slot]
    for (let role = 0; role < 2; role++) {
      const d = role === 0 ? od : od ^ 1
      const w = this.table.addrWords(slot, d)
      this.addrs[slot * 2 + role] = pkt.ipVersion === 4 ? ipv4ToString(w[3]) : ipv6ToString(w)
    }
    for (let e = slot * 2; e < slot * 2 + 2; e++) {
      this.packets[e] = 0
      this.payload[e] = 0
      this.wire[e] = 0
      this.syns[e] = 0
      this.fins[e] = 0
      this.rsts[e] = 0
      this.flagCounts.fill(0, e * N_FLAGS, (e + 1) * N_FLAGS)
    }
    this.tcp.initFlow(slot)
    this.hist.initFlow(slot, flipped)
    return slot
  }

  private ensureCapacity(): void {
    const n = this.table.capacity
    if (n <= this.cap) return
    this.tcp.ensureCapacity(n)
    this.hist.ensureCapacity(n)
    this.id = widen(this.id, new Float64Array(n))
    this.origDir = widen(this.origDir, new Uint8Array(n))
    this.firstSec = widen(this.firstSec, new Float64Array(n))
    this.firstNsec = widen(this.firstNsec, new Float64Array(n))
    this.lastSec = widen(this.lastSec, new Float64Array(n))
    this.lastNsec = widen(this.lastNsec, new Float64Array(n))
    this.firstFrame = widen(this.firstFrame, new Float64Array(n))
    this.lastFrame = widen(this.lastFrame, new Float64Array(n))
    this.reusedOf = widen(this.reusedOf, new Float64Array(n))
    this.lastSeen = widen(this.lastSeen, new Float64Array(n))
    this.packets = widen(this.packets, new Float64Array(n * 2))
    this.payload = widen(this.payload, new Float64Array(n * 2))
    this.wire = widen(this.wire, new Float64Array(n * 2))
    this.syns = widen(this.syns, new Uint32Array(n * 2))
    this.fins = widen(this.fins, new Uint32Array(n * 2))
    this.rsts = widen(this.rsts, new Uint32Array(n * 2))
    this.flagCounts = widen(this.flagCounts, new Uint32Array(n * 2 * N_FLAGS))
    this.cap = n
  }

  private summary(slot: number, reason: EvictReason | 'live'): FlowSummary {
    const od = this.origDir[slot]
    const isTcp = this.table.protocol(slot) === IPPROTO_TCP
    const irtt = isTcp ? this.tcp.initialRtt(slot) : 0
    return {
      id: this.id[slot],
      protocol: isTcp ? 'tcp' : 'udp',
      ipVersion: this.table.ipVersion(slot),
      orig: this.endpoint(slot, od, 0),
      resp: this.endpoint(slot, od ^ 1, 1),
      firstSec: this.firstSec[slot],
      firstNsec: this.firstNsec[slot],
      lastSec: this.lastSec[slot],
      lastNsec: this.lastNsec[slot],
      firstFrame: this.firstFrame[slot],
      lastFrame: this.lastFrame[slot],
      history: isTcp ? this.hist.history(slot) : '',
      state: isTcp ? this.hist.connState(slot) : this.udpState(slot),
      initialRttNs: irtt === 0 ? null : irtt,
      reusedPortsOf: this.reusedOf[slot] >= 0 ? this.reusedOf[slot] : null,
      reason,
    }
  }

  /** Zeek's conn_state for UDP: traffic seen from one or both sides. */
  private udpState(slot: number): string {
    const o = this.packets[slot * 2] > 0
    const r = this.packets[slot * 2 + 1] > 0
    if (o) return r ? 'SF' : 'S0'
    return r ? 'SHR' : 'OTH'
  }

  private endpoint(slot: number, dir: number, role: number): EndpointSummary {
    // role: 0 = originator, 1 = responder; dir: the same endpoint in Wireshark's flow1/flow2 terms.
    const e = slot * 2 + role
    const analysis: Record<string, number> = {}
    for (let i = 0; i < N_FLAGS; i++) {
      const c = this.flagCounts[e * N_FLAGS + i]
      if (c > 0) analysis[TCP_ANALYSIS_FLAG_NAMES[i][1]] = c
    }
    return {
      addr: this.addrs[e],
      port: this.table.port(slot, dir),
      packets: this.packets[e],
      payloadBytes: this.payload[e],
      wireBytes: this.wire[e],
      syn: this.syns[e],
      fin: this.fins[e],
      rst: this.rsts[e],
      analysis,
    }
  }
}

function widen<T extends Uint8Array | Uint32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old)
  return bigger
}
