/**
 * Re-scheduling: a client's new connection sent to another real server than its previous one. On a persistent
 * service (configured, or inferred where chance cannot explain how reconnections stuck) the move means the
 * template was gone: the template timeline (src/ipvs/template.ts) says whether it had expired, else a failover
 * lost it. Rules: docs/causes.md.
 */
import {TCP_ACK, TCP_FIN, TCP_RST} from '../decode/packet.js'
import {expiryAfter} from '../ipvs/replay.js'
import {stateTimeoutsOf} from '../ipvs/timeouts.js'
import {buildTemplateTimeline, templateKey, wouldReschedule, type ControlledConn} from '../ipvs/template.js'
import {endpointText, endpointKey} from '../model/endpoint.js'
import {micros, type TimelineEvent} from '../model/timeline.js'
import type {AnalysisWarning} from '../model/warning.js'
import type {EvidenceFrame, Finding} from '../report/report.js'
import {humanDuration} from '../util/time.js'
import {scheduledConnections, type ScheduledConnection} from '../vantage/correlate/scheduled.js'
import type {Failover} from './failovers.js'
import {type Incident, isoTimeOf, round9} from './incident.js'
import {flowsBetween} from './lookup.js'
import {FAILOVER_FIX, persistenceFix} from './recommend.js'
import {ruleOf, type Verdict} from './verdict.js'

/** Infer persistence only when chance explains the sticking reconnections with less than this probability. */
export const CHANCE_LIMIT = 0.01

/**
 * How likely `sticky` reconnections all stayed on their server by chance, with `servers` real servers: each fresh
 * scheduling decision lands on the previous server with probability 1/servers at best for a spreading scheduler
 * (rr, wrr, lc, wlc, sed, nq); schedulers that hash the client (sh, dh, mh, lblc) are persistence by another name.
 */
export function chanceOfSticking(sticky: number, servers: number): number {
  if (servers < 2) return 1
  return Math.pow(1 / servers, sticky)
}

/**
 * When the connection's entry left the director's table: its last client packet at the director, replayed
 * through the entry model (the timer of the state it left). Unknown → its start (the template then outlives
 * only its new connections).
 */
function entryEnd(inc: Incident, c: ScheduledConnection): number {
  const cap = inc.captures.find((x) => x.scan.file === c.file)
  if (cap === undefined) return c.epoch
  const f = flowsBetween(cap.scan, endpointText(c.client), endpointText(c.service)).find((r) => Math.abs(r.firstEpoch - cap.offset - c.epoch) < 1)
  if (f === undefined) return c.epoch
  const clientIsOrig = f.orig === endpointText(c.client)
  const fin = (clientIsOrig ? f.finOrig : f.finResp) > 0
  const rst = (clientIsOrig ? f.rstOrig : f.rstResp) > 0
  const last = f.lastEpoch - cap.offset
  return expiryAfter(rst ? TCP_RST : fin ? TCP_FIN | TCP_ACK : TCP_ACK, last, stateTimeoutsOf(inc.timeouts), inc.kernel)
}

function ev(c: ScheduledConnection, what: string): EvidenceFrame {
  const epoch = round9(c.epoch)
  return {file: c.file, frame: c.syn.ref.frame, epoch, time: isoTimeOf(epoch), what}
}

export interface RescheduleResult {
  findings: Finding[]
  warnings: AnalysisWarning[]
}

