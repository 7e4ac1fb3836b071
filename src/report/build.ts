import type {Diagnosis, Incident} from '../diagnose/index.js'
import type {EffectiveTimeouts} from '../ipvs/timeouts.js'
import type {AnalysisWarning} from '../model/warning.js'
import type {CorrelationFlow, Finding, Report, ReportCapture, ReportTimeouts, ReportWarning} from './report.js'
import {wiresharkFilters} from './wireshark.js'

export interface CapturePlacement {
  file: string
  roleReason: string
  clockOffsetUncertainty: number
  clockDriftPpm: number | null
  clockSource: ReportCapture['clockSource']
}

/** Seconds to the µs: a bound is a difference of capture times, not worth 16 digits. */
function micro(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1e6) / 1e6
}

function timeoutsSection(t: EffectiveTimeouts): ReportTimeouts {
  const src = (k: keyof EffectiveTimeouts['source']): string => `${k}: ${t.source[k]}`
  const tcpBound = t.bounds?.tcp
  return {
    tcp: t.tcp,
    tcpfin: t.tcpfin,
    udp: t.udp,
    persistence: t.persistence,
    source: [src('tcp'), src('tcpfin'), src('udp'), ...(t.persistence === null ? [] : [src('persistence')])].join('; '),
    bounds: {tcp: tcpBound ? {survived: micro(tcpBound.min), killed: micro(tcpBound.max)} : null},
    contradictions: [...t.contradictions],
  }
}

function reportWarning(w: AnalysisWarning): ReportWarning {
  const r: ReportWarning = {code: w.code, message: w.message, capture: w.capture}
  if (w.decide !== undefined) r.decide = w.decide
  return r
}

/** The verdict a user reads first: what broke, how often, and the main cause. */
export function verdictOf(findings: Finding[], undecided = 0): string {
  const problems = findings.filter((f) => f.kind !== 'failover' || findings.length === 1)
  if (findings.length === 0 && undecided > 0)
    return `No resets, stalls, re-schedules or failovers found; ${undecided} question(s) the captures leave open (see the warnings).`
  if (findings.length === 0) return 'No resets, stalls, re-schedules or failovers found: the captures show healthy LVS forwarding.'
  const byCause = new Map<string, number>()
  // A grouped finding (diagnose/group.ts) counts as all its occurrences.
  for (const f of findings) byCause.set(f.cause, (byCause.get(f.cause) ?? 0) + (f.occurrences ?? 1))
  const top = [...byCause].sort((a, b) => b[1] - a[1])
  const kinds = new Map<string, number>()
  for (const f of findings) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + (f.occurrences ?? 1))
  const what = [...kinds].map(([k, n]) => `${n} ${k}${n > 1 ? 's' : ''}`).join(', ')
  const main = problems.find((f) => f.cause === top.find(([c]) => c !== 'vip-moved')?.[0]) ?? findings[0]
  return `${what}; main cause: ${main.cause} — ${main.summary}.`
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

export function buildReport(
  inc: Incident,
  diag: Diagnosis,
  placements: CapturePlacement[],
  correlation: {reference: string | null; flows: CorrelationFlow[]},
  version: string,
  warnings: readonly AnalysisWarning[] = [],
): Report {
  const captures: ReportCapture[] = inc.captures.map((c, i) => ({
    file: c.scan.file,
    role: c.role,
    roleReason: placements[i]?.roleReason ?? '',
    packets: c.scan.summary.packets,
    clockOffsetSeconds: c.offset,
    clockOffsetUncertainty: placements[i]?.clockOffsetUncertainty ?? 0,
    clockDriftPpm: placements[i]?.clockDriftPpm ?? null,
    clockSource: placements[i]?.clockSource ?? 'none',
    warnings: c.scan.summary.warnings.map((w) => ({code: w.code, message: w.message, offset: w.offset})),
  }))
  let drCopies = 0
  let span = 0
  const retransmitted = new Set<string>()
  let shown = 0
  let real = 0
  for (const c of inc.captures) {
    const a = c.scan.artifacts
    drCopies += a.drCopies
    span += a.spanDuplicates
    for (const k of a.retransmissionKeys) retransmitted.add(k)
    for (const k in a.wireshark) shown += a.wireshark[k]
    for (const k in a.genuine) real += a.genuine[k]
  }
  return {
    schema: 'lvscope/report@1',
    generatedBy: `lvscope ${version}`,
    captures,
    topology: inc.topology,
    timeouts: timeoutsSection(inc.timeouts),
    artifacts: {drCopies, spanDuplicates: span, genuineRetransmissions: retransmitted.size, wiresharkFlags: {total: shown, artifacts: shown - real}},
    // Stable order, whatever the order of the correlation's tables (which follows file names and hashing).
    correlation: {...correlation, flows: [...correlation.flows].sort((a, b) => cmp(a.service, b.service) || cmp(a.client, b.client))},
    findings: diag.findings.map((f) => ({...f, wireshark: f.wireshark ?? wiresharkFilters(f)})),
    verdict: verdictOf(diag.findings, warnings.filter((w) => w.code === 'reschedule-undecided').length),
    warnings: warnings.map(reportWarning),
  }
}
