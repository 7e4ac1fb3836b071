/**
 * One flow's IPVS connection-entry timeline, rebuilt from what the director was seen to do (M2–M4):
 * only forwarded packets create or refresh an entry; its expiry is the last forwarded packet + the
 * timeout of the state that packet left it in. NAT replies through the director (dir 'out') refresh too.
 *
 * Packets are pushed in time order as numbers (no per-packet objects: a bulk flow may have millions);
 * queries build small result objects.
 */
import {
  DEFAULT_TCP_TIMEOUTS,
  DEFAULT_UDP_TIMEOUT,
  TCP_STATES,
  flagClass,
  nextTcpState,
  usesInputOnly,
  type EntryState,
  type FlagClass,
  type FwdMethod,
  type StateTimeouts,
  type TableDir,
  type TcpState,
} from './state.js'

export type Proto = 'tcp' | 'udp'
export type PacketDir = 'in' | 'out'

export interface ConnOptions {
  proto?: Proto
  /** Forwarding method of the entry's real server; DR/TUN use the INPUT-ONLY table. Default DR. */
  method?: FwdMethod
  timeouts?: StateTimeouts
  /** ≤ 3.10 kernels: ack on a NONE entry gives CLOSE (see kernelTraits().ackNoneIsClose). */
  ackNoneIsClose?: boolean
  /** The entry is controlled by a persistence template: conn_reuse never applies (is_new_conn_expected). */
  controlled?: boolean
  /** net.ipv4.vs.conn_reuse_mode (default 1); decides whether a forwarded SYN on a live entry began a new one. */
  connReuseMode?: number
}

/** A client→VIP packet as observed at the director (tests and callers holding objects use this). */
export interface FlowPacket {
  /** Seconds, director clock. */
  t: number
  /** TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10); 0 for UDP. */
  flags: number
  /** An outbound copy toward a real server was seen (DR/TUN/NAT), or, for dir 'out', the reply passed. */
  forwarded: boolean
  /** Which real server (any id the caller uses consistently); unknown when absent. */
  rs?: number | string
  /** 'out' = server→client reply through the director (NAT only). Default 'in'. */
  dir?: PacketDir
  /** Caller's reference (e.g. frame number), carried into results. */
  ref?: number
}

/** What the model says about a packet the director did not forward. */
export type UnforwardedVerdict = 'never' | 'alive' | 'expired'

export interface EntryLife {
  index: number
  /** Time of the packet that created the entry. */
  start: number
  /** Real-server id as pushed (−1 unknown). */
  rs: number
  /** Created by a non-SYN (sloppy_tcp, or a synced entry): state started at NONE without SYN. */
  createdWithoutSyn: boolean
  firstPacket: number
  lastForwarded: number
  /** Last forwarded packet time + timeout(state after it). */
  expiresAt: number
  /** 'expired' by its timer, 'replaced' by a later entry (reuse SYN or another RS), 'open' = still alive at the last packet. */
  end: 'expired' | 'replaced' | 'open'
  /** When the entry left the table: expiresAt, or the replacing packet's time. */
  endAt: number
  state: EntryState
}

export interface EntrySnapshot {
  life: number
  /** State after the last forwarded packet strictly before t. */
  state: EntryState
  expiresAt: number
  lastForwardedAt: number
  lastForwardedRef: number
  rs: number
  /** The entry was still in the table at t (t < expiresAt and not replaced). */
  alive: boolean
}

export interface PacketView {
  index: number
  t: number
  ref: number
  cls: FlagClass
  dir: PacketDir
  forwarded: boolean
  rs: number
  life: number
  /** For forwarded packets: state after it. For others: the entry's state at that moment, if alive. */
  state: EntryState | undefined
  /** For forwarded packets: the new expiry. For others: the expiry of the entry that was (or had been) there. */
  expiresAt: number | undefined
  verdict: UnforwardedVerdict | undefined
  /** Seconds since the previous forwarded client packet of this flow. */
  idle: number | undefined
}

const UDP_CODE = TCP_STATES.length
const NO_STATE = 255
const VERDICTS: readonly UnforwardedVerdict[] = ['never', 'alive', 'expired']

function stateCode(s: EntryState): number {
  return s === 'UDP' ? UDP_CODE : TCP_STATES.indexOf(s)
}
function codeState(c: number): EntryState | undefined {
  if (c === UDP_CODE) return 'UDP'
  return c < TCP_STATES.length ? TCP_STATES[c] : undefined
}

export class ConnTimeline {
  readonly proto: Proto
  readonly method: FwdMethod
  private readonly tmo: Float64Array
  private readonly ackNoneIsClose: boolean
  private readonly controlled: boolean
  private readonly connReuseMode: number

