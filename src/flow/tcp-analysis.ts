/**
 * Wireshark-compatible TCP sequence analysis (`tcp.analysis.*`), a re-statement of
 * `tcp_analyze_sequence_number()` and its callers in Wireshark 4.0's packet-tcp.c (tshark 4.0.17
 * is the oracle; where master differs — pk_already_seen, SACK-driven fast retransmission and
 * dup-ACK promotion, ZWP-ACK resumption — 4.0 is followed). Everything works on raw sequence
 * numbers, first pass, file order.
 *
 * State lives in typed arrays indexed by "direction slot" = flowSlot * 2 + dir, where dir 0 is
 * Wireshark's flow1 (packets whose source address, then port, compares greater) and dir 1 flow2.
 * Nothing here allocates per frame; the unacked-segment lists share one growable node pool.
 */

export const TCP_A_RETRANSMISSION = 0x0001
export const TCP_A_LOST_PACKET = 0x0002
export const TCP_A_ACK_LOST_PACKET = 0x0004
export const TCP_A_KEEP_ALIVE = 0x0008
export const TCP_A_DUPLICATE_ACK = 0x0010
export const TCP_A_ZERO_WINDOW = 0x0020
export const TCP_A_ZERO_WINDOW_PROBE = 0x0040
export const TCP_A_ZERO_WINDOW_PROBE_ACK = 0x0080
export const TCP_A_KEEP_ALIVE_ACK = 0x0100
export const TCP_A_OUT_OF_ORDER = 0x0200
export const TCP_A_FAST_RETRANSMISSION = 0x0400
export const TCP_A_WINDOW_UPDATE = 0x0800
export const TCP_A_WINDOW_FULL = 0x1000
export const TCP_A_REUSED_PORTS = 0x2000
export const TCP_A_SPURIOUS_RETRANSMISSION = 0x4000

/** What `tshark -Y tcp.analysis.retransmission` matches: fast and spurious add the plain flag too. */
export const TCP_A_ANY_RETRANSMISSION =
  TCP_A_RETRANSMISSION | TCP_A_FAST_RETRANSMISSION | TCP_A_SPURIOUS_RETRANSMISSION

/** Wireshark's display-filter name of each flag bit (tcp.analysis.<name>). */
export const TCP_ANALYSIS_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [TCP_A_RETRANSMISSION, 'retransmission'],
  [TCP_A_FAST_RETRANSMISSION, 'fast_retransmission'],
  [TCP_A_SPURIOUS_RETRANSMISSION, 'spurious_retransmission'],
  [TCP_A_OUT_OF_ORDER, 'out_of_order'],
  [TCP_A_DUPLICATE_ACK, 'duplicate_ack'],
  [TCP_A_KEEP_ALIVE, 'keep_alive'],
  [TCP_A_KEEP_ALIVE_ACK, 'keep_alive_ack'],
  [TCP_A_ZERO_WINDOW, 'zero_window'],
  [TCP_A_ZERO_WINDOW_PROBE, 'zero_window_probe'],
  [TCP_A_ZERO_WINDOW_PROBE_ACK, 'zero_window_probe_ack'],
  [TCP_A_WINDOW_FULL, 'window_full'],
  [TCP_A_WINDOW_UPDATE, 'window_update'],
  [TCP_A_LOST_PACKET, 'lost_segment'],
  [TCP_A_ACK_LOST_PACKET, 'ack_lost_segment'],
  [TCP_A_REUSED_PORTS, 'reused_ports'],
]

/**
 * Expand the internal bitmask into what tshark reports: a fast or spurious retransmission also
 * carries tcp.analysis.retransmission (tcp_sequence_number_analysis_print_retransmission()).
 */
export function tsharkFlags(flags: number): number {
  return flags & (TCP_A_FAST_RETRANSMISSION | TCP_A_SPURIOUS_RETRANSMISSION) ? flags | TCP_A_RETRANSMISSION : flags
}

/** Wireshark's TCP_MAX_UNACKED_SEGMENTS. */
export const DEFAULT_MAX_UNACKED = 10_000

const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

/** Per-frame output, reused for every frame. */
export class TcpAnalysisResult {
  /** True when the frame was a TCP segment with a known length (the analysis ran). */
  analysed = false
  /** TCP_A_* bits exactly as Wireshark's ta->flags (fast/spurious without the plain bit). */
  flags = 0
  /** tcp.analysis.duplicate_ack_num / _frame, 0 when not a duplicate ACK. */
  dupAckNum = 0
  dupAckFrame = 0

