/**
 * Zeek-style connection history and conn_state, re-stated from Zeek's TCP analyzer
 * (update_history(), the Update*State() endpoint machine, ScaledHistoryEntry()) and
 * base/protocols/conn/main.zeek conn_state(). Letters: upper case = originator.
 *   s/h/a/d/f/r/i/q — once per direction (s/h/f/r again when the sequence number differs),
 *   t (retransmitted payload), w (zero window) — logarithmic: at the 1st, 10th, 100th … time.
 * Not modelled: c (checksums are not verified), g (content gaps need a reassembler), x, and
 * Zeek's well-known-port role flip (only the "first packet is a SYN/ACK" flip, `^`).
 *
 * State is per endpoint slot = flowSlot * 2 + (orig ? 0 : 1); letters go into a fixed-size byte
 * buffer per flow so nothing is allocated per packet.
 */

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
export const HISTORY_MAX = 40

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

export class ConnHistory {
  private cap = 0
  // per flow
  private seen = new Uint16Array(0)
  private len = new Uint8Array(0)
  private buf = new Uint8Array(0)
  // per endpoint
  private state = new Uint8Array(0)
  private prevState = new Uint8Array(0)
  private started = new Uint8Array(0)
  private lastSeqEnd = new Uint32Array(0)
  /** Raw seq of the last SYN / RST, seq+len of the last FIN; -1 = none (Float64 to hold both). */
  private lastSyn = new Float64Array(0)
  private lastFin = new Float64Array(0)
  private lastRst = new Float64Array(0)
  private rxmtCnt = new Uint32Array(0)
  private rxmtThresh = new Uint32Array(0)
  private win0Cnt = new Uint32Array(0)
  private win0Thresh = new Uint32Array(0)
  private sizeBytes = new Float64Array(0)

  ensureCapacity(flowSlots: number): void {
    if (flowSlots <= this.cap) return
    let n = this.cap || 256
    while (n < flowSlots) n *= 2
    const e = n * 2
    this.seen = copy(this.seen, new Uint16Array(n))
    this.len = copy(this.len, new Uint8Array(n))
    this.buf = copy(this.buf, new Uint8Array(n * HISTORY_MAX))
    this.state = copy(this.state, new Uint8Array(e))
    this.prevState = copy(this.prevState, new Uint8Array(e))
    this.started = copy(this.started, new Uint8Array(e))
    this.lastSeqEnd = copy(this.lastSeqEnd, new Uint32Array(e))
    this.lastSyn = copy(this.lastSyn, new Float64Array(e))
    this.lastFin = copy(this.lastFin, new Float64Array(e))
    this.lastRst = copy(this.lastRst, new Float64Array(e))
    this.rxmtCnt = copy(this.rxmtCnt, new Uint32Array(e))
    this.rxmtThresh = copy(this.rxmtThresh, new Uint32Array(e))
    this.win0Cnt = copy(this.win0Cnt, new Uint32Array(e))
    this.win0Thresh = copy(this.win0Thresh, new Uint32Array(e))
    this.sizeBytes = copy(this.sizeBytes, new Float64Array(e))
    this.cap = n
  }

  /** Reset a flow slot; `flipped` records Zeek's `^` (first packet was a SYN/ACK). */
  initFlow(slot: number, flipped: boolean): void {
    this.seen[slot] = 0
    this.len[slot] = 0
    if (flipped) this.add(slot, C_FLIP)
    for (let e = slot * 2; e < slot * 2 + 2; e++) {
      this.state[e] = S.Inactive
      this.prevState[e] = S.Inactive
      this.started[e] = 0
      this.lastSeqEnd[e] = 0
      this.lastSyn[e] = -1
      this.lastFin[e] = -1
      this.lastRst[e] = -1
      this.rxmtCnt[e] = 0
      this.rxmtThresh[e] = 1
      this.win0Cnt[e] = 0
      this.win0Thresh[e] = 1
      this.sizeBytes[e] = 0
    }
  }

  /** One TCP segment from the originator (`isOrig`) or the responder. */
  observeTcp(slot: number, isOrig: boolean, seq: number, tcpFlags: number, window: number, len: number): void {
    const e = slot * 2 + (isOrig ? 0 : 1)
    const p = slot * 2 + (isOrig ? 1 : 0)
    const syn = (tcpFlags & SYN) !== 0
    const fin = (tcpFlags & FIN) !== 0
    const rst = (tcpFlags & RST) !== 0
    const ackf = (tcpFlags & ACK) !== 0
    seq = seq >>> 0
    // Zeek's sequence space: SYN and FIN take one, a RST's data none.
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0)
    const end = (seq + segLen) >>> 0
    if (this.started[e] === 0) {
      this.started[e] = 1
      // A first packet without SYN must not count as a retransmission of itself.
      this.lastSeqEnd[e] = syn ? end : seq
    }

    // update_history()
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
    if (bits > 1) {
      if (fin && rst) this.check(slot, isOrig, H_FIN_RST, C_I)
      else this.check(slot, isOrig, H_MULTI, C_Q)
    } else if (bits === 1) {
      if (syn) {
        const code = ackf ? C_H : C_S
        if (this.check(slot, isOrig, H_SYN, code) && seq !== this.lastSyn[e]) this.addDir(slot, isOrig, code)
        this.lastSyn[e] = seq
      }
      if (fin) {
        const fe = (seq + len) >>> 0
        if (this.check(slot, isOrig, H_FIN, C_F) && fe !== this.lastFin[e]) this.addDir(slot, isOrig, C_F)
        this.lastFin[e] = fe
      }
      if (rst) {
        if (this.check(slot, isOrig, H_RST, C_R) && seq !== this.lastRst[e]) this.addDir(slot, isOrig, C_R)
        this.lastRst[e] = seq
      }
    } else if (len > 0) {
      this.check(slot, isOrig, H_DATA, C_D)
    } else if (ackf) {
      this.check(slot, isOrig, H_ACK, C_A)
    }

