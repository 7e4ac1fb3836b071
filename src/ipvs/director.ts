/**
 * The director's decision for one client→VIP packet (M3), as a pure function of what the table holds.
 * Per-flow reconstruction from captures lives in conn.ts and replay.ts; the table simulator that applies these
 * decisions over time (test/ipvs/simulator.ts) checks them in the tests.
 */
import {kernelTraits, type KernelTraits, type Version} from './kernel.js'
import type {EntryState, FlagClass, StateTimeouts} from './state.js'

export interface DirectorConfig {
  /** Kernel version ("5.10", "4.19.0-25-amd64"); default a 6.x kernel. */
  kernel?: string | Version
  /** The distribution kernel carries the c95c07836fa4 stable backport (4.19/5.4/5.15). */
  stableBackports?: boolean
  sloppyTcp?: boolean
  /** net.ipv4.vs.conn_reuse_mode, default 1. */
  connReuseMode?: number
  expireNodestConn?: boolean
  expireQuiescentTemplate?: boolean
  /** net.ipv4.vs.conntrack=1: a reuse SYN that still carries the old conntrack is dropped (client retransmits). */
  conntrack?: boolean
  timeouts?: StateTimeouts
}

/** What a packet finds, for the pure decision. */
export interface EntryView {
  state: EntryState
  /** Dest still AVAILABLE (not deleted / trashed). */
  destAvailable: boolean
  destWeight: number
  /** Controlled by a persistence template (cp->control set). */
  controlled: boolean
  /** DR/TUN entry (NOOUTPUT). */
  noOutput: boolean
}

export interface DecisionInput {
  cls: FlagClass
  proto: 'tcp' | 'udp'
  entry: EntryView | undefined
  /** A virtual service exists for the packet's VIP:port (or fwmark). */
  serviceExists: boolean
  /** At least one virtual service exists in the netns (≥ 5.9 hooks are registered only then). */
  anyService: boolean
}

/** Director-RST cause labels of M9 and the drop/forward reasons around them. */
export type DecisionReason =
  | 'entry' // forwarded on the existing entry
  | 'new' // scheduled: SYN (or UDP / sloppy) with no entry
  | 'reuse' // port-reuse SYN expired the old entry (conn_reuse_mode), scheduled afresh
  | 'reuse-weight0' // SYN on an entry whose dest has weight 0, expire_nodest_conn=1
  | 'nodest-reschedule' // ≥ 5.9, expire_nodest_conn=1: entry expired, this packet rescheduled
  | 'dest-unavailable' // drop, expire_nodest_conn=0: no refresh
  | 'nodest-expired' // < 5.9, expire_nodest_conn=1: entry expired, this packet dropped
  | 'old-conntrack' // conntrack=1 reuse SYN dropped
  | 'no-entry' // non-SYN with no entry (sloppy_tcp=0) → local stack
  | 'no-service'
  | 'hooks-off' // ≥ 5.9 and the netns has no service at all
  | 'rst-no-entry' // an RST with no entry: local stack, silently absorbed

export interface Decision {
  /** forward: existing entry; schedule: a new entry must be scheduled (→ ICMP if no usable dest). */
  action: 'forward' | 'schedule' | 'drop' | 'local'
  reason: DecisionReason
  /** The existing entry is removed by this packet (reuse, nodest). */
  expiresEntry: boolean
  /** For 'local': whether the local stack answers with an RST (never for an RST). */
  localRst: boolean
}

function isNewConnExpected(e: EntryView, mode: number): boolean {
  if (e.controlled) return false
  return e.state === 'TW' || e.state === 'CL' || ((mode & 2) !== 0 && e.state === 'FW' && e.noOutput)
}

/** M3 steps 0–4 for one packet, given the kernel traits and sysctls. Pure. */
export function decide(inp: DecisionInput, cfg: DirectorConfig = {}, traits: KernelTraits = kernelTraits(cfg.kernel, cfg.stableBackports)): Decision {
  // The local stack answers TCP (not RST) with an RST; UDP gets ICMP from the stack, which is not an RST.
  const localRst = inp.proto === 'tcp' && inp.cls !== 'rst'
  const local = (reason: DecisionReason): Decision => ({
    action: 'local',
    reason: inp.cls === 'rst' && reason === 'no-entry' ? 'rst-no-entry' : reason,
    expiresEntry: false,
    localRst,
  })
  if (!inp.anyService && traits.hooksOnlyWithServices) return local('hooks-off')

  const mode = cfg.connReuseMode ?? 1
  let e = inp.entry
  let expired = false
  let reason: DecisionReason | undefined
  // Step 2: a SYN that reuses the client port of an existing entry (TCP only: is_new_conn).
  if (e && inp.proto === 'tcp' && inp.cls === 'syn' && traits.hasConnReuseMode) {
    const weightBranch = traits.reuseWeightZeroAnyMode || mode !== 0
    if (cfg.expireNodestConn && weightBranch && e.destWeight === 0) {
      reason = 'reuse-weight0'
    } else if (mode !== 0 && isNewConnExpected(e, mode)) {
      reason = 'reuse'
    }
    if (reason) {
      // Templates never reach here (only conns are looked up), so n_control is 0: the entry is expired.
      if (cfg.conntrack) return {action: 'drop', reason: 'old-conntrack', expiresEntry: true, localRst: false}
      expired = true
      e = undefined
    }
  }
  // Step 3: the entry's dest was deleted.
  if (e && !e.destAvailable) {
    if (!cfg.expireNodestConn) return {action: 'drop', reason: 'dest-unavailable', expiresEntry: false, localRst: false}
    if (!traits.nodestReschedule) return {action: 'drop', reason: 'nodest-expired', expiresEntry: true, localRst: false}
    expired = true
    reason = 'nodest-reschedule'
    e = undefined
  }
  if (e) return {action: 'forward', reason: 'entry', expiresEntry: false, localRst: false}
  // Step 4: no entry.
  if (inp.proto === 'tcp' && (inp.cls === 'rst' || !(inp.cls === 'syn' || cfg.sloppyTcp))) {
    // Keep the nodest label: the entry was there and this very packet expired it (≥ 5.9).
    const d = local(reason === 'nodest-reschedule' ? reason : inp.serviceExists ? 'no-entry' : 'no-service')
    return {...d, expiresEntry: expired}
  }
  if (!inp.serviceExists) return {...local('no-service'), expiresEntry: expired}
  return {action: 'schedule', reason: reason ?? 'new', expiresEntry: expired, localRst: false}
}