  clear(): void {
    this.analysed = false
    this.flags = 0
    this.dupAckNum = 0
    this.dupAckFrame = 0
  }
}

/** One segment as the analysis needs it; the tracker fills this once per frame. */
export interface SegmentInput {
  frame: number
  sec: number
  nsec: number
  seq: number
  ack: number
  seglen: number
  tcpFlags: number
  /** Raw 16-bit header window. */
  window: number
  /** Window-scale option shift (-1 when absent). */
  wscale: number
  /** False when the TCP header (options) was cut by the snaplen: Wireshark's options dissection throws. */
  headerComplete: boolean
}

// 32-bit sequence-space comparisons (Wireshark's GT_SEQ & co).
function gtSeq(x: number, y: number): boolean {
  return ((y - x) | 0) < 0
}
function ltSeq(x: number, y: number): boolean {
  return ((x - y) | 0) < 0
}
function leSeq(x: number, y: number): boolean {
  return ((x - y) | 0) <= 0
}

/**
 * Wireshark holds these time deltas in a guint64, so a negative delta is a huge number: compare
 * two signed nanosecond values the way C compares them after the unsigned conversion.
 */
function ltU64(a: number, b: number): boolean {
  if (a < 0 === b < 0) return a < b
  return a >= 0
}

/** Per direction-slot and per flow-slot analysis state, struct-of-arrays. */
export class TcpAnalyzer {
  readonly maxUnacked: number
  private cap = 0
  // ---- per direction slot ----
  private nextseq = new Uint32Array(0)
  private nextseqSec = new Float64Array(0)
  private nextseqNsec = new Float64Array(0)
  private maxseqtobeacked = new Uint32Array(0)
  private lastack = new Uint32Array(0)
  private lastackSec = new Float64Array(0)
  private lastackNsec = new Float64Array(0)
  /** guint32 in Wireshark: the "-1" that neutralises ACKed-unseen is 0xffffffff, which is >= 2. */
  private dupacknum = new Uint32Array(0)
  private lastnondupack = new Float64Array(0)
  /** Last raw window; -1 stands for Wireshark's initial G_MAXUINT32. */
  private window = new Int32Array(0)
  /** -1 unknown, -2 no scaling, else the shift. */
  private winScale = new Int8Array(0)
  private isFirstAck = new Uint8Array(0)
  private lastSegFlags = new Uint16Array(0)
  private baseSeq = new Uint32Array(0)
  private baseSet = new Uint8Array(0)
  private segHead = new Int32Array(0)
  private segCount = new Int32Array(0)
  // ---- per flow slot ----
  private mruSynSec = new Float64Array(0)
  private mruSynNsec = new Float64Array(0)
  /** Initial RTT in ns (may be negative on mis-ordered captures); 0 = not known. */
  private firstRtt = new Float64Array(0)
  // ---- unacked-segment node pool: only the end sequence number matters to the flags ----
  private nodeEnd = new Uint32Array(0)
  private nodeNext = new Int32Array(0)
  private freeNode = -1
  private poolUsed = 0

  constructor(maxUnacked = DEFAULT_MAX_UNACKED) {
    this.maxUnacked = maxUnacked
  }

  /** Make room for flow slots [0, flowSlots). */
  ensureCapacity(flowSlots: number): void {
    if (flowSlots <= this.cap) return
    let n = this.cap || 256
    while (n < flowSlots) n *= 2
    const d = n * 2
    this.nextseq = grow(this.nextseq, new Uint32Array(d))
    this.nextseqSec = grow(this.nextseqSec, new Float64Array(d))
    this.nextseqNsec = grow(this.nextseqNsec, new Float64Array(d))
    this.maxseqtobeacked = grow(this.maxseqtobeacked, new Uint32Array(d))
    this.lastack = grow(this.lastack, new Uint32Array(d))
    this.lastackSec = grow(this.lastackSec, new Float64Array(d))
    this.lastackNsec = grow(this.lastackNsec, new Float64Array(d))
    this.dupacknum = grow(this.dupacknum, new Uint32Array(d))
    this.lastnondupack = grow(this.lastnondupack, new Float64Array(d))
    this.window = grow(this.window, new Int32Array(d))
    this.winScale = grow(this.winScale, new Int8Array(d))
    this.isFirstAck = grow(this.isFirstAck, new Uint8Array(d))
    this.lastSegFlags = grow(this.lastSegFlags, new Uint16Array(d))
    this.baseSeq = grow(this.baseSeq, new Uint32Array(d))
    this.baseSet = grow(this.baseSet, new Uint8Array(d))
    this.segHead = grow(this.segHead, new Int32Array(d))
    this.segCount = grow(this.segCount, new Int32Array(d))
    this.mruSynSec = grow(this.mruSynSec, new Float64Array(n))
    this.mruSynNsec = grow(this.mruSynNsec, new Float64Array(n))
    this.firstRtt = grow(this.firstRtt, new Float64Array(n))
    this.cap = n
  }

