/**
 * Zeek-style connection history and conn_state, re-stated from Zeek's TCP analyzer
 * (update_history(), the Update*State() endpoint machine, ScaledHistoryEntry()) and
 * base/protocols/conn/main.zeek conn_state(). Letters: upper case = originator.
 *   s/h/a/d/f/r/i/q — once per direction (s/h/f/r again when the sequence number differs),
 *   t (retransmitted payload), w (zero window) — logarithmic: at the 1st, 10th, 100th … time.
 * Not modelled: c (checksums are not verified), g (content gaps need a reassembler), x, and
 * Zeek's well-known-port role flip (only the "first packet is a SYN/ACK" flip, `^`).
 *
 * State, both endpoints and a fixed-size letter buffer, lives in the flow's FlowStore block, so
 * nothing is allocated per packet and a packet touches the lines its tracker and analysis touch.
 */
import {
  H_EP,
  H_EP_N,
  H_LAST_SEQ_END,
  H_LEN,
  H_LETTERS,
  H_LETTERS_MAX,
  H_PREV_STATE,
  H_SEEN,
  H_SIZE_BYTES,
  H_STARTED,
  H_STATE,
  CHUNK_SHIFT,
  blockOf,
} from './store.js'
import type {FlowStore} from './store.js'

export const TcpEndpointState = {
  Inactive: 0,
  SynSent: 1,
  SynAckSent: 2,
  Partial: 3,
  Established: 4,
  Closed: 5,
  Reset: 6,
} as const
export type TcpEndpointState = (typeof TcpEndpointState)[keyof typeof TcpEndpointState]

const S = TcpEndpointState

/** History letters kept per flow (Zeek's own history is unbounded; a cap keeps memory flat). */
export const HISTORY_MAX = H_LETTERS_MAX

const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

// Once-per-direction masks (Zeek's HIST_*); the responder's are shifted by 8 here.
const H_SYN = 0x01
const H_FIN = 0x02
const H_RST = 0x04
const H_FIN_RST = 0x08
const H_DATA = 0x10
const H_ACK = 0x20
const H_MULTI = 0x40

const CODE = (c: string): number => c.charCodeAt(0)
const C_S = CODE('S')
const C_H = CODE('H')
const C_A = CODE('A')
const C_D = CODE('D')
const C_F = CODE('F')
const C_R = CODE('R')
const C_I = CODE('I')
const C_Q = CODE('Q')
const C_T = CODE('T')
const C_W = CODE('W')
const C_FLIP = CODE('^')
const LOWER = 0x20

// Words in the flow's FlowStore block: H_* 32-bit words (per role r at + r), H_SIZE_BYTES Float64
// (per role at + 2r), and the rarely touched Float64 ×7 per role at H_EP + r * H_EP_N (f64 units below).
const F_LAST_SYN = 0
const F_LAST_FIN = 1
const F_LAST_RST = 2
const F_RXMT_CNT = 3
const F_RXMT_THRESH = 4
const F_WIN0_CNT = 5
const F_WIN0_THRESH = 6

export class ConnHistory {
  private readonly store: FlowStore

  constructor(store: FlowStore) {
    this.store = store
  }

  /** Reset a flow slot; `flipped` records Zeek's `^` (first packet was a SYN/ACK). */
  initFlow(slot: number, flipped: boolean): void {
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const o = blockOf(slot)
    // seen, len, states Inactive, not started, lastSeqEnd
    for (let k = H_SEEN; k < H_LAST_SEQ_END + 2; k++) i32[o + k] = 0
    f64[(o + H_SIZE_BYTES) / 2] = 0
    f64[(o + H_SIZE_BYTES) / 2 + 1] = 0
    for (let r = 0; r < 2; r++) {
      const e = (o + H_EP + r * H_EP_N) / 2
      f64[e + F_LAST_SYN] = -1
      f64[e + F_LAST_FIN] = -1
      f64[e + F_LAST_RST] = -1
      f64[e + F_RXMT_CNT] = 0
      f64[e + F_RXMT_THRESH] = 1
      f64[e + F_WIN0_CNT] = 0
      f64[e + F_WIN0_THRESH] = 1
    }
    if (flipped) this.add(slot, C_FLIP)
  }