  private n = 0
  private t = new Float64Array(16)
  private ref = new Float64Array(16)
  private flags = new Uint8Array(16)
  private dirOut = new Uint8Array(16)
  private fwd = new Uint8Array(16)
  private rsId = new Int32Array(16)
  private stateC = new Uint8Array(16)
  private lifeIx = new Int32Array(16)
  private verdictC = new Uint8Array(16)
  private exp = new Float64Array(16)
  /** Index of the last forwarded packet at or before i (−1 none): makes "last forwarded before t" O(log n). */
  private prevFwd = new Int32Array(16)
  private readonly lives: EntryLife[] = []
  private lastT = -Infinity
  /** Packets whose time went backwards were clamped to the previous time; counted here. */
  outOfOrder = 0

  constructor(opts: ConnOptions = {}) {
    this.proto = opts.proto ?? 'tcp'
    this.method = opts.method ?? 'DR'
    const tm = opts.timeouts ?? {tcp: DEFAULT_TCP_TIMEOUTS, udp: DEFAULT_UDP_TIMEOUT}
    this.tmo = new Float64Array(UDP_CODE + 1)
    TCP_STATES.forEach((s, i) => (this.tmo[i] = tm.tcp[s]))
    this.tmo[UDP_CODE] = tm.udp
    this.ackNoneIsClose = opts.ackNoneIsClose ?? false
    this.controlled = opts.controlled ?? false
    this.connReuseMode = opts.connReuseMode ?? 1
  }

  get length(): number {
    return this.n
  }