export function rescheduleFindings(inc: Incident, failovers: Failover[]): RescheduleResult {
  const directorMacs = new Set(inc.topology.directors.map((d) => d.mac))
  const conns = scheduledConnections(
    inc.captures.map((c) => ({file: c.scan.file, role: c.role, offset: c.offset, macs: c.macs ?? [], ledger: c.scan.ledger})),
    directorMacs,
  ).filter((c) => c.realServer !== null)
  const p = inc.persistenceKnown ? inc.timeouts.persistence : null
  const mask = inc.timeouts.persistenceMask
  // Per persistence client (its address under the template mask) and service.
  const byClient = new Map<string, ScheduledConnection[]>()
  const servers = new Map<string, Set<string>>()
  for (const c of conns) {
    // The persistence template's own key (M5: the client under the netmask, port 0 for port-0/FTP services).
    const k = templateKey({proto: 'tcp', vip: c.service.ip, port: c.service.port, mask}, c.client.ip)
    const list = byClient.get(k) ?? []
    list.push(c)
    byClient.set(k, list)
    const sk = endpointKey(c.service)
    const set = servers.get(sk) ?? new Set<string>()
    set.add(c.realServer as string)
    servers.set(sk, set)
  }
  // Consecutive connections of one client, per service, sorted by how long apart: "how did reconnections
  // quicker than g behave?" is then a binary search over running counts.
  const quickerBy = new Map<string, (g: number) => {n: number; sticky: number; longestSticky: number}>()
  {
    const gaps = new Map<string, {gap: number; same: boolean}[]>()
    for (const list of byClient.values()) {
      for (let i = 1; i < list.length; i++) {
        const sk = endpointKey(list[i].service)
        const l = gaps.get(sk) ?? []
        l.push({gap: list[i].epoch - list[i - 1].epoch, same: list[i].realServer === list[i - 1].realServer})
        gaps.set(sk, l)
      }
    }
    for (const [sk, l] of gaps) {
      l.sort((a, b) => a.gap - b.gap)
      const sticky = new Float64Array(l.length + 1)
      const longest = new Float64Array(l.length + 1)
      for (let i = 0; i < l.length; i++) {
        sticky[i + 1] = sticky[i] + (l[i].same ? 1 : 0)
        longest[i + 1] = l[i].same ? l[i].gap : longest[i]
      }
      quickerBy.set(sk, (g) => {
        let lo = 0
        let hi = l.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          if (l[mid].gap < g) lo = mid + 1
          else hi = mid
        }
        return {n: lo, sticky: sticky[lo], longestSticky: longest[lo]}
      })
    }
  }
  const findings: Finding[] = []
  const warnings: AnalysisWarning[] = []
  for (const list of byClient.values()) {
    // The template timeline under the configured persistence (M5): conns end with their entry, which the
    // captures bound by the next connection at the latest; a template outlives its last new connection by p.
    const lives = p === null ? [] : buildTemplateTimeline(list.map((c): ControlledConn => ({start: c.epoch, end: entryEnd(inc, c)})), p)
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]
      const cur = list[i]
      if (cur.realServer === prev.realServer) continue
      const gap = cur.epoch - prev.epoch
      const moved = failovers.find((f) => f.epoch > prev.epoch && f.epoch < cur.epoch)
      const n = servers.get(endpointKey(cur.service))?.size ?? 1
      if (p === null) {
        // Most moves of a service not known to be persistent are ordinary scheduling: decide before any text.
        const q = quickerBy.get(endpointKey(cur.service))?.(gap) ?? {n: 0, sticky: 0, longestSticky: 0}
        const allStuck = q.sticky > 0 && q.n === q.sticky
        const chance = chanceOfSticking(q.sticky, n)
        if (!allStuck || chance >= CHANCE_LIMIT) {
          if (allStuck) {
            warnings.push({
              code: 'reschedule-undecided',
              message: `client ${cur.client.ip} moved from ${prev.realServer} to ${cur.realServer} after ${humanDuration(gap)}; ${q.sticky} quicker reconnection(s) stayed on their server, which chance explains with probability ${chance.toPrecision(2)} (${n} servers): not enough to call the service persistent`,
              capture: cur.file,
              decide: 'pass --persistence (or the director\'s ipvsadm -Ln / keepalived.conf with --config) to decide whether this was a persistence expiry',
            })
          }
          continue
        }
      }
      const events: TimelineEvent[] = [
        {kind: 'client-packet', epoch: micros(prev.epoch), capture: prev.file, frame: prev.syn.ref.frame, from: prev.client.ip, to: prev.service.ip, flags: '[S]', forwarded: true},
        {kind: 'forwarded-copy', epoch: micros(prev.epoch), capture: prev.file, frame: prev.syn.ref.frame, from: prev.service.ip, to: prev.realServer ?? undefined},
      ]
      const timeline = [`${isoTimeOf(prev.epoch)} previous connection ${endpointText(prev.client)} scheduled to ${prev.realServer} (re-arms the persistence template)`]
      const v: Verdict = {cause: 'unknown', confidence: 'low', rule: 'persistence-expired', checks: [], decide: null, timeline, evidence: [], events, recommendation: ''}
      let report = true
      if (p !== null) {
        const life = lives.find((l) => l.conns.includes(i - 1))
        const gone = life?.removedAt ?? prev.epoch + p
        events.push({kind: 'template-created', epoch: micros(life?.start ?? prev.epoch), capture: null, frame: null, timeout: p})
        const fresh = wouldReschedule(lives, cur.epoch)
        if (fresh) {
          timeline.push(`${isoTimeOf(gone)} template expires (persistence ${p} s)`)
          events.push({kind: 'template-expired', epoch: micros(gone), capture: null, frame: null, timeout: p})
          v.cause = 'persistence-expired'
          v.confidence = 'high'
          v.recommendation = persistenceFix(gap, p)
          v.checks = [
            {name: 'persistence configured (flag or configuration)', present: true},
            {name: 'the template had expired by the new SYN (template timeline)', present: true},
            {name: 'the new SYN went to another real server', present: true},
          ]
        } else if (moved) {
          v.rule = 'failover-unsynced'
          v.cause = 'failover-unsynced'
          v.confidence = 'medium'
          v.recommendation = FAILOVER_FIX
          timeline.push(`${isoTimeOf(moved.epoch)} VIP moved to ${moved.toMac}: the new director had no template for the client`)
          events.push({kind: 'failover', epoch: micros(moved.epoch), capture: moved.evidence[0]?.file ?? null, frame: moved.evidence[0]?.frame ?? null})
          v.checks = [
            {name: 'the template was still live by its timer', present: true},
            {name: 'the VIP moved between the two connections', present: true},
          ]
        } else {
          // The model says the template still held it: something the inputs do not show moved the client.
          report = false
          warnings.push({
            code: 'reschedule-undecided',
            message: `client ${cur.client.ip} moved from ${prev.realServer} to ${cur.realServer} after ${humanDuration(gap)}, while its persistence template (${p} s) should still have held it`,
            capture: cur.file,
            decide: `the director's log or \`ipvsadm -Ln\` at that time: ${prev.realServer} left the pool or got weight 0 (expire_quiescent_template), or the persistence is not ${p} s`,
          })
        }
      } else {
        // No configured persistence: infer it only when chance cannot explain the sticking reconnections.
        const quicker = quickerBy.get(endpointKey(cur.service))?.(gap) ?? {n: 0, sticky: 0, longestSticky: 0}
        const sticky = quicker.sticky
        const movedQuick = quicker.n - sticky
        const chance = chanceOfSticking(sticky, n)
        const inferred = sticky > 0 && movedQuick === 0 && chance < CHANCE_LIMIT
        v.checks = [
          {name: `reconnections quicker than ${humanDuration(gap)} all stayed on their server (${sticky} of ${quicker.n})`, present: sticky > 0 && movedQuick === 0},
          {name: `chance explains that with probability ${chance.toPrecision(2)} (${n} servers), below ${CHANCE_LIMIT}`, present: chance < CHANCE_LIMIT},
        ]
        if (!inferred) {
          report = false
        } else if (moved) {
          v.rule = 'failover-unsynced'
          v.cause = 'failover-unsynced'
          v.confidence = 'low'
          v.recommendation = FAILOVER_FIX
        } else {
          const longest = quicker.longestSticky
          v.cause = 'persistence-expired'
          v.confidence = 'medium'
          v.recommendation = persistenceFix(gap, null)
          timeline.push(
            `clients' reconnections within ${humanDuration(longest)} stayed on their server (${sticky}/${quicker.n}; by chance with probability ${chance.toPrecision(2)} at ${n} servers): the service is persistent, with a template lifetime between ${humanDuration(longest)} and ${humanDuration(gap)}`,
          )
        }
      }
      if (!report) continue
      timeline.push(`${isoTimeOf(cur.epoch)} new connection ${endpointText(cur.client)} after ${humanDuration(gap)} scheduled to ${cur.realServer} instead`)
      events.push(
        {kind: 'client-packet', epoch: micros(cur.epoch), capture: cur.file, frame: cur.syn.ref.frame, from: cur.client.ip, to: cur.service.ip, flags: '[S]', forwarded: true},
        {kind: 'forwarded-copy', epoch: micros(cur.epoch), capture: cur.file, frame: cur.syn.ref.frame, from: cur.service.ip, to: cur.realServer ?? undefined},
      )
      const evidence: EvidenceFrame[] = [ev(cur, `SYN scheduled to ${cur.realServer}${cur.source === 'outbound-mac' ? '' : ` (${cur.source === null ? 'unknown' : `from the ${cur.source}`})`}`)]
      if (cur.atRealServer) {
        const c = inc.captures.find((x) => x.scan.file === cur.atRealServer?.file)
        const epoch = round9(cur.atRealServer.syn.ref.sec - (c?.offset ?? 0) + cur.atRealServer.syn.ref.nsec / 1e9)
        evidence.push({file: cur.atRealServer.file, frame: cur.atRealServer.syn.ref.frame, epoch, time: isoTimeOf(epoch), what: 'the SYN arriving at the new real server'})
      }
      evidence.push(ev(prev, `previous SYN, scheduled to ${prev.realServer}`))
      const epoch = round9(cur.epoch)
      findings.push({
        kind: 'reschedule',
        epoch,
        time: isoTimeOf(epoch),
        flow: {client: endpointText(cur.client), service: endpointText(cur.service)},
        sender: 'director',
        cause: v.cause,
        confidence: v.confidence,
        summary: `client ${cur.client.ip} moved from ${prev.realServer} to ${cur.realServer} (${v.cause})`,
        evidence,
        timeline,
        realServerView: null,
        application: null,
        recommendation: v.recommendation,
        events: events.sort((a, b) => a.epoch - b.epoch),
        rule: ruleOf(v),
      })
    }
  }
  return {findings, warnings}
}