  /** One TCP segment from the originator (`isOrig`) or the responder; `seq` raw, signed or unsigned. */
  observeTcp(slot: number, isOrig: boolean, seq: number, tcpFlags: number, window: number, len: number): void {
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const u32 = this.store.u32[slot >>> CHUNK_SHIFT]
    const b = blockOf(slot)
    const r = isOrig ? 0 : 1
    const syn = (tcpFlags & SYN) !== 0
    const fin = (tcpFlags & FIN) !== 0
    const rst = (tcpFlags & RST) !== 0
    const ackf = (tcpFlags & ACK) !== 0
    seq = seq >>> 0
    // Zeek's sequence space: SYN and FIN take one, a RST's data none.
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0)
    const end = (seq + segLen) >>> 0
    if (i32[b + H_STARTED + r] === 0) {
      i32[b + H_STARTED + r] = 1
      // A first packet without SYN must not count as a retransmission of itself.
      u32[b + H_LAST_SEQ_END + r] = syn ? end : seq
    }

    // update_history()
    if (tcpFlags & (SYN | FIN | RST)) {
      this.historyFlags(slot, isOrig, seq, syn, fin, rst, ackf, len)
    } else if (len > 0) {
      this.check(slot, isOrig, H_DATA, C_D)
    } else if (ackf) {
      this.check(slot, isOrig, H_ACK, C_A)
    }

    const stE = i32[b + H_STATE + r]
    // update_window(): zero windows that are not boring.
    if (window === 0 && !rst && i32[b + H_STATE + (r ^ 1)] !== S.Closed && stE !== S.Reset) {
      this.scaled(slot, isOrig, F_WIN0_CNT, C_W)
    }

    // update_last_seq(): payload that does not advance the sequence is a retransmission ('t').
    const delta = (end - u32[b + H_LAST_SEQ_END + r]) | 0
    if ((syn || rst) && (delta > 1048576 || delta < -1048576)) {
      // Zeek distrusts huge jumps on SYN/RST.
    } else if (stE === S.Reset) {
      // Nothing after a RST is trusted.
    } else if (delta > 0) {
      u32[b + H_LAST_SEQ_END + r] = end
    } else if (len > 0) {
      this.scaled(slot, isOrig, F_RXMT_CNT, C_T)
    }
    if (!rst) this.store.f64[slot >>> CHUNK_SHIFT][(b + H_SIZE_BYTES) / 2 + r] += len