  private grow(): void {
    const cap = this.t.length * 2
    const g = <T extends Float64Array | Uint8Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(cap)
      b.set(a)
      return b
    }
    this.t = g(this.t)
    this.ref = g(this.ref)
    this.flags = g(this.flags)
    this.dirOut = g(this.dirOut)
    this.fwd = g(this.fwd)
    this.rsId = g(this.rsId)
    this.stateC = g(this.stateC)
    this.lifeIx = g(this.lifeIx)
    this.verdictC = g(this.verdictC)
    this.exp = g(this.exp)
    this.prevFwd = g(this.prevFwd)
  }

  /** Current entry (the last life) if it is alive at time t. */
  private aliveLife(t: number): EntryLife | undefined {
    const l = this.lives[this.lives.length - 1]
    return l !== undefined && l.end === 'open' && t < l.expiresAt ? l : undefined
  }

  /**
   * Add one packet. `rs` is the caller's numeric real-server id (−1 unknown). Time must not go backwards;
   * if it does it is clamped (and counted in outOfOrder) so the timeline stays monotonic.
   */
  push(time: number, tcpFlags: number, forwarded: boolean, rs = -1, dir: PacketDir = 'in', ref = -1): void {
    if (this.n === this.t.length) this.grow()
    let t = time
    if (t < this.lastT) {
      this.outOfOrder++
      t = this.lastT
    }
    this.lastT = t
    const i = this.n++
    this.t[i] = t
    this.ref[i] = ref
    this.flags[i] = tcpFlags & 0xff
    this.dirOut[i] = dir === 'out' ? 1 : 0
    this.fwd[i] = forwarded ? 1 : 0
    this.rsId[i] = rs
    this.prevFwd[i] = forwarded ? i : i > 0 ? this.prevFwd[i - 1] : -1

    const last = this.lives[this.lives.length - 1]
    // A life whose timer ran out before this packet is closed now, so later lives start clean.
    if (last !== undefined && last.end === 'open' && t >= last.expiresAt) {
      last.end = 'expired'
      last.endAt = last.expiresAt
    }
    let cur = this.aliveLife(t)

    if (!forwarded) {
      this.lifeIx[i] = cur ? cur.index : last ? last.index : -1
      this.stateC[i] = cur ? stateCode(cur.state) : NO_STATE
      this.exp[i] = last ? last.expiresAt : NaN
      this.verdictC[i] = cur ? 1 : last ? 2 : 0
      return
    }

    const cls = this.proto === 'udp' ? 'ack' : flagClass(tcpFlags)
    if (dir === 'out' && !cur) {
      // A reply with no entry is not IPVS traffic we can model; record it without creating an entry.
      this.lifeIx[i] = -1
      this.stateC[i] = NO_STATE
      this.exp[i] = NaN
      this.verdictC[i] = 0
      return
    }
    if (cur && dir === 'in' && this.startsNewEntry(cur, cls, rs)) {
      cur.end = 'replaced'
      cur.endAt = t
      cur = undefined
    }
    if (!cur) {
      cur = {
        index: this.lives.length,
        start: t,
        rs,
        createdWithoutSyn: this.proto === 'tcp' && cls !== 'syn',
        firstPacket: i,
        lastForwarded: i,
        expiresAt: t,
        end: 'open',
        endAt: Infinity,
        state: this.proto === 'udp' ? 'UDP' : 'NONE',
      }
      this.lives.push(cur)
    }
    if (cur.rs < 0 && rs >= 0) cur.rs = rs
    let next: EntryState = 'UDP'
    if (this.proto === 'tcp') {
      const tableDir: TableDir = dir === 'out' ? 'output' : usesInputOnly(this.method) ? 'input-only' : 'input'
      next = nextTcpState(cur.state as TcpState, cls, tableDir, {ackNoneIsClose: this.ackNoneIsClose})
    }
    cur.state = next
    cur.lastForwarded = i
    const code = stateCode(next)
    cur.expiresAt = t + this.tmo[code]
    this.lifeIx[i] = cur.index
    this.stateC[i] = code
    this.exp[i] = cur.expiresAt
    this.verdictC[i] = 1
  }

  /**
   * The entry was already in `state` at time t, before the first packet pushed: the capture began mid-flow,
   * or the caller holds only the packets that decide the state (a run of same-class packets leaves the state
   * its first one set, so the first and last of each run give the same timeline as the whole run).
   */
  seed(t: number, state: EntryState, rs = -1): void {
    if (this.lives.length > 0 || this.n > 0) throw new Error('ConnTimeline.seed must come before any packet')
    this.lastT = t
    this.lives.push({
      index: 0,
      start: t,
      rs,
      createdWithoutSyn: this.proto === 'tcp',
      firstPacket: 0,
      lastForwarded: -1,
      expiresAt: t + this.tmo[stateCode(state)],
      end: 'open',
      endAt: Infinity,
      state,
    })
  }

  /** The per-state timer (s) this timeline applies. */
  timeoutOf(state: EntryState): number {
    return this.tmo[stateCode(state)]
  }

  /** A forwarded SYN on a live entry starts a new one under conn_reuse (M3 step 2) or when the RS differs. */
  private startsNewEntry(cur: EntryLife, cls: FlagClass, rs: number): boolean {
    if (rs >= 0 && cur.rs >= 0 && rs !== cur.rs) return true
    if (cls !== 'syn' || this.proto !== 'tcp') return false
    if (!this.connReuseMode || this.controlled) return false
    const s = cur.state
    return s === 'TW' || s === 'CL' || ((this.connReuseMode & 2) !== 0 && s === 'FW' && usesInputOnly(this.method))
  }

  /** Entries in creation order. Lives still open at the last packet report end 'open' and endAt Infinity. */
  entries(): readonly EntryLife[] {
    return this.lives
  }

  /** Index of the last packet with time strictly before t (−1 none). */
  private lastBefore(t: number): number {
    let lo = 0
    let hi = this.n
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.t[mid] < t) lo = mid + 1
      else hi = mid
    }
    return lo - 1
  }

  /**
   * The entry as a packet arriving at t would find it: built from forwarded packets strictly before t.
   * Undefined when nothing was forwarded before t.
   */
  entryAt(t: number): EntrySnapshot | undefined {
    const j = this.lastBefore(t)
    if (j < 0) return undefined
    const f = this.prevFwd[j]
    if (f < 0 || this.lifeIx[f] < 0) return undefined
    const life = this.lives[this.lifeIx[f]]
    const expiresAt = this.exp[f]
    return {
      life: life.index,
      state: codeState(this.stateC[f]) ?? 'NONE',
      expiresAt,
      lastForwardedAt: this.t[f],
      lastForwardedRef: this.ref[f],
      rs: life.rs,
      alive: t < expiresAt && !(life.end === 'replaced' && life.endAt < t),
    }
  }

  packet(i: number): PacketView {
    if (i < 0 || i >= this.n) throw new RangeError(`packet ${i} out of range 0..${this.n - 1}`)
    const fwd = this.fwd[i] === 1
    const pf = i > 0 ? this.prevFwd[i - 1] : -1
    const dirOut = this.dirOut[i] === 1
    return {
      index: i,
      t: this.t[i],
      ref: this.ref[i],
      cls: this.proto === 'udp' ? 'ack' : flagClass(this.flags[i]),
      dir: dirOut ? 'out' : 'in',
      forwarded: fwd,
      rs: this.rsId[i],
      life: this.lifeIx[i],
      state: codeState(this.stateC[i]),
      expiresAt: Number.isNaN(this.exp[i]) ? undefined : this.exp[i],
      verdict: fwd ? undefined : VERDICTS[this.verdictC[i]],
      idle: pf >= 0 ? this.t[i] - this.t[pf] : undefined,
    }
  }
}

/** Convenience for callers holding packet objects; string RS names are mapped to small ids in order. */
export function buildConnTimeline(packets: readonly FlowPacket[], opts: ConnOptions = {}): ConnTimeline {
  const tl = new ConnTimeline(opts)
  const ids = new Map<string | number, number>()
  for (const p of packets) {
    let rs = -1
    if (p.rs !== undefined) {
      if (typeof p.rs === 'number' && p.rs >= 0) rs = p.rs
      else {
        rs = ids.get(p.rs) ?? -1
        if (rs < 0) {
          rs = 1_000_000 + ids.size
          ids.set(p.rs, rs)
        }
      }
    }
    tl.push(p.t, p.flags, p.forwarded, rs, p.dir ?? 'in', p.ref ?? -1)
  }
  return tl
}
