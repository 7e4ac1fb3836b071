/**
 * The analysis as one function: scan → correlate → topology → timeouts → diagnose → buildReport. Commands
 * (analyze, annotate) parse their flags into AnalyzeOptions and render what comes back.
 */
import {diagnoseIncident, type Incident} from '../diagnose/index.js'
import type {parseConfig} from '../ipvs/config/index.js'
import {kernelTraits} from '../ipvs/kernel.js'
import {resolveTimeouts} from '../ipvs/timeouts.js'
import {buildReport} from '../report/build.js'
import type {Report, Role} from '../report/report.js'
import {LvscopeError, UsageError} from '../util/errors.js'
import {correlate} from '../vantage/correlate/index.js'
import {scanCaptures, type CaptureScan} from '../vantage/scan.js'
import {buildTopology} from '../vantage/topology.js'

export interface AnalyzeOptions {
  roles: Map<string, Role>
  offsets: Map<string, number>
  timeoutFlags: {timeouts?: string; persistence?: number; persistenceMask?: string}
  configs: ReturnType<typeof parseConfig>[]
  keepalivedVersion?: string
  kernel: string
  threads?: number
  version: string
  /** Non-fatal problems (a skipped capture, reader damage, clock warnings), already human-readable, unescaped. */
  onWarning?: (message: string) => void
}

export interface Analysis {
  report: Report
  scans: CaptureScan[]
}

export async function analyzeCaptures(files: string[], opts: AnalyzeOptions): Promise<Analysis> {
  const warn = opts.onWarning ?? (() => {})
  // The correlation reads every capture again after the scan.
  if (files.includes('-')) throw new UsageError('analyze reads each capture twice (scan, then correlation): give files, not stdin')
  const scans: CaptureScan[] = []
  for (const r of await scanCaptures(files, opts.threads)) {
    if (!(r instanceof LvscopeError)) scans.push(r)
    else if (files.length === 1) throw r
    else warn(`${r.message} (skipped)`)
  }
  if (scans.length === 0) throw new LvscopeError('not-a-capture', 'no readable capture among the inputs')
  for (const s of scans) for (const w of s.summary.warnings) warn(`warning: ${w.message}`)
  // Roles and clocks come from matching the same packets across captures (flags override both).
  const corr = await correlate(scans.map((sc) => ({file: sc.file, role: opts.roles.get(sc.file), clockOffsetSeconds: opts.offsets.get(sc.file)})))
  for (const c of corr.captures) for (const w of c.warnings) if (w.code.startsWith('clock') || w.code.startsWith('no-')) warn(`warning: ${w.message}`)
  const placed = scans.map((sc) => corr.captures.find((c) => c.file === sc.file))
  const captures = scans.map((scan, i) => ({scan, role: placed[i]?.role ?? 'unknown', offset: placed[i]?.clockOffsetSeconds ?? 0}))
  const topology = buildTopology(captures)
  const {configs, keepalivedVersion, timeoutFlags} = opts
  const timeouts = resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion})
  const inc: Incident = {captures, topology, timeouts, persistenceKnown: timeouts.persistence !== null, kernel: kernelTraits(opts.kernel)}
  const diag = diagnoseIncident(inc, (observations) => resolveTimeouts({flags: timeoutFlags, configs, keepalivedVersion, observations}))
  const report = buildReport(
    inc,
    diag,
    placed.map((p, i) => ({
      file: scans[i].file,
      roleReason: p?.roleReason ?? '',
      clockOffsetUncertainty: p?.clockOffsetUncertainty ?? 0,
      clockDriftPpm: p?.clockDriftPpm ?? null,
      clockSource: p?.clockSource ?? 'none',
    })),
    {reference: corr.reference, flows: corr.flows},
    opts.version,
  )
  return {report, scans}
}