    // Without SYN, FIN or RST only an inactive endpoint changes state.
    if (tcpFlags & (SYN | FIN | RST) || stE === S.Inactive) {
      this.updateState(i32, b, r, isOrig, tcpFlags, len)
    }
  }

  /** update_history() for a segment carrying SYN, FIN and/or RST. */
  private historyFlags(
    slot: number,
    isOrig: boolean,
    seq: number,
    syn: boolean,
    fin: boolean,
    rst: boolean,
    ackf: boolean,
    len: number,
  ): void {
    const e = (blockOf(slot) + H_EP + (isOrig ? 0 : H_EP_N)) / 2
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
    if (bits > 1) {
      if (fin && rst) this.check(slot, isOrig, H_FIN_RST, C_I)
      else this.check(slot, isOrig, H_MULTI, C_Q)
      return
    }
    if (syn) {
      const code = ackf ? C_H : C_S
      if (this.check(slot, isOrig, H_SYN, code) && seq !== f64[e + F_LAST_SYN]) this.addDir(slot, isOrig, code)
      f64[e + F_LAST_SYN] = seq
    }
    if (fin) {
      const fe = (seq + len) >>> 0
      if (this.check(slot, isOrig, H_FIN, C_F) && fe !== f64[e + F_LAST_FIN]) this.addDir(slot, isOrig, C_F)
      f64[e + F_LAST_FIN] = fe
    }
    if (rst) {
      if (this.check(slot, isOrig, H_RST, C_R) && seq !== f64[e + F_LAST_RST]) this.addDir(slot, isOrig, C_R)
      f64[e + F_LAST_RST] = seq
    }
  }

  /** The endpoint state machine; `b` is the flow's block in `i32`, `r` the sender's role. */
  private updateState(i32: Int32Array, b: number, r: number, isOrig: boolean, flags: number, len: number): void {
    const e = b + H_STATE + r
    const p = b + H_STATE + (r ^ 1)
    const syn = (flags & SYN) !== 0
    const fin = (flags & FIN) !== 0
    const rst = (flags & RST) !== 0
    const ackf = (flags & ACK) !== 0
    switch (i32[e]) {
      case S.Inactive: {
        if (syn) {
          if (isOrig) {
            this.set(i32, e, ackf ? S.SynAckSent : S.SynSent)
          } else {
            if (i32[p] === S.SynSent) this.set(i32, p, S.Established)
            this.set(i32, e, S.Established)
          }
        }
        if (fin) this.set(i32, e, S.Closed)
        if (rst) this.set(i32, e, S.Reset)
        if (i32[e] === S.Inactive) {
          if (!isOrig && len === 0 && i32[b + H_STATE] === S.SynSent) {
            // An ACK of the SYN before the SYN/ACK does not make the connection partial.
          } else if (ackf && i32[p] === S.Established) {
            this.set(i32, e, S.Established)
          } else {
            this.set(i32, e, S.Partial)
          }
        }
        break
      }
      case S.SynSent:
      case S.SynAckSent:
        if (fin) this.set(i32, e, S.Closed)
        if (rst) this.set(i32, e, S.Reset)
        break
      case S.Established:
      case S.Partial:
        if (syn && i32[e] === S.Partial && i32[p] === S.Inactive && !ackf) this.set(i32, e, S.SynSent)
        if (fin && !rst) {
          this.set(i32, e, S.Closed)
          if (i32[p] === S.Reset && i32[p + (H_PREV_STATE - H_STATE)] === S.Closed) this.set(i32, p, S.Closed)
        }
        if (rst) this.set(i32, e, S.Reset)
        break
      case S.Closed:
        if (rst && i32[p] !== S.Closed) this.set(i32, e, S.Reset)
        break
      default:
        break
    }
  }

  /** Set the state word at `w`, remembering the previous one. */
  private set(i32: Int32Array, w: number, st: number): void {
    i32[w + (H_PREV_STATE - H_STATE)] = i32[w]
    i32[w] = st
  }

  /** Zeek's CheckHistory(): add the letter the first time; true when it had been seen already. */
  private check(slot: number, isOrig: boolean, mask: number, code: number): boolean {
    const m = isOrig ? mask : mask << 8
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const w = blockOf(slot) + H_SEEN
    if ((i32[w] & m) === 0) {
      i32[w] |= m
      this.addDir(slot, isOrig, code)
      return false
    }
    return true
  }

  /** Zeek's ScaledHistoryEntry() over the counter pair at F_RXMT_CNT or F_WIN0_CNT. */
  private scaled(slot: number, isOrig: boolean, which: number, code: number): void {
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const c = (blockOf(slot) + H_EP + (isOrig ? 0 : H_EP_N)) / 2 + which
    const t = c + 1
    f64[c]++
    if (f64[c] === f64[t]) {
      this.addDir(slot, isOrig, code)
      const next = f64[t] * 10
      if (next > 0xffffffff) f64[c] = 0
      else f64[t] = next
    }
  }

  private addDir(slot: number, isOrig: boolean, code: number): void {
    this.add(slot, isOrig ? code : code | LOWER)
  }

  private add(slot: number, ch: number): void {
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const w = blockOf(slot) + H_LEN
    const n = i32[w]
    if (n >= HISTORY_MAX) return
    this.store.u8[slot >>> CHUNK_SHIFT][(blockOf(slot) + H_LETTERS) * 4 + n] = ch
    i32[w] = n + 1
  }

  /** The history string (allocates: call per flow, not per packet). */
  history(slot: number): string {
    const o = (blockOf(slot) + H_LETTERS) * 4
    const n = this.store.i32[slot >>> CHUNK_SHIFT][blockOf(slot) + H_LEN]
    return String.fromCharCode(...this.store.u8[slot >>> CHUNK_SHIFT].subarray(o, o + n))
  }

  endpointState(slot: number, isOrig: boolean): TcpEndpointState {
    return this.store.i32[slot >>> CHUNK_SHIFT][blockOf(slot) + H_STATE + (isOrig ? 0 : 1)] as TcpEndpointState
  }

  /** Zeek's conn_state for a TCP flow. */
  connState(slot: number): string {
    const b = blockOf(slot)
    const i32 = this.store.i32[slot >>> CHUNK_SHIFT]
    const f64 = this.store.f64[slot >>> CHUNK_SHIFT]
    const os = i32[b + H_STATE]
    const rs = i32[b + H_STATE + 1]
    const oInactive = os === S.Inactive || os === S.Partial
    const rInactive = rs === S.Inactive || rs === S.Partial
    if (rs === S.Reset) {
      const f = (b + H_SIZE_BYTES) / 2
      if (
        os === S.SynSent ||
        os === S.SynAckSent ||
        (os === S.Reset && f64[f] === 0 && f64[f + 1] === 0)
      )
        return 'REJ'
      return oInactive ? 'RSTRH' : 'RSTR'
    }
    if (os === S.Reset) {
      if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(this.history(slot)) ? 'RSTOS0' : 'OTH'
      return 'RSTO'
    }
    if (rs === S.Closed && os === S.Closed) return 'SF'
    if (os === S.Closed) return rInactive ? 'SH' : 'S2'
    if (rs === S.Closed) return oInactive ? 'SHR' : 'S3'
    if (os === S.SynSent && rs === S.Inactive) return 'S0'
    if (os === S.Established && rs === S.Established) return 'S1'
    return 'OTH'
  }
}
