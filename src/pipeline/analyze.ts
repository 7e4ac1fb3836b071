/**
 * `analyze` as one typed pipeline, each stage a function of the previous stage's value:
 *
 *   scan(captures) → correlate(scans) → place → model(replay) → diagnose → refine timeouts → Report
 *
 * Commands call `analyzeCaptures` and pick a renderer; tests call the same function.
 */
import {diagnose, type Incident} from '../diagnose/index.js'
import type {parseConfig} from '../ipvs/config/index.js'
import {kernelTraits} from '../ipvs/kernel.js'
import {resolveTimeouts, type EffectiveTimeouts, type ResolveOptions} from '../ipvs/timeouts.js'
import type {AnalysisWarning} from '../model/warning.js'
import {buildReport} from '../report/build.js'
import type {Report, Role} from '../report/report.js'
import {LvscopeError, UsageError} from '../util/errors.js'
import {correlate} from '../vantage/correlate/index.js'
import type {CorrelationResult} from '../vantage/correlate/types.js'
import {scanCaptures, type CaptureScan} from '../vantage/scan.js'
import {buildTopology} from '../vantage/topology.js'
import {replayIncident} from './replay.js'
import {capWarnings, timeoutWarnings} from './warnings.js'
import {addTimelineEvents} from '../report/events.js'

export interface AnalyzeOptions {
  roles: Map<string, Role> // --director/--real-server/--client
  offsets: Map<string, number> // --clock-offset FILE=SECONDS
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

/** Stage 1: every capture scanned; unreadable ones skipped with a warning when others remain. */
async function scanStage(files: string[], opts: AnalyzeOptions, warnings: AnalysisWarning[]): Promise<CaptureScan[]> {
  // The correlation reads every capture again after the scan.
  if (files.includes('-')) throw new UsageError('analyze reads each capture twice (scan, then correlation): give files, not stdin')
  const scans: CaptureScan[] = []
  for (const r of await scanCaptures(files, opts.threads)) {
    if (!(r instanceof LvscopeError)) scans.push(r)
    else if (files.length === 1) throw r
    else {
      opts.onWarning?.(`${r.message} (skipped)`)
      warnings.push({code: 'capture-skipped', message: `${r.message} (skipped)`, capture: null})
    }
  }
  if (scans.length === 0) throw new LvscopeError('not-a-capture', 'no readable capture among the inputs')
  for (const s of scans) for (const w of s.summary.warnings) opts.onWarning?.(w.message)
  return scans
}

/** Stage 2: roles and clocks from matching the same packets across captures (flags override both). */
async function correlateStage(scans: CaptureScan[], opts: AnalyzeOptions): Promise<CorrelationResult> {
  const corr = await correlate(scans.map((sc) => ({file: sc.file, role: opts.roles.get(sc.file), clockOffsetSeconds: opts.offsets.get(sc.file)})))
  for (const c of corr.captures) for (const w of c.warnings) if (w.code.startsWith('clock') || w.code.startsWith('no-')) opts.onWarning?.(w.message)
  return corr
}

/**
 * The timeout refinement: what the captures prove about the real timeouts (the longest silence an entry
 * survived, the silences that ended in an expiry reset) gives a new EffectiveTimeouts; the caller re-diagnoses
 * with it when a timer changed.
 */
export function refineTimeouts(base: ResolveOptions, observations: ResolveOptions['observations']): EffectiveTimeouts {
  return resolveTimeouts({...base, observations})
}

export async function analyzeCaptures(files: string[], opts: AnalyzeOptions): Promise<Analysis> {
  const warnings: AnalysisWarning[] = []
  const scans = await scanStage(files, opts, warnings)
  const corr = await correlateStage(scans, opts)
  // Placement: each scan with its role and clock (the correlation's captures are in the scans' order).
  const captures = scans.map((scan, i) => {
    const p = corr.captures[i]
    return {scan, role: p?.role ?? 'unknown', offset: p?.clockOffsetSeconds ?? 0, macs: p?.macs ?? []}
  })
  const topology = buildTopology(captures)
  const resolve: ResolveOptions = {flags: opts.timeoutFlags, configs: opts.configs, keepalivedVersion: opts.keepalivedVersion}
  const configured = resolveTimeouts(resolve)
  const kernel = kernelTraits(opts.kernel)
  const placed = {captures, topology, persistenceKnown: configured.persistence !== null, kernel}

  // Model: the client packets each director forwarded (and did not), replayed through the IPVS model.
  const first: Incident = {...placed, timeouts: configured, model: replayIncident(placed, configured)}
  let diag = diagnose(first)
  let timeouts = configured
  let inc = first
  if (diag.observations.length > 0) {
    timeouts = refineTimeouts(resolve, diag.observations)
    if (timeouts.tcp !== configured.tcp || timeouts.tcpfin !== configured.tcpfin) {
      inc = {...placed, timeouts, model: replayIncident(placed, timeouts)}
      diag = diagnose(inc)
    } else inc = {...first, timeouts}
  }
  warnings.push(...capWarnings(scans), ...timeoutWarnings(timeouts), ...diag.warnings)
  for (const w of warnings) if (w.code !== 'capture-skipped') opts.onWarning?.(w.decide ? `${w.message} (${w.decide})` : w.message)

  const report = buildReport(
    inc,
    diag,
    corr.captures.map((p, i) => ({
      file: scans[i].file,
      roleReason: p?.roleReason ?? '',
      clockOffsetUncertainty: p?.clockOffsetUncertainty ?? 0,
      clockDriftPpm: p?.clockDriftPpm ?? null,
      clockSource: p?.clockSource ?? 'none',
    })),
    {reference: corr.reference, flows: corr.flows},
    opts.version,
    warnings,
  )
  // Findings the diagnosis gave no structured timeline get one from their evidence frames, read again by number.
  return {report: await addTimelineEvents(report), scans}
}
