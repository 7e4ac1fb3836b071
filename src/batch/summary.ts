/**
 * Everything printed at the end of a run comes from its NDJSON lines alone, so `batch merge` of the shards'
 * lines prints the same summary, CSV and exit code as one unsharded run.
 */
import Table from 'cli-table3'

import type {Finding} from '../report/report.js'
import {EXIT} from '../util/errors.js'
import {escapeTerminal} from '../util/escape.js'
import type {BatchLine, IncidentLine, ProblemLine} from './types.js'

export const FAIL_ON = ['warning', 'error', 'never'] as const
export type FailOn = (typeof FAIL_ON)[number]

/**
 * A finding's level: every finding is a warning (a connection broke or stalled); one the evidence proves
 * (high confidence) is an error.
 */
export function levelOf(f: Finding): 'warning' | 'error' {
  return f.confidence === 'high' ? 'error' : 'warning'
}

const CONFIDENCE = {high: 0, medium: 1, low: 2}
const KIND = {reset: 0, stall: 1, reschedule: 2, failover: 3}

/** The finding a reader should look at first: the most certain, then resets before stalls …, then the earliest. */
export function worstFinding(findings: readonly Finding[]): Finding | null {
  let best: Finding | null = null
  for (const f of findings) {
    if (
      best === null ||
      CONFIDENCE[f.confidence] < CONFIDENCE[best.confidence] ||
      (f.confidence === best.confidence && (KIND[f.kind] < KIND[best.kind] || (f.kind === best.kind && f.epoch < best.epoch)))
    )
      best = f
  }
  return best
}

export function byCause(findings: readonly Finding[]): string {
  const m = new Map<string, number>()
  for (const f of findings) m.set(f.cause, (m.get(f.cause) ?? 0) + 1)
  return [...m]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c, n]) => `${c} ×${n}`)
    .join(', ')
}

export const isIncident = (l: BatchLine): l is IncidentLine => l.schema === 'lvscope/batch-incident@1'
export const isProblem = (l: BatchLine): l is ProblemLine => l.schema === 'lvscope/batch-file@1'

/** Lines in a stable order: incidents by start then key, problems by file. */
export function sortLines(lines: readonly BatchLine[]): BatchLine[] {
  const inc = lines.filter(isIncident).sort((a, b) => (a.first ?? '').localeCompare(b.first ?? '') || a.key.localeCompare(b.key))
  const bad = lines.filter(isProblem).sort((a, b) => a.file.localeCompare(b.file))
  return [...inc, ...bad]
}

export interface Row {
  incident: string
  name: string
  hosts: number
  files: number
  first: string
  last: string
  findings: number
  byCause: string
  worstCause: string
  worst: string
  error: string
}

export function rowOf(l: IncidentLine): Row {
  const findings = l.report?.findings ?? []
  const w = worstFinding(findings)
  return {
    incident: l.incident,
    name: l.name,
    hosts: l.hosts,
    files: l.files.length,
    first: l.first ?? '',
    last: l.last ?? '',
    findings: findings.length,
    byCause: byCause(findings),
    worstCause: w?.cause ?? '',
    worst: w === null ? '' : `${w.confidence} ${w.kind}: ${w.summary}`,
    error: l.error ?? '',
  }
}

/** 0 no findings; 1 a finding at or above --fail-on; 2 nothing readable. */
export function exitCodeOf(lines: readonly BatchLine[], failOn: FailOn, readable: boolean): number {
  if (!readable) return EXIT.usage
  if (failOn === 'never') return EXIT.ok
  for (const l of lines) {
    if (!isIncident(l)) continue
    for (const f of l.report?.findings ?? []) if (failOn === 'warning' || levelOf(f) === 'error') return 1
  }
  return EXIT.ok
}

/** "a" → a; fields with separators, quotes or line breaks quoted; a leading = + - @ neutralised for spreadsheets. */
function csvCell(v: string | number): string {
  let s = String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const CSV_COLUMNS: (keyof Row)[] = ['incident', 'name', 'hosts', 'files', 'first', 'last', 'findings', 'byCause', 'worstCause', 'worst', 'error']

export function renderCsv(lines: readonly BatchLine[]): string {
  const rows = sortLines(lines).filter(isIncident).map(rowOf)
  const out = [CSV_COLUMNS.join(',')]
  for (const r of rows) out.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))
  return `${out.join('\r\n')}\r\n`
}

const span = (r: Row): string => (r.first === '' ? '' : `${r.first}\n${r.last}`)

/** The table printed at the end: one row per incident, then the files that could not be used or are damaged. */
export function renderSummary(lines: readonly BatchLine[]): string {
  const sorted = sortLines(lines)
  const incidents = sorted.filter(isIncident)
  const e = escapeTerminal
  const style = {head: [], border: []}
  const t = new Table({head: ['incident', 'hosts / files', 'time span (UTC)', 'findings by cause', 'worst finding'], wordWrap: true, wrapOnWordBoundary: false, colWidths: [30, 9, 26, 28, 50], style})
  for (const l of incidents) {
    const r = rowOf(l)
    t.push([
      `${r.incident}\n${e(r.name)}`,
      `${r.hosts} / ${r.files}`,
      span(r),
      r.error ? e(`error: ${r.error}`) : e(r.byCause || 'none'),
      e(r.worst || (r.error ? '' : '—')),
    ])
  }
  const parts = [`${incidents.length} incident(s)`, t.toString()]
  const damaged = incidents.flatMap((l) => l.files.flatMap((f) => f.warnings.map((w) => ({file: f.path, code: w.code, message: w.message, offset: w.offset}))))
  const problems = sorted.filter(isProblem)
  // Files that are simply something else (notes, logs) are counted, not tabulated: they are not damage.
  const others = problems.filter((p) => p.code === 'not-a-capture' && /not a pcap or pcapng capture \(starts with/.test(p.message))
  const bad = [...problems.filter((p) => !others.includes(p)).map((p) => ({file: p.file, code: p.code, message: p.message, offset: p.offset})), ...damaged]
  if (others.length > 0) {
    const names = others.slice(0, 8).map((p) => e(p.file))
    parts.push(`${others.length} file(s) are neither captures nor configuration, skipped: ${names.join(', ')}${others.length > names.length ? ', …' : ''}`)
  }
  if (bad.length > 0) {
    // One line each, the whole path kept: these are what a user greps for and fixes.
    parts.push(`${bad.length} file problem(s): unreadable files are skipped, damaged captures are used up to the damage`)
    for (const p of bad.sort((x, y) => x.file.localeCompare(y.file))) {
      const at = p.offset === null || p.offset < 0 ? '' : ` at byte ${p.offset}`
      parts.push(`  ${e(p.code)}${at}: ${e(p.message)}`)
    }
  }
  const found = incidents.filter((l) => l.foundConfigs.length > 0)
  for (const l of found) parts.push(e(`${l.incident}: used configuration found beside the captures: ${l.foundConfigs.join(', ')}`))
  return `${parts.join('\n')}\n`
}
