/**
 * Wireshark-compatible TCP sequence analysis (`tcp.analysis.*`), a re-statement of
 * `tcp_analyze_sequence_number()` and its callers in Wireshark 4.0's packet-tcp.c (tshark 4.0.17
 * is the oracle; where master differs — pk_already_seen, SACK-driven fast retransmission and
 * dup-ACK promotion, ZWP-ACK resumption — 4.0 is followed). Everything works on raw sequence
 * numbers, first pass, file order.
 *
 * State lives in the flow's FlowStore block, both directions side by side: dir 0 is
 * Wireshark's flow1 (packets whose source address, then port, compares greater) and dir 1 flow2.
 * Nothing here allocates per frame; the unacked-segment lists share one growable node pool.
 */
import {A_F, A_F_N, A_FIRST_RTT, A_I, A_I_N, A_MRU_SYN_NSEC, A_MRU_SYN_SEC, A_WORDS, CHUNK_MASK, CHUNK_SHIFT, STRIDE} from './store.js'
import type {FlowStore} from './store.js'

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

// Per direction d: 32-bit words at A_I + d * A_I_N of the flow's block, read through the Uint32 or
// the Int32 view …
const U_NEXTSEQ = 0
const U_MAXSEQTOBEACKED = 1
const U_LASTACK = 2
/** guint32 in Wireshark: the "-1" that neutralises ACKed-unseen is 0xffffffff, which is >= 2. */
const U_DUPACKNUM = 3
/** Last raw window; -1 stands for Wireshark's initial G_MAXUINT32. */
const I_WINDOW = 4
/** -1 unknown, -2 no scaling, else the shift. */
const I_WIN_SCALE = 5
const I_IS_FIRST_ACK = 6
const I_LAST_SEG_FLAGS = 7
const U_BASE_SEQ = 8
const I_BASE_SET = 9
const I_SEG_HEAD = 10
const I_SEG_COUNT = 11
/** End of the list head's node, so the merge test below needs no pool access. */
const I_HEAD_END = 12
/** Oldest node and node count, so a whole list goes back to the pool in O(1). */
const I_SEG_TAIL = 13
const I_SEG_NODES = 14
// … and Float64 words (offsets in f64 units) from (A_F + d * A_F_N) / 2.
const F_NEXTSEQ_SEC = 0
const F_NEXTSEQ_NSEC = 1
const F_LASTACK_SEC = 2
const F_LASTACK_NSEC = 3
const F_LASTNONDUPACK = 4

// Unacked-segment pool nodes: [end, next, count] Int32 triples.
const N_END = 0
const N_NEXT = 1
/** Segments this node stands for (all with the same end). */
const N_CNT = 2
const N_STRIDE = 3

/** TCP analysis state for both directions of each flow, in the flows' FlowStore blocks. */
export class TcpAnalyzer {
  readonly maxUnacked: number
  private readonly store: FlowStore
  // ---- unacked-segment node pool: only the end sequence number matters to the flags, so equal
  // ends pushed back to back (a DR director's in/out copies, retransmissions) share one node ----
  private nodes: Int32Array = new Int32Array(0)
  private nodeCap = 0
  private freeNode = -1
  private poolUsed = 0
  /** Nodes ever handed out (the pool's high-water mark; below it, free nodes are on the list). */
  private poolTop = 0

  /** Word offset added to the A_* layout: 0 in the flow's own block, -A_I in a side store of A_WORDS blocks. */
  private readonly base: number

  constructor(store: FlowStore, maxUnacked = DEFAULT_MAX_UNACKED) {
    this.store = store
    this.maxUnacked = maxUnacked
    this.base = store.stride === STRIDE ? 0 : -A_I
  }

  /** Word offset of the slot's block, shifted so the A_* offsets land in this analyzer's region. */
  private blockOf(slot: number): number {
    return (slot & CHUNK_MASK) * this.store.stride + this.base
  }

