/**
 * Which vantage point a capture is: the evidence gathered from its first frames, and the decision.
 * A director re-sends client→VIP frames from its own MAC (DR copies) or answers ARP for the VIP; a
 * real server receives each client→VIP frame once and sends the replies from the VIP with its own
 * MAC (outgoing on `-i any`); a client sends the requests from its MAC and receives the replies on it.
 */
import type {Role} from '../../report/report.js'
import {macNumberToString} from '../dr-pairs.js'

/** Counts per MAC (48-bit as a double), for the handful of MACs a capture point shows. */
export class MacCounter {
  private readonly macs = new Float64Array(32)
  private readonly counts = new Float64Array(32)
  private n = 0
  total = 0

  add(mac: number): void {
    if (mac < 0) return
    this.total++
    for (let i = 0; i < this.n; i++) {
      if (this.macs[i] === mac) {
        this.counts[i]++
        return
      }
    }
    if (this.n < this.macs.length) {
      this.macs[this.n] = mac
      this.counts[this.n++] = 1
    }
  }

  count(mac: number): number {
    for (let i = 0; i < this.n; i++) if (this.macs[i] === mac) return this.counts[i]
    return 0
  }

  /** MAC with the most frames, -1 when none. */
  top(): number {
    let best = -1
    let c = 0
    for (let i = 0; i < this.n; i++) {
      if (this.counts[i] > c) {
        c = this.counts[i]
        best = this.macs[i]
      }
    }
    return best
  }

  /** MACs with at least `share` of the frames, most frequent first. */
  list(share = 0): number[] {
    const out: number[] = []
    for (let i = 0; i < this.n; i++) if (this.counts[i] >= share * this.total) out.push(i)
    return out.sort((a, b) => this.counts[b] - this.counts[a]).map((i) => this.macs[i])
  }
}

/** What one capture showed in its first frames. Requests are client→service, replies service→client. */
export class RoleEvidence {
  frames = 0
  requests = 0
  replies = 0
  /** Requests that are pure SYNs (the client opening connections). */
  synRequests = 0
  /** Forwarded copies of inbound client→VIP frames found by DrPairer, and the MACs they left from. */
  drCopies = 0
  readonly drFromMac = new MacCounter()
  /** ARP replies / gratuitous ARP claiming a VIP, by sender MAC. */
  readonly arpVipFrom = new MacCounter()
  readonly reqSrcMac = new MacCounter()
  readonly reqDstMac = new MacCounter()
  readonly repSrcMac = new MacCounter()
  readonly repDstMac = new MacCounter()
  /** Linux cooked captures: packet type OUTGOING (4) vs received, per direction. */
  reqOutgoing = 0
  reqIncoming = 0
  repOutgoing = 0
  repIncoming = 0
  /** Requests whose TTL / hop limit is an initial value (64, 128, 255): not yet routed. */
  reqInitialTtl = 0
  /** True when frames carry MAC addresses or cooked packet types (not raw IP). */
  hasLinkInfo = false
}

export interface RoleDecision {
  role: Role
  reason: string
  /** The host's own MACs as seen in this capture (director MAC, real-server MACs, client MAC). */
  macs: number[]
}

const macs = (list: number[]): string => list.map(macNumberToString).join(', ')

/** Decide a capture's role from its evidence (overrides are the caller's business). */
export function inferRole(ev: RoleEvidence): RoleDecision {
  const minCopies = Math.max(2, Math.ceil(ev.requests * 0.02))
  if (ev.drCopies >= minCopies) {
    const from = ev.drFromMac.list(0.05)
    return {
      role: 'director',
      reason: `${ev.drCopies} client→VIP frames forwarded again from ${macs(from) || 'this host'} (DR copies, TTL −1 or equal)`,
      macs: from,
    }
  }
  // A director's own RSTs are replies too, but few; a real server answers a good share of requests.
  if (ev.requests > 0 && ev.replies * 5 >= ev.requests) {
    // Real server: replies from the VIP leave with the MAC the requests arrive at. Client: requests
    // leave from the MAC the replies come back to. Behind one router a client shows both patterns
    // (the router's MAC is the requests' destination and the replies' source); then the TTL decides:
    // a client's requests still carry an initial TTL, a real server's were routed by the director.
    const rsMacs = ev.reqDstMac.list(0.01).filter((m) => ev.repSrcMac.count(m) > 0)
    const cMacs = ev.reqSrcMac.list(0.05).filter((m) => ev.repDstMac.count(m) > 0)
    const routed = ev.requests - ev.reqInitialTtl
    const cooked = ev.reqOutgoing + ev.reqIncoming + ev.repOutgoing + ev.repIncoming > 0
    const cookedRs = cooked && ev.repOutgoing > ev.repIncoming && ev.reqIncoming > ev.reqOutgoing
    const cookedClient = cooked && ev.reqOutgoing > ev.reqIncoming && ev.repIncoming > ev.repOutgoing
    if (!cooked && rsMacs.length > 0 && (cMacs.length === 0 || routed * 2 > ev.requests)) {
      const fromDir = ev.reqSrcMac.top()
      return {
        role: 'real-server',
        reason:
          `replies from the VIP leave with ${macs(rsMacs)}, the MAC client→VIP frames arrive at` +
          (fromDir >= 0 ? ` (from ${macNumberToString(fromDir)})` : '') +
          `; ${routed} of ${ev.requests} arrive with TTL already decremented`,
        macs: rsMacs,
      }
    }
    if (cookedRs) {
      return {
        role: 'real-server',
        reason: `replies from the VIP are OUTGOING packets and client→VIP packets arrive (cooked capture); ${routed} of ${ev.requests} with TTL already decremented`,
        macs: ev.repSrcMac.list(0.05),
      }
    }
    if ((!cooked && cMacs.length > 0) || cookedClient) {
      return {
        role: 'client',
        reason:
          `sends the requests to the VIP (${ev.synRequests} SYNs, ${ev.reqInitialTtl} of ${ev.requests} with an initial TTL) ` +
          (cookedClient ? 'as OUTGOING packets and receives the replies' : `from ${macs(cMacs)} and receives the replies on it`),
        macs: cookedClient ? ev.reqSrcMac.list(0.05) : cMacs,
      }
    }
  }
  // Checked after the reply patterns: a client also receives the director's ARP replies for the VIP and
  // addresses its requests to that MAC, but it sees the replies, which a DR director does not.
  const reqDst = ev.reqDstMac.top()
  if (ev.arpVipFrom.total > 0 && reqDst >= 0 && ev.arpVipFrom.count(reqDst) > 0) {
    return {
      role: 'director',
      reason: `answers ARP for the VIP from ${macNumberToString(reqDst)}, the MAC client→VIP frames are addressed to`,
      macs: [reqDst],
    }
  }
  if (ev.requests === 0 && ev.replies === 0) return {role: 'unknown', reason: `no client↔VIP packets among the first ${ev.frames} frames`, macs: []}
  if (!ev.hasLinkInfo) return {role: 'unknown', reason: 'raw IP capture without DR copies: no MAC or packet type to tell the vantage point', macs: []}
  return {
    role: 'unknown',
    reason: `${ev.requests} client→VIP and ${ev.replies} VIP→client packets, but no DR copies, no replies from the receiving MAC, no client MAC pattern`,
    macs: [],
  }
}