  /** Fresh state for a new conversation in `slot` (init_tcp_conversation_data). */
  initFlow(slot: number): void {
    for (let d = slot * 2; d < slot * 2 + 2; d++) {
      this.freeSegments(d)
      this.nextseq[d] = 0
      this.nextseqSec[d] = 0
      this.nextseqNsec[d] = 0
      this.maxseqtobeacked[d] = 0
      this.lastack[d] = 0
      this.lastackSec[d] = 0
      this.lastackNsec[d] = 0
      this.dupacknum[d] = 0
      this.lastnondupack[d] = 0
      this.window[d] = -1
      this.winScale[d] = -1
      this.isFirstAck[d] = 0
      this.lastSegFlags[d] = 0
      this.baseSeq[d] = 0
      this.baseSet[d] = 0
    }
    this.mruSynSec[slot] = 0
    this.mruSynNsec[slot] = 0
    this.firstRtt[slot] = 0
  }

  /** Release the unacked lists of an evicted flow (the rest is overwritten by initFlow). */
  releaseFlow(slot: number): void {
    this.freeSegments(slot * 2)
    this.freeSegments(slot * 2 + 1)
  }

  /**
   * Wireshark's reused-ports rule for a pure SYN on an existing conversation: a base sequence is
   * known for this direction and the SYN's differs → a new conversation.
   */
  synStartsNewConversation(slot: number, dir: number, seq: number): boolean {
    const f = slot * 2 + dir
    return this.baseSet[f] === 1 && this.baseSeq[f] !== seq >>> 0
  }

  /** Initial RTT in ns as Wireshark computed it so far (0 = unknown). */
  initialRtt(slot: number): number {
    return this.firstRtt[slot]
  }

  /** Unacked segments currently held for one direction (for tests and memory checks). */
  unackedCount(slot: number, dir: number): number {
    return this.segCount[slot * 2 + dir]
  }

  /** Nodes in use across all flows. */
  get unackedNodesInUse(): number {
    return this.poolUsed
  }

