import type {GapObservation} from '../ipvs/bounds.js'
import type {AnalysisWarning} from '../model/warning.js'
import type {Finding} from '../report/report.js'
import {failoverFindings, findFailovers} from './failovers.js'
import {groupRepeatedFindings} from './group.js'
import type {Incident} from './incident.js'
import {rescheduleFindings} from './reschedules.js'
import {resetFindings} from './resets.js'
import {stallFindings} from './stalls.js'

export type {Incident, IncidentCapture, IncidentModel} from './incident.js'

export interface Diagnosis {
  findings: Finding[]
  /**
   * What the captures prove about the real timeouts: the longest silence an entry survived, and each silence
   * that ended in an expiry reset. The pipeline refines the timeouts from them (a new value, not a mutation).
   */
  observations: GapObservation[]
  /** Questions the evidence leaves open (e.g. a move between servers on a service not known to be persistent). */
  warnings: AnalysisWarning[]
}

/** Every reset, stall, re-schedule and failover of the incident, explained, in time order. Pure. */
export function diagnose(inc: Incident): Diagnosis {
  const failovers = findFailovers(inc)
  const resets = resetFindings(inc, failovers)
  const reschedules = rescheduleFindings(inc, failovers)
  // The one place the findings list is final: a pattern repeated many times (health-check RSTs) becomes one finding.
  const findings = groupRepeatedFindings(
    [
      ...failoverFindings(inc, failovers),
      ...resets.map((r) => r.finding),
      ...stallFindings(inc, failovers),
      ...reschedules.findings,
    ].sort((a, b) => a.epoch - b.epoch),
  )
  const observations: GapObservation[] = []
  for (const c of inc.captures) {
    const s = c.scan.ledger.longestSurvived
    if (s) observations.push({gap: s.gap, state: 'ES', survived: true, where: `${c.scan.file}:${s.next.ref.frame}`})
  }
  for (const r of resets) if (r.observation !== null) observations.push(r.observation)
  return {findings, observations, warnings: reschedules.warnings}
}