    // update_window(): zero windows that are not boring.
    if (window === 0 && !rst && this.state[p] !== S.Closed && this.state[e] !== S.Reset) {
      this.scaled(slot, isOrig, e, this.win0Cnt, this.win0Thresh, C_W)
    }

    // update_last_seq(): payload that does not advance the sequence is a retransmission ('t').
    const delta = (end - this.lastSeqEnd[e]) | 0
    if ((syn || rst) && (delta > 1048576 || delta < -1048576)) {
      // Zeek distrusts huge jumps on SYN/RST.
    } else if (this.state[e] === S.Reset) {
      // Nothing after a RST is trusted.
    } else if (delta > 0) {
      this.lastSeqEnd[e] = end
    } else if (len > 0) {
      this.scaled(slot, isOrig, e, this.rxmtCnt, this.rxmtThresh, C_T)
    }
    if (!rst) this.sizeBytes[e] += len

    this.updateState(e, p, isOrig, tcpFlags, len)
  }

  private updateState(e: number, p: number, isOrig: boolean, flags: number, len: number): void {
    const syn = (flags & SYN) !== 0
    const fin = (flags & FIN) !== 0
    const rst = (flags & RST) !== 0
    const ackf = (flags & ACK) !== 0
    const origE = e - (isOrig ? 0 : 1)
    switch (this.state[e]) {
      case S.Inactive: {
        if (syn) {
          if (isOrig) {
            this.set(e, ackf ? S.SynAckSent : S.SynSent)
          } else {
            if (this.state[p] === S.SynSent) this.set(p, S.Established)
            this.set(e, S.Established)
          }
        }
        if (fin) this.set(e, S.Closed)
        if (rst) this.set(e, S.Reset)
        if (this.state[e] === S.Inactive) {
          if (!isOrig && len === 0 && this.state[origE] === S.SynSent) {
            // An ACK of the SYN before the SYN/ACK does not make the connection partial.
          } else if (ackf && this.state[p] === S.Established) {
            this.set(e, S.Established)
          } else {
            this.set(e, S.Partial)
          }
        }
        break
      }
      case S.SynSent:
      case S.SynAckSent:
        if (fin) this.set(e, S.Closed)
        if (rst) this.set(e, S.Reset)
        break
      case S.Established:
      case S.Partial:
        if (syn && this.state[e] === S.Partial && this.state[p] === S.Inactive && !ackf) this.set(e, S.SynSent)
        if (fin && !rst) {
          this.set(e, S.Closed)
          if (this.state[p] === S.Reset && this.prevState[p] === S.Closed) this.set(p, S.Closed)
        }
        if (rst) this.set(e, S.Reset)
        break
      case S.Closed:
        if (rst && this.state[p] !== S.Closed) this.set(e, S.Reset)
        break
      default:
        break
    }
  }

  private set(e: number, st: number): void {
    this.prevState[e] = this.state[e]
    this.state[e] = st
  }

  /** Zeek's CheckHistory(): add the letter the first time; true when it had been seen already. */
  private check(slot: number, isOrig: boolean, mask: number, code: number): boolean {
    const m = isOrig ? mask : mask << 8
    if ((this.seen[slot] & m) === 0) {
      this.seen[slot] |= m
      this.addDir(slot, isOrig, code)
      return false
    }
    return true
  }

  private scaled(slot: number, isOrig: boolean, e: number, cnt: Uint32Array, thr: Uint32Array, code: number): void {
    cnt[e]++
    if (cnt[e] === thr[e]) {
      this.addDir(slot, isOrig, code)
      const next = thr[e] * 10
      if (next > 0xffffffff) cnt[e] = 0
      else thr[e] = next
    }
  }

  private addDir(slot: number, isOrig: boolean, code: number): void {
    this.add(slot, isOrig ? code : code | LOWER)
  }

  private add(slot: number, ch: number): void {
    const n = this.len[slot]
    if (n >= HISTORY_MAX) return
    this.buf[slot * HISTORY_MAX + n] = ch
    this.len[slot] = n + 1
  }

  /** The history string (allocates: call per flow, not per packet). */
  history(slot: number): string {
    const o = slot * HISTORY_MAX
    return String.fromCharCode(...this.buf.subarray(o, o + this.len[slot]))
  }

  endpointState(slot: number, isOrig: boolean): TcpEndpointState {
    return this.state[slot * 2 + (isOrig ? 0 : 1)] as TcpEndpointState
  }

  /** Zeek's conn_state for a TCP flow. */
  connState(slot: number): string {
    const os = this.state[slot * 2]
    const rs = this.state[slot * 2 + 1]
    const oInactive = os === S.Inactive || os === S.Partial
    const rInactive = rs === S.Inactive || rs === S.Partial
    if (rs === S.Reset) {
      if (
        os === S.SynSent ||
        os === S.SynAckSent ||
        (os === S.Reset && this.sizeBytes[slot * 2] === 0 && this.sizeBytes[slot * 2 + 1] === 0)
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

function copy<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old)
  return bigger
}
