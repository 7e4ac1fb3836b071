import {templateGoneAt} from '../ipvs/template.js'
import type {Cause, Confidence, EvidenceFrame, Finding} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import type {ConnectionStart} from '../vantage/ledger.js'
import type {Failover} from './failovers.js'
import {type Incident, type IncidentCapture, isoTimeOf, packetEvidence, refEpoch, round9} from './incident.js'
import {connectionsOf} from './lookup.js'
import {FAILOVER_FIX, persistenceFix} from './recommend.js'

interface Conn {
  cap: IncidentCapture
  c: ConnectionStart
  epoch: number
  rs: string
}

/** Share of same-server repeats among a service's quick reconnections above which it behaves as persistent. */
const STICKY = 0.9

/**
 * A client's new connection scheduled to another real server than its previous one. Reported where the
 * service is persistent (from flags/configuration, or because clients' quick reconnections stick to one
 * server): then the move means the template was gone — expired, or lost in a failover.
 */
export function rescheduleFindings(inc: Incident, failovers: Failover[]): Finding[] {
  const byClient = new Map<string, Conn[]>()
  for (const cap of inc.captures) {
    if (cap.role !== 'director') continue
    for (const c of cap.scan.ledger.connections) {
      if (c.realServer === null) continue
      const key = `${c.clientIp}>${c.service}`
      const list = byClient.get(key) ?? []
      list.push({cap, c, epoch: refEpoch(cap, c.syn.ref), rs: c.realServer})
      byClient.set(key, list)
    }
  }
  // Consecutive connections of the same client: gap and whether they stayed on one server — sorted by gap
  // with running counts, so "how did reconnections quicker than g behave?" is a binary search.
  const pairs: {gap: number; same: boolean}[] = []
  for (const list of byClient.values()) {
    list.sort((a, b) => a.epoch - b.epoch)
    for (let i = 1; i < list.length; i++) pairs.push({gap: list[i].epoch - list[i - 1].epoch, same: list[i].rs === list[i - 1].rs})
  }
  pairs.sort((a, b) => a.gap - b.gap)
  const sameBefore = new Float64Array(pairs.length + 1)
  const longestSameBefore = new Float64Array(pairs.length + 1)
  for (let i = 0; i < pairs.length; i++) {
    sameBefore[i + 1] = sameBefore[i] + (pairs[i].same ? 1 : 0)
    longestSameBefore[i + 1] = pairs[i].same ? pairs[i].gap : longestSameBefore[i]
  }
  /** Pairs with a gap strictly below g: how many, how many stayed, the longest that stayed. */
  const quicker = (g: number): {n: number; same: number; longest: number} => {
    let lo = 0
    let hi = pairs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (pairs[mid].gap < g) lo = mid + 1
      else hi = mid
    }
    return {n: lo, same: sameBefore[lo], longest: longestSameBefore[lo]}
  }
  const p = inc.timeouts.persistence
  const out: Finding[] = []
  for (const list of byClient.values()) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]
      const cur = list[i]
      if (cur.rs === prev.rs) continue
      const gap = cur.epoch - prev.epoch
      const moved = failovers.find((f) => f.epoch > prev.epoch && f.epoch < cur.epoch)
      let cause: Cause
      let confidence: Confidence
      const timeline: string[] = [
        `${isoTimeOf(prev.epoch)} previous connection ${prev.c.client} scheduled to ${prev.rs} (re-arms the persistence template)`,
      ]
      let recommendation: string
      if (inc.persistenceKnown && p !== null) {
        const gone = templateGoneAt(prev.epoch, p, prev.epoch)
        timeline.push(`${isoTimeOf(gone)} template expires (persistence ${p} s)`)
        if (gap < p && moved) {
          cause = 'failover-unsynced'
          confidence = 'medium'
          recommendation = FAILOVER_FIX
          timeline.push(`${isoTimeOf(moved.epoch)} VIP moved to ${moved.toMac}: the new director had no template for the client`)
        } else if (gap >= p) {
          cause = 'persistence-expired'
          confidence = 'high'
          recommendation = persistenceFix(gap, p)
        } else continue
      } else {
        // No configured persistence: infer it from how quick reconnections behave.
        const quick = quicker(gap)
        if (quick.n === 0 || quick.same / quick.n < STICKY) continue
        const streak = i >= 2 && list[i - 2].rs === prev.rs
        const longest = quick.longest
        if (moved) {
          cause = 'failover-unsynced'
          confidence = 'low'
          recommendation = FAILOVER_FIX
        } else {
          cause = 'persistence-expired'
          confidence = streak && quick.n >= 3 ? 'medium' : 'low'
          recommendation = persistenceFix(gap, null)
          timeline.push(
            `clients' reconnections within ${humanDuration(longest)} stayed on their server (${quick.same}/${quick.n}): the service is persistent, with a template lifetime between ${humanDuration(longest)} and ${humanDuration(gap)}`,
          )
        }
      }
      timeline.push(`${isoTimeOf(cur.epoch)} new connection ${cur.c.client} after ${humanDuration(gap)} scheduled to ${cur.rs} instead`)
      const ev: EvidenceFrame[] = [packetEvidence(cur.cap, cur.c.syn, `SYN scheduled to ${cur.rs}`)]
      const atRs = synAtRealServer(inc, cur)
      if (atRs) ev.push(atRs)
      ev.push(packetEvidence(prev.cap, prev.c.syn, `previous SYN, scheduled to ${prev.rs}`))
      const epoch = round9(cur.epoch)
      out.push({
        kind: 'reschedule',
        epoch,
        time: isoTimeOf(epoch),
        flow: {client: cur.c.client, service: cur.c.service},
        sender: 'director',
        cause,
        confidence,
        summary: `client ${cur.c.clientIp} moved from ${prev.rs} to ${cur.rs} (${cause})`,
        evidence: ev,
        timeline,
        realServerView: null,
        application: null,
        recommendation,
      })
    }
  }
  return out
}

function synAtRealServer(inc: Incident, conn: Conn): EvidenceFrame | null {
  for (const cap of inc.captures) {
    if (cap.role !== 'real-server') continue
    const c = connectionsOf(cap.scan, conn.c.client, conn.c.service)[0]
    if (c) return packetEvidence(cap, c.syn, 'the SYN arriving at the new real server')
  }
  return null
}