  /**
   * Analyse one segment of the conversation in `slot`, sent in direction `dir`. `reused` is true
   * when the caller just opened this conversation because of a reused-ports SYN.
   */
  analyze(slot: number, dir: number, s: SegmentInput, reused: boolean, out: TcpAnalysisResult): void {
    const F = slot * 2 + dir
    const R = slot * 2 + (dir ^ 1)
    const seq = s.seq >>> 0
    const ack = s.ack >>> 0
    const seglen = s.seglen
    const flags = s.tcpFlags
    const window = s.window
    let ta = reused ? TCP_A_REUSED_PORTS : 0

    out.analysed = true
    out.dupAckNum = 0
    out.dupAckFrame = 0

    // ---- conversation-level handling in dissect_tcp(), before the analysis ----
    if ((flags & (SYN | ACK)) === SYN && !reused && this.baseSet[F] === 1) {
      // Same ISN as the conversation's: restore nextseq (issue 17616); it will be a retransmission.
      this.nextseq[F] = this.maxseqtobeacked[F]
    }
    if ((flags & (SYN | ACK)) === (SYN | ACK) && this.baseSet[F] === 1 && this.baseSeq[F] !== seq) {
      // 4.0 flags a SYN/ACK with a new ISN but keeps the conversation (issue 16944).
      this.baseSeq[F] = seq
      ta |= TCP_A_REUSED_PORTS
    }
    if (this.baseSet[F] === 0) {
      this.baseSeq[F] = flags & SYN ? seq : (seq - 1) >>> 0
      this.baseSet[F] = 1
    }
    if (this.baseSet[R] === 0 && flags & ACK) {
      this.baseSeq[R] = (ack - 1) >>> 0
      this.baseSet[R] = 1
    }

    // ---- tcp_analyze_sequence_number() ----
    const fNext = this.nextseq[F]
    const fLastack = this.lastack[F]
    const fWin = this.window[F]
    const rWin = this.window[R]
    const noSFR = (flags & (SYN | FIN | RST)) === 0
    const sameSeqAck = seq === fNext && ack === fLastack

    finished: {
      if (seglen === 1 && seq === fNext && rWin === 0) {
        ta |= TCP_A_ZERO_WINDOW_PROBE
        break finished
      }
      if (window === 0 && noSFR) ta |= TCP_A_ZERO_WINDOW
      if (fNext !== 0 && gtSeq(seq, fNext) && (flags & RST) === 0) ta |= TCP_A_LOST_PACKET
      if ((seglen === 0 || seglen === 1) && seq === ((fNext - 1) >>> 0) && noSFR) ta |= TCP_A_KEEP_ALIVE
      if (seglen === 0 && window !== 0 && window !== fWin && sameSeqAck && noSFR) ta |= TCP_A_WINDOW_UPDATE
      const rScale = this.winScale[R]
      if (seglen > 0 && rScale !== -1 && noSFR) {
        const shift = this.isFirstAck[R] ? 0 : rScale === -2 ? 0 : rScale
        const rw = rWin === -1 ? 0xffffffff : rWin
        if (((seq + seglen) >>> 0) === ((this.lastack[R] + ((rw << shift) >>> 0)) >>> 0)) ta |= TCP_A_WINDOW_FULL
      }
      if (
        seglen === 0 &&
        window !== 0 &&
        window === fWin &&
        sameSeqAck &&
        this.lastSegFlags[R] & TCP_A_KEEP_ALIVE &&
        noSFR
      ) {
        ta |= TCP_A_KEEP_ALIVE_ACK
        break finished
      }
      if (
        seglen === 0 &&
        window === 0 &&
        window === fWin &&
        sameSeqAck &&
        this.lastSegFlags[R] & TCP_A_ZERO_WINDOW_PROBE &&
        noSFR
      ) {
        ta |= TCP_A_ZERO_WINDOW_PROBE_ACK
        break finished
      }
      if (seglen === 0 && window !== 0 && window === fWin && sameSeqAck && noSFR) {
        // (MPTCP's tolerated duplicate ACKs are not modelled.)
        this.dupacknum[F] = this.dupacknum[F] === 0xffffffff ? 1 : this.dupacknum[F] + 1
        ta |= TCP_A_DUPLICATE_ACK
        out.dupAckNum = this.dupacknum[F]
        out.dupAckFrame = this.lastnondupack[F]
      }
    }

    // finished_fwd:
    if (ack !== fLastack) {
      this.lastnondupack[F] = s.frame
      this.dupacknum[F] = 0
    }

    const rMax = this.maxseqtobeacked[R]
    if (rMax !== 0 && gtSeq(ack, rMax) && flags & ACK) {
      if (ltSeq(rMax, this.nextseq[R])) {
        this.maxseqtobeacked[R] = this.nextseq[R]
        ta |= TCP_A_ACK_LOST_PACKET
      } else {
        if (this.dupacknum[R] === 0) ta |= TCP_A_ACK_LOST_PACKET
        this.dupacknum[R] = 0xffffffff
      }
    }

    if (seglen > 0 || flags & (SYN | FIN)) {
      retrans: {
        if (ta & TCP_A_KEEP_ALIVE) break retrans
        let seqNotAdvanced = fNext !== 0 && ltSeq(seq, fNext)
        // Data right after a zero-window probe whose byte was not consumed.
        if (seglen > 1 && ((fNext - 1) >>> 0) === seq) seqNotAdvanced = false
        const rLastack = this.lastack[R]
        if (seglen > 0 && rLastack !== 0 && leSeq((seq + seglen) >>> 0, rLastack)) {
          ta |= TCP_A_SPURIOUS_RETRANSMISSION
          break retrans
        }
        // tcp.fastrt_supersedes_ooo (default true): fast retransmission first, then out-of-order.
        const tAck = (s.sec - this.lastackSec[R]) * 1e9 + (s.nsec - this.lastackNsec[R])
        if (seqNotAdvanced && this.dupacknum[R] >= 2 && rLastack === seq && ltU64(tAck, 20_000_000)) {
          ta |= TCP_A_FAST_RETRANSMISSION
          break retrans
        }
        const tNext = (s.sec - this.nextseqSec[F]) * 1e9 + (s.nsec - this.nextseqNsec[F])
        const irtt = this.firstRtt[slot]
        const thres = irtt === 0 ? 3_000_000 : irtt
        const end = (seq + seglen + (flags & (SYN | FIN) ? 1 : 0)) >>> 0
        if (seqNotAdvanced && ltU64(tNext, thres) && fNext !== end) {
          ta |= TCP_A_OUT_OF_ORDER
          break retrans
        }
        if (seqNotAdvanced) ta |= TCP_A_RETRANSMISSION
      }
    }

    // finished_checking_retransmission_type:
    let nextseq = (seq + seglen) >>> 0
    if ((seglen > 0 || flags & (SYN | FIN)) && this.segCount[F] < this.maxUnacked) {
      // Wireshark adds the SYN/FIN byte only on this path: a full list also skips it.
      if (flags & (SYN | FIN)) nextseq = (nextseq + 1) >>> 0
      this.pushSegment(F, nextseq)
    }
    const isZwp = (ta & TCP_A_ZERO_WINDOW_PROBE) !== 0
    if ((gtSeq(nextseq, this.nextseq[F]) || this.nextseq[F] === 0) && !isZwp) {
      this.nextseq[F] = nextseq
      this.nextseqSec[F] = s.sec
      this.nextseqNsec[F] = s.nsec
    }
    if ((seq === this.maxseqtobeacked[F] || this.maxseqtobeacked[F] === 0) && !isZwp) {
      this.maxseqtobeacked[F] = this.nextseq[F]
    }
    this.window[F] = window
    this.lastack[F] = ack
    this.lastackSec[F] = s.sec
    this.lastackNsec[F] = s.nsec
    this.lastSegFlags[F] = ta
    this.ackSegments(R, ack)
    out.flags = ta

    // ---- after the analysis in dissect_tcp(): SYN bookkeeping, iRTT, window scaling ----
    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        this.mruSynSec[slot] = s.sec
        this.mruSynNsec[slot] = s.nsec
      }
      this.isFirstAck[F] = 1
    }
    if ((flags & (SYN | ACK)) === ACK) {
      if ((this.mruSynSec[slot] !== 0 || this.mruSynNsec[slot] !== 0) && this.firstRtt[slot] === 0) {
        this.firstRtt[slot] = (s.sec - this.mruSynSec[slot]) * 1e9 + (s.nsec - this.mruSynNsec[slot])
      }
      this.isFirstAck[F] = 0
    }
    if (s.wscale >= 0) this.winScale[F] = s.wscale > 14 ? 14 : s.wscale
    if (flags & SYN && s.headerComplete) {
      // verify_tcp_window_scaling()
      if (this.winScale[F] === -1) {
        this.winScale[F] = -2
        this.winScale[R] = -2
      } else if (flags & ACK && this.winScale[R] === -2) {
        this.winScale[F] = -2
      }
    }
  }

  private pushSegment(d: number, end: number): void {
    let n = this.freeNode
    if (n >= 0) {
      this.freeNode = this.nodeNext[n]
    } else {
      if (this.poolUsed >= this.nodeEnd.length) {
        const size = Math.max(1024, this.nodeEnd.length * 2)
        this.nodeEnd = grow(this.nodeEnd, new Uint32Array(size))
        this.nodeNext = grow(this.nodeNext, new Int32Array(size))
      }
      n = this.poolUsed
    }
    this.poolUsed++
    this.nodeEnd[n] = end
    this.nodeNext[n] = this.segCount[d] > 0 ? this.segHead[d] : -1
    this.segHead[d] = n
    this.segCount[d]++
  }

  /**
   * The ACK walk over the reverse list: a segment goes once the ACK reaches its end (exact match,
   * or past it); a partial ACK only trims its start, which the flags never look at.
   */
  private ackSegments(d: number, ack: number): void {
    if (this.segCount[d] === 0) return
    let prev = -1
    let n = this.segHead[d]
    while (n >= 0) {
      const next = this.nodeNext[n]
      if (((ack - this.nodeEnd[n]) | 0) >= 0) {
        if (prev < 0) this.segHead[d] = next
        else this.nodeNext[prev] = next
        this.nodeNext[n] = this.freeNode
        this.freeNode = n
        this.poolUsed--
        this.segCount[d]--
      } else {
        prev = n
      }
      n = next
    }
    if (this.segCount[d] === 0) this.segHead[d] = -1
  }

  private freeSegments(d: number): void {
    if (d >= this.segCount.length) return
    let n = this.segCount[d] > 0 ? this.segHead[d] : -1
    while (n >= 0) {
      const next = this.nodeNext[n]
      this.nodeNext[n] = this.freeNode
      this.freeNode = n
      this.poolUsed--
      n = next
    }
    this.segCount[d] = 0
    this.segHead[d] = -1
  }
}

function grow<T extends Uint8Array | Int8Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(
  old: T,
  bigger: T,
): T {
  bigger.set(old)
  return bigger
}
