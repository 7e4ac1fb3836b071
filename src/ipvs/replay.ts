/**
 * The director's entry for one flow, replayed from the client packets it forwarded (and did not), and the
 * question a diagnosis asks of it: what did the table hold when this packet arrived, and why not?
 * Pure: the caller maps capture frames to `ReplayPacket`s (times in one clock).
 */
import {ConnTimeline} from './conn.js'
import {decide, type DecisionReason} from './director.js'
import type {KernelTraits} from './kernel.js'
import {STATE_NAMES, flagClass, nextTcpState, timeoutFor, type EntryState, type StateTimeouts} from './state.js'

export interface ReplayPacket {
  /** Seconds, in the caller's (reference) clock. */
  t: number
  flags: number
  forwarded: boolean
  /** The caller's frame number, carried into answers. */
  frame: number
}

export interface ReplayOptions {
  timeouts: StateTimeouts
  traits: KernelTraits
  /**
   * The connection was past its handshake before the first packet given (its SYN is not among them, or only
   * the packets that decide the state are given): the entry starts ESTABLISHED.
   */
  established: boolean
}

/** What the table held for the flow when a packet arrived at `t`. */
export interface EntryAnswer {
  /**
   * held: an entry was in the table (by its timer); expired: the entry's timer had run out; never: no packet of
   * the flow was forwarded before (this director never had an entry for it).
   */
  status: 'held' | 'expired' | 'never'
  /** The entry's state after the last forwarded packet before t (kernel short name), when there was one. */
  state: EntryState | null
  /** As ipvsadm prints it, e.g. "FIN_WAIT". */
  stateName: string | null
  /** The timer that state armed (s). */
  timeout: number | null
  lastForwardedAt: number | null
  lastForwardedFrame: number | null
  /** When the entry expires (or expired) by its timer. */
  expiresAt: number | null
}

/** One flow's entry timeline at one director. */
export class FlowReplay {
  readonly timeline: ConnTimeline
  private readonly traits: KernelTraits

  constructor(packets: readonly ReplayPacket[], opts: ReplayOptions) {
    this.traits = opts.traits
    const tl = new ConnTimeline({timeouts: opts.timeouts, ackNoneIsClose: opts.traits.ackNoneIsClose})
    const sorted = [...packets].sort((a, b) => a.t - b.t || a.frame - b.frame)
    const firstFwd = sorted.find((p) => p.forwarded)
    if (opts.established && firstFwd !== undefined && flagClass(firstFwd.flags) !== 'syn') tl.seed(sorted[0].t, 'ES')
    let prevFwd: ReplayPacket | undefined
    for (const p of sorted) {
      if (p.forwarded && prevFwd !== undefined && flagClass(p.flags) !== 'syn') {
        // Forwarded without a SYN (sloppy_tcp=0), so the entry was live: when the replay says it had expired, the
        // packets that kept it alive are among those not given (only each run's ends are). Refresh it in the
        // previous packet's state (a run's class leaves the state unchanged) just before its timer ran out.
        for (let s = tl.entryAt(p.t); s !== undefined && !s.alive && s.expiresAt < p.t; s = tl.entryAt(p.t)) {
          tl.push(s.expiresAt - 1e-6, prevFwd.flags, true, -1, 'in', prevFwd.frame)
        }
      }
      tl.push(p.t, p.flags, p.forwarded, -1, 'in', p.frame)
      if (p.forwarded) prevFwd = p
    }
    this.timeline = tl
  }

  /** The entry as a packet arriving at t found it. */
  at(t: number): EntryAnswer {
    const s = this.timeline.entryAt(t)
    if (s === undefined) {
      return {status: 'never', state: null, stateName: null, timeout: null, lastForwardedAt: null, lastForwardedFrame: null, expiresAt: null}
    }
    return {
      status: s.alive ? 'held' : 'expired',
      state: s.state,
      stateName: STATE_NAMES[s.state],
      timeout: this.timeline.timeoutOf(s.state),
      lastForwardedAt: s.lastForwardedAt,
      lastForwardedFrame: s.lastForwardedRef,
      expiresAt: s.expiresAt,
    }
  }

  /**
   * Why IPVS (M3) would not forward a TCP packet with `flags` arriving at t with a dest `available` or not,
   * given what the entry held: the model's own decision, so a diagnosis never restates the rule.
   */
  decisionAt(t: number, flags: number, dest: {available: boolean; expireNodestConn: boolean}): DecisionReason {
    const a = this.at(t)
    const entry =
      a.status === 'held' && a.state !== null
        ? {state: a.state, destAvailable: dest.available, destWeight: 1, controlled: false, noOutput: true}
        : undefined
    return decide(
      {cls: flagClass(flags), proto: 'tcp', entry, serviceExists: true, anyService: true},
      {expireNodestConn: dest.expireNodestConn},
      this.traits,
    ).reason
  }
}

/**
 * When an ESTABLISHED DR/TUN entry leaves the table if its last client packet had `flags` at time t: the timer
 * of the state that packet set (INPUT-ONLY table). Allocation-free, for per-connection estimates.
 */
export function expiryAfter(flags: number, t: number, timeouts: StateTimeouts, traits: KernelTraits): number {
  const cls = flagClass(flags)
  const state = cls === 'none' ? 'CL' : nextTcpState('ES', cls, 'input-only', {ackNoneIsClose: traits.ackNoneIsClose})
  return t + timeoutFor(timeouts, state)
}
