import type {Finding} from '../report/report.js'
import {failoverFindings, findFailovers} from './failovers.js'
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
  const findings = [
    ...failoverFindings(inc, failovers),
    ...resets.map((r) => r.finding),
    ...stallFindings(inc),
    ...rescheduleFindings(inc, failovers),
  ].sort((a, b) => a.epoch - b.epoch)
  const killedGaps = resets
    .filter((r) => r.killedGap !== null)
    .map((r) => ({
      gap: r.killedGap as number,
      where: `${r.finding.evidence[0]?.file}:${r.finding.evidence[0]?.frame}`,
      fin: r.finding.cause === 'ipvs-fin-timeout',
    }))
  return {findings, killedGaps}
}