  /** Fresh state for a new conversation in `slot` (init_tcp_conversation_data). */
  initFlow(slot: number): void {
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const o = this.blockOf(slot)
    for (let d = 0; d < 2; d++) {
      const b = o + A_I + d * A_I_N
      this.freeSegments(i32, b)
      for (let k = 0; k < A_I_N; k++) i32[b + k] = 0
      i32[b + I_WINDOW] = -1
      i32[b + I_WIN_SCALE] = -1
      i32[b + I_SEG_HEAD] = -1
    }
    const f = (o + A_F) / 2
    for (let k = 0; k < A_F_N; k++) f64[f + k] = 0 // both directions' times
    f64[(o + A_FIRST_RTT) / 2] = 0
    f64[(o + A_MRU_SYN_SEC) / 2] = 0
    f64[(o + A_MRU_SYN_NSEC) / 2] = 0
  }

  /**
   * Make this analyzer's state for `slot` a copy of `src`'s (whatever either store's layout): a second view
   * forked from the first one at the moment they start to differ. The unacked lists get nodes of this pool.
   */
  copyFlowFrom(src: TcpAnalyzer, slot: number): void {
    const ch = slot >>> CHUNK_SHIFT
    const from = src.store.i32[ch]
    const to = this.store.i32[ch]
    const so = src.blockOf(slot) + A_I
    const o = this.blockOf(slot) + A_I
    for (let k = 0; k < A_WORDS; k++) to[o + k] = from[so + k]
    for (let d = 0; d < 2; d++) {
      const sb = so + d * A_I_N
      const b = o + d * A_I_N
      // The copied list words name src's nodes: rebuild the list from this pool, newest first as there.
      to[b + I_SEG_HEAD] = -1
      to[b + I_SEG_TAIL] = -1
      to[b + I_SEG_NODES] = 0
      if (from[sb + I_SEG_COUNT] === 0) continue
      let prev = -1
      for (let n = from[sb + I_SEG_HEAD]; n >= 0; n = src.nodes[n * N_STRIDE + N_NEXT]) {
        const m = this.allocNode()
        const x = m * N_STRIDE
        this.nodes[x + N_END] = src.nodes[n * N_STRIDE + N_END]
        this.nodes[x + N_CNT] = src.nodes[n * N_STRIDE + N_CNT]
        this.nodes[x + N_NEXT] = -1
        if (prev < 0) to[b + I_SEG_HEAD] = m
        else this.nodes[prev * N_STRIDE + N_NEXT] = m
        prev = m
        to[b + I_SEG_NODES]++
      }
      to[b + I_SEG_TAIL] = prev
    }
  }

  /** Release the unacked lists of an evicted flow (the rest is overwritten by initFlow). */
  releaseFlow(slot: number): void {
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const b = this.blockOf(slot) + A_I
    this.freeSegments(i32, b)
    this.freeSegments(i32, b + A_I_N)
  }

  /**
   * Wireshark's reused-ports rule for a pure SYN on an existing conversation: a base sequence is
   * known for this direction and the SYN's differs → a new conversation.
   */
  synStartsNewConversation(slot: number, dir: number, seq: number): boolean {
    const b = this.blockOf(slot) + A_I + dir * A_I_N
    const ch = slot >>> CHUNK_SHIFT
    return this.store.i32[ch][b + I_BASE_SET] === 1 && this.store.u32[ch][b + U_BASE_SEQ] !== seq >>> 0
  }

  /** Initial RTT in ns as Wireshark computed it so far (0 = unknown). */
  initialRtt(slot: number): number {
    return this.store.f64[slot >>> CHUNK_SHIFT][(this.blockOf(slot) + A_FIRST_RTT) / 2]
  }

  /** Unacked segments currently held for one direction (for tests and memory checks). */
  unackedCount(slot: number, dir: number): number {
    return this.store.i32[slot >>> CHUNK_SHIFT][this.blockOf(slot) + A_I + dir * A_I_N + I_SEG_COUNT]
  }

  /** Pool nodes in use across all flows (one node may stand for several equal-ended segments). */
  get unackedNodesInUse(): number {
    return this.poolUsed
  }

