import type {GapObservation} from '../ipvs/bounds.js'
import type {EffectiveTimeouts} from '../ipvs/timeouts.js'
import type {Finding} from '../report/report.js'
import {failoverFindings, findFailovers} from './failovers.js'
import {groupRepeatedFindings} from './group.js'
import type {Incident} from './incident.js'
import {rescheduleFindings} from './reschedules.js'
import {resetFindings} from './resets.js'
import {stallFindings} from './stalls.js'

export type {Incident, IncidentCapture} from './incident.js'

export interface Diagnosis {
  findings: Finding[]
  /** Idle gaps that ended in an idle-expiry reset (seconds), with where: they bound the real timeout. */
  killedGaps: {gap: number; where: string; fin: boolean}[]
}

/** Every reset, stall, re-schedule and failover of the incident, explained, in time order. */
export function diagnose(inc: Incident): Diagnosis {
  const failovers = findFailovers(inc)
  const resets = resetFindings(inc, failovers)
  const findings = groupRepeatedFindings(
    [
      ...failoverFindings(inc, failovers),
      ...resets.map((r) => r.finding),
      ...stallFindings(inc),
      ...rescheduleFindings(inc, failovers),
    ].sort((a, b) => a.epoch - b.epoch),
  )
  const killedGaps = resets
    .filter((r) => r.killedGap !== null)
    .map((r) => ({
      gap: r.killedGap as number,
      where: `${r.finding.evidence[0]?.file}:${r.finding.evidence[0]?.frame}`,
      fin: r.finding.cause === 'ipvs-fin-timeout',
    }))
  return {findings, killedGaps}
}

/**
 * Diagnose, then let what the captures prove about the real timeouts — the longest silence an entry survived,
 * the silences that ended in an idle-expiry reset — refine them (`retime`), and diagnose again if they changed.
 */
export function diagnoseIncident(inc: Incident, retime: (observations: GapObservation[]) => EffectiveTimeouts): Diagnosis {
  const first = diagnose(inc)
  const observations: GapObservation[] = []
  for (const c of inc.captures) {
    const s = c.scan.ledger.longestSurvived
    if (s) observations.push({gap: s.gap, state: 'ES', survived: true, where: `${c.scan.file}:${s.next.ref.frame}`})
  }
  for (const k of first.killedGaps) observations.push({gap: k.gap, state: k.fin ? 'FW' : 'ES', survived: false, where: k.where})
  if (observations.length === 0) return first
  const before = inc.timeouts
  inc.timeouts = retime(observations)
  return inc.timeouts.tcp === before.tcp && inc.timeouts.tcpfin === before.tcpfin ? first : diagnose(inc)
}