  /**
   * Analyse one segment of the conversation in `slot`, sent in direction `dir`. `reused` is true
   * when the caller just opened this conversation because of a reused-ports SYN.
   */
  analyze(slot: number, dir: number, s: SegmentInput, reused: boolean, out: TcpAnalysisResult): void {
    const ch = slot >>> CHUNK_SHIFT
    const f64 = this.store.f64[ch]
    const u32 = this.store.u32[ch]
    const i32 = this.store.i32[ch]
    const o = this.blockOf(slot)
    const fF = (o + A_F) / 2 + dir * (A_F_N / 2)
    const fR = (o + A_F) / 2 + (dir ^ 1) * (A_F_N / 2)
    const F = o + A_I + dir * A_I_N
    const R = o + A_I + (dir ^ 1) * A_I_N
    const fRtt = (o + A_FIRST_RTT) / 2
    const fSyn = (o + A_MRU_SYN_SEC) / 2
    const fSynN = (o + A_MRU_SYN_NSEC) / 2
    const seq = s.seq >>> 0
    const ack = s.ack >>> 0
    const seglen = s.seglen
    const flags = s.tcpFlags
    const window = s.window
    const sec = s.sec
    const nsec = s.nsec
    let ta = reused ? TCP_A_REUSED_PORTS : 0

    out.analysed = true
    out.dupAckNum = 0
    out.dupAckFrame = 0

    // ---- conversation-level handling in dissect_tcp(), before the analysis ----
    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        // Same ISN as the conversation's: restore nextseq (issue 17616); it will be a retransmission.
        if (!reused && i32[F + I_BASE_SET] === 1) u32[F + U_NEXTSEQ] = u32[F + U_MAXSEQTOBEACKED]
      } else if (i32[F + I_BASE_SET] === 1 && u32[F + U_BASE_SEQ] !== seq) {
        // 4.0 flags a SYN/ACK with a new ISN but keeps the conversation (issue 16944).
        u32[F + U_BASE_SEQ] = seq
        ta |= TCP_A_REUSED_PORTS
      }
    }
    if (i32[F + I_BASE_SET] === 0) {
      u32[F + U_BASE_SEQ] = flags & SYN ? seq : (seq - 1) >>> 0
      i32[F + I_BASE_SET] = 1
    }
    if (i32[R + I_BASE_SET] === 0 && flags & ACK) {
      u32[R + U_BASE_SEQ] = (ack - 1) >>> 0
      i32[R + I_BASE_SET] = 1
    }

    // ---- tcp_analyze_sequence_number() ----
    const fNext = u32[F + U_NEXTSEQ]
    const fLastack = u32[F + U_LASTACK]
    const fWin = i32[F + I_WINDOW]
    const rWin = i32[R + I_WINDOW]
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
      const rScale = i32[R + I_WIN_SCALE]
      if (seglen > 0 && rScale !== -1 && noSFR) {
        const shift = i32[R + I_IS_FIRST_ACK] ? 0 : rScale === -2 ? 0 : rScale
        const rw = rWin === -1 ? 0xffffffff : rWin
        if (((seq + seglen) >>> 0) === ((u32[R + U_LASTACK] + ((rw << shift) >>> 0)) >>> 0)) ta |= TCP_A_WINDOW_FULL
      }
      if (seglen === 0 && sameSeqAck && noSFR && window === fWin) {
        if (window !== 0 && i32[R + I_LAST_SEG_FLAGS] & TCP_A_KEEP_ALIVE) {
          ta |= TCP_A_KEEP_ALIVE_ACK
          break finished
        }
        if (window === 0 && i32[R + I_LAST_SEG_FLAGS] & TCP_A_ZERO_WINDOW_PROBE) {
          ta |= TCP_A_ZERO_WINDOW_PROBE_ACK
          break finished
        }
        if (window !== 0) {
          // (MPTCP's tolerated duplicate ACKs are not modelled.)
          const n = u32[F + U_DUPACKNUM] === 0xffffffff ? 1 : u32[F + U_DUPACKNUM] + 1
          u32[F + U_DUPACKNUM] = n
          ta |= TCP_A_DUPLICATE_ACK
          out.dupAckNum = u32[F + U_DUPACKNUM]
          out.dupAckFrame = f64[fF + F_LASTNONDUPACK]
        }
      }
    }

    // finished_fwd:
    if (ack !== fLastack) {
      f64[fF + F_LASTNONDUPACK] = s.frame
      u32[F + U_DUPACKNUM] = 0
    }

    const rMax = u32[R + U_MAXSEQTOBEACKED]
    if (rMax !== 0 && gtSeq(ack, rMax) && flags & ACK) {
      if (ltSeq(rMax, u32[R + U_NEXTSEQ])) {
        u32[R + U_MAXSEQTOBEACKED] = u32[R + U_NEXTSEQ]
        ta |= TCP_A_ACK_LOST_PACKET
      } else {
        if (u32[R + U_DUPACKNUM] === 0) ta |= TCP_A_ACK_LOST_PACKET
        u32[R + U_DUPACKNUM] = 0xffffffff
      }
    }

    if (seglen > 0 || flags & (SYN | FIN)) {
      retrans: {
        if (ta & TCP_A_KEEP_ALIVE) break retrans
        let seqNotAdvanced = fNext !== 0 && ltSeq(seq, fNext)
        // Data right after a zero-window probe whose byte was not consumed.
        if (seglen > 1 && ((fNext - 1) >>> 0) === seq) seqNotAdvanced = false
        const rLastack = u32[R + U_LASTACK]
        if (seglen > 0 && rLastack !== 0 && leSeq((seq + seglen) >>> 0, rLastack)) {
          ta |= TCP_A_SPURIOUS_RETRANSMISSION
          break retrans
        }
        if (!seqNotAdvanced) break retrans
        // tcp.fastrt_supersedes_ooo (default true): fast retransmission first, then out-of-order.
        const tAck = (sec - f64[fR + F_LASTACK_SEC]) * 1e9 + (nsec - f64[fR + F_LASTACK_NSEC])
        if (u32[R + U_DUPACKNUM] >= 2 && rLastack === seq && ltU64(tAck, 20_000_000)) {
          ta |= TCP_A_FAST_RETRANSMISSION
          break retrans
        }
        const tNext = (sec - f64[fF + F_NEXTSEQ_SEC]) * 1e9 + (nsec - f64[fF + F_NEXTSEQ_NSEC])
        const irtt = f64[fRtt]
        const thres = irtt === 0 ? 3_000_000 : irtt
        const end = (seq + seglen + (flags & (SYN | FIN) ? 1 : 0)) >>> 0
        if (ltU64(tNext, thres) && fNext !== end) {
          ta |= TCP_A_OUT_OF_ORDER
          break retrans
        }
        ta |= TCP_A_RETRANSMISSION
      }
    }

    // finished_checking_retransmission_type:
    let nextseq = (seq + seglen) >>> 0
    if ((seglen > 0 || flags & (SYN | FIN)) && i32[F + I_SEG_COUNT] < this.maxUnacked) {
      // Wireshark adds the SYN/FIN byte only on this path: a full list also skips it.
      if (flags & (SYN | FIN)) nextseq = (nextseq + 1) >>> 0
      this.pushSegment(i32, F, nextseq | 0) // int32: a uint32 above 2^31 would be boxed as an argument
    }
    const isZwp = (ta & TCP_A_ZERO_WINDOW_PROBE) !== 0
    if (!isZwp) {
      const cur = u32[F + U_NEXTSEQ]
      if (gtSeq(nextseq, cur) || cur === 0) {
        u32[F + U_NEXTSEQ] = nextseq
        f64[fF + F_NEXTSEQ_SEC] = sec
        f64[fF + F_NEXTSEQ_NSEC] = nsec
      }
      const mx = u32[F + U_MAXSEQTOBEACKED]
      if (seq === mx || mx === 0) u32[F + U_MAXSEQTOBEACKED] = u32[F + U_NEXTSEQ]
    }
    i32[F + I_WINDOW] = window
    u32[F + U_LASTACK] = ack
    f64[fF + F_LASTACK_SEC] = sec
    f64[fF + F_LASTACK_NSEC] = nsec
    i32[F + I_LAST_SEG_FLAGS] = ta
    if (i32[R + I_SEG_COUNT] !== 0) this.ackSegments(i32, R, ack | 0)
    out.flags = ta

    // ---- after the analysis in dissect_tcp(): SYN bookkeeping, iRTT, window scaling ----
    if (flags & SYN) {
      if ((flags & ACK) === 0) {
        f64[fSyn] = sec
        f64[fSynN] = nsec
      }
      i32[F + I_IS_FIRST_ACK] = 1
    } else if (flags & ACK) {
      if ((f64[fSyn] !== 0 || f64[fSynN] !== 0) && f64[fRtt] === 0) {
        f64[fRtt] = (sec - f64[fSyn]) * 1e9 + (nsec - f64[fSynN])
      }
      i32[F + I_IS_FIRST_ACK] = 0
    }
    const ws = s.wscale
    if (ws >= 0) i32[F + I_WIN_SCALE] = ws > 14 ? 14 : ws
    if (flags & SYN && s.headerComplete) {
      // verify_tcp_window_scaling()
      if (i32[F + I_WIN_SCALE] === -1) {
        i32[F + I_WIN_SCALE] = -2
        i32[R + I_WIN_SCALE] = -2
      } else if (flags & ACK && i32[R + I_WIN_SCALE] === -2) {
        i32[F + I_WIN_SCALE] = -2
      }
    }
  }

  /** Push a segment end (as int32) on the list of the direction whose words start at `b` in `i32`. */
  private pushSegment(i32: Int32Array, b: number, end: number): void {
    const count = i32[b + I_SEG_COUNT]
    let nodes = this.nodes
    if (count > 0 && i32[b + I_HEAD_END] === end) {
      // Same end as the newest entry: the ACK walk treats them alike, so one node counts both.
      nodes[i32[b + I_SEG_HEAD] * N_STRIDE + N_CNT]++
      i32[b + I_SEG_COUNT] = count + 1
      return
    }
    const n = this.allocNode()
    nodes = this.nodes
    const x = n * N_STRIDE
    nodes[x + N_END] = end
    nodes[x + N_CNT] = 1
    nodes[x + N_NEXT] = count > 0 ? i32[b + I_SEG_HEAD] : -1
    if (count === 0) i32[b + I_SEG_TAIL] = n
    i32[b + I_SEG_NODES]++
    i32[b + I_SEG_HEAD] = n
    i32[b + I_HEAD_END] = end
    i32[b + I_SEG_COUNT] = count + 1
  }

  /** A node from the free list, or a new one from the top of the pool (which may grow: re-read `nodes`). */
  private allocNode(): number {
    let n = this.freeNode
    if (n >= 0) {
      this.freeNode = this.nodes[n * N_STRIDE + N_NEXT]
    } else {
      if (this.poolTop >= this.nodeCap) this.growPool()
      n = this.poolTop++
    }
    this.poolUsed++
    return n
  }

  private growPool(): Int32Array {
    this.nodeCap = Math.max(1024, this.nodeCap * 2)
    const bigger = new Int32Array(this.nodeCap * N_STRIDE)
    bigger.set(this.nodes)
    this.nodes = bigger
    return bigger
  }

  /**
   * The ACK walk (ack as int32) over the list at `b` in `i32`: a segment goes once the ACK reaches its end (exact match,
   * or past it); a partial ACK only trims its start, which the flags never look at.
   */
  private ackSegments(i32: Int32Array, b: number, ack: number): void {
    const nodes = this.nodes
    let count = i32[b + I_SEG_COUNT]
    let prev = -1
    let n = i32[b + I_SEG_HEAD]
    while (n >= 0) {
      const x = n * N_STRIDE
      const next = nodes[x + N_NEXT]
      if (((ack - nodes[x + N_END]) | 0) >= 0) {
        if (prev < 0) {
          i32[b + I_SEG_HEAD] = next
          if (next >= 0) i32[b + I_HEAD_END] = nodes[next * N_STRIDE + N_END]
        } else {
          nodes[prev * N_STRIDE + N_NEXT] = next
        }
        if (next < 0) i32[b + I_SEG_TAIL] = prev
        nodes[x + N_NEXT] = this.freeNode
        this.freeNode = n
        this.poolUsed--
        i32[b + I_SEG_NODES]--
        count -= nodes[x + N_CNT]
      } else {
        prev = n
      }
      n = next
    }
    i32[b + I_SEG_COUNT] = count
    if (count === 0) i32[b + I_SEG_HEAD] = -1
  }

  /** Hand a whole list back to the pool: splice it onto the free list at its tail. */
  private freeSegments(i32: Int32Array, b: number): void {
    const used = i32[b + I_SEG_COUNT] > 0 ? i32[b + I_SEG_NODES] : 0
    if (used > 0) {
      this.nodes[i32[b + I_SEG_TAIL] * N_STRIDE + N_NEXT] = this.freeNode
      this.freeNode = i32[b + I_SEG_HEAD]
      this.poolUsed -= used
    }
    i32[b + I_SEG_COUNT] = 0
    i32[b + I_SEG_NODES] = 0
    i32[b + I_SEG_HEAD] = -1
    i32[b + I_SEG_TAIL] = -1
  }
}
