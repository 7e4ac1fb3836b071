/**
 * The batch pipeline: walk → probe (pool) → narrow by time → chain and group → narrow by service → shard →
 * resume or analyse (pool) → lines. The command renders; this module decides.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {renderMarkdown} from '../report/markdown.js'
import type {Role} from '../report/report.js'
import {buildChains, connectChains, DEFAULT_CHAIN_GAP, DEFAULT_SLACK, planIncident, shardOfKey} from './group.js'
import type {IncidentTask} from './incident.js'
import {readManifest} from './manifest.js'
import {TaskPool} from './pool.js'
import type {BatchLine, Chain, FileProblem, IncidentFlags, IncidentLine, IncidentPlan, Probe, ProblemLine, WalkedCapture} from './types.js'
import {walkInputs} from './walk.js'

export const OUT_FORMATS = ['json', 'md'] as const
export type OutFormat = (typeof OUT_FORMATS)[number]

export interface BatchOptions {
  inputs: string[]
  manifest?: string
  since?: number
  until?: number
  /** "ip:port" as the probes write endpoints. */
  service?: string
  flags: IncidentFlags
  roles: Map<string, Role>
  offsets: Map<string, number>
  jobs: number
  /** 0-based. */
  shard?: {index: number; count: number}
  out?: string
  formats: OutFormat[]
  version: string
  chainGap?: number
  slack?: number
  onProgress?: (p: Progress) => void
  /** Each line as soon as it is known (incidents in the order they finish). */
  onLine?: (line: BatchLine) => void
}

export interface Progress {
  phase: 'probe' | 'analyze'
  done: number
  total: number
  bytesDone: number
  bytesTotal: number
}

export interface BatchResult {
  lines: BatchLine[]
  /** Some capture in the archive could be read (before time, service and shard narrowed the work). */
  readable: boolean
  analysed: number
  resumed: number
  skippedByFilter: number
}

const isProbe = (p: Probe | FileProblem): p is Probe => 'quickHash' in p

function problemLine(p: FileProblem): ProblemLine {
  return {schema: 'lvscope/batch-file@1', file: p.file, code: p.code, message: p.message, offset: p.offset}
}

/** What a resumed run compares: the inputs (size, mtime, first and last MiB), the configs and the flags. */
function fingerprint(plan: IncidentPlan, flags: IncidentFlags, version: string): string {
  const configs = plan.configs.map((c) => {
    try {
      const st = statSync(c)
      return [c, st.size, st.mtimeMs]
    } catch {
      return [c, -1, -1]
    }
  })
  const members = plan.chains.flatMap((c) => c.members.map((m) => [m.path, m.size, m.mtimeMs, m.quickHash]))
  return createHash('sha256').update(JSON.stringify({version, flags: {...flags, ...plan.flags}, roles: plan.roles, offsets: plan.offsets, configs, members})).digest('hex')
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

function writeReports(dir: string, line: IncidentLine, formats: readonly OutFormat[]): void {
  if (line.report === null) return
  for (const f of formats) {
    let text: string
    if (f === 'json') text = `${JSON.stringify(line.report, null, 2)}\n`
    else {
      text = renderMarkdown(line.report)
      if (line.foundConfigs.length > 0) text += `\nConfiguration found beside the captures and used for this incident: ${line.foundConfigs.map((c) => `\`${c.replace(/`/g, "'")}\``).join(', ')}\n`
    }
    writeAtomic(join(dir, `${line.incident}.${f}`), text)
  }
}

function resumable(dir: string, plan: IncidentPlan, fp: string, formats: readonly OutFormat[]): IncidentLine | null {
  const side = join(dir, `${plan.id}.batch.json`)
  if (!existsSync(side)) return null
  try {
    const saved = JSON.parse(readFileSync(side, 'utf8')) as {fingerprint: string; line: IncidentLine}
    if (saved.fingerprint !== fp || saved.line.report === null) return null
    if (!formats.every((f) => existsSync(join(dir, `${plan.id}.${f}`)))) return null
    return saved.line
  } catch {
    return null
  }
}

export async function runBatch(opts: BatchOptions): Promise<BatchResult> {
  const pool = new TaskPool(Math.max(1, opts.jobs))
  try {
    return await runWith(pool, opts)
  } finally {
    await pool.close()
  }
}

async function runWith(pool: TaskPool, opts: BatchOptions): Promise<BatchResult> {
  const exclude = opts.out !== undefined ? [opts.out] : []
  const manifest = opts.manifest !== undefined ? readManifest(opts.manifest) : null
  // ---- walk
  const walkArgs = manifest ? [...new Set(manifest.flatMap((m) => m.files))] : opts.inputs
  const walk = await walkInputs(walkArgs, {exclude})
  const problems: FileProblem[] = [...walk.problems]
  // ---- probe, in parallel
  const bytesTotal = walk.captures.reduce((n, c) => n + c.size, 0)
  let done = 0
  let bytesDone = 0
  const progress = (phase: Progress['phase'], total: number, bytes: number): void => opts.onProgress?.({phase, done, total, bytesDone, bytesTotal: bytes})
  progress('probe', walk.captures.length, bytesTotal)
  const probed = await Promise.all(
    walk.captures.map(async (c: WalkedCapture) => {
      const r = await pool.run<Probe | FileProblem>({kind: 'probe', file: c})
      done++
      bytesDone += c.size
      progress('probe', walk.captures.length, bytesTotal)
      return r
    }),
  )
  const probes: Probe[] = []
  for (const p of probed) {
    if (isProbe(p)) probes.push(p)
    else problems.push(p)
  }
  const readable = probes.length > 0
  // ---- narrow by time, before any file is decoded
  const inWindow = (p: Probe): boolean =>
    !(opts.since !== undefined && p.last !== null && p.last < opts.since) && !(opts.until !== undefined && p.first !== null && p.first > opts.until)
  const kept = probes.filter(inWindow)
  let skippedByFilter = probes.length - kept.length
  // ---- chains and incidents
  const g = {chainGap: opts.chainGap ?? DEFAULT_CHAIN_GAP, slack: opts.slack ?? DEFAULT_SLACK, roles: opts.roles}
  const given = opts.flags.config ?? []
  let plans: IncidentPlan[]
  if (manifest) {
    plans = []
    for (const m of manifest) {
      const mine = await walkInputs(m.files, {exclude})
      const paths = new Set(mine.captures.map((c) => c.path))
      const chains = buildChains(
        kept.filter((p) => paths.has(p.path)),
        g,
      )
      if (chains.length === 0) continue
      plans.push(planIncident({chains, name: m.name, flags: m.flags, configs: m.flags.config}, walk.configs, given, opts.roles, opts.offsets))
    }
  } else {
    plans = connectChains(buildChains(kept, g), g.slack).map((chains: Chain[]) => planIncident({chains}, walk.configs, given, opts.roles, opts.offsets))
  }
  // ---- narrow by service, still before decoding
  if (opts.service !== undefined) {
    const svc = opts.service
    const before = plans.length
    plans = plans.filter((p) => p.chains.some((c) => c.members.some((m) => m.services.includes(svc))))
    skippedByFilter += before - plans.length
  }
  // ---- this shard's share: incidents, and the problem files, by hash of their key
  const shard = opts.shard
  const mineKey = (key: string): boolean => shard === undefined || shardOfKey(key, shard.count) === shard.index
  plans = plans.filter((p) => mineKey(p.key))
  const lines: BatchLine[] = []
  const emit = (l: BatchLine): void => {
    lines.push(l)
    opts.onLine?.(l)
  }
  for (const p of problems) if (mineKey(p.file)) emit(problemLine(p))
  // ---- analyse (or resume)
  if (opts.out !== undefined) mkdirSync(opts.out, {recursive: true})
  const planBytes = (p: IncidentPlan): number => p.chains.reduce((n, c) => n + c.members.reduce((k, m) => k + m.size, 0), 0)
  const total = plans.length
  const totalBytes = plans.reduce((n, p) => n + planBytes(p), 0)
  done = 0
  bytesDone = 0
  progress('analyze', total, totalBytes)
  let resumed = 0
  // Biggest first: the pool ends sooner when the long incidents do not start last.
  const order = [...plans].sort((a, b) => planBytes(b) - planBytes(a) || a.key.localeCompare(b.key))
  const threads = opts.jobs > 1 ? 1 : undefined
  await Promise.all(
    order.map(async (plan) => {
      const fp = fingerprint(plan, opts.flags, opts.version)
      let line = opts.out !== undefined ? resumable(opts.out, plan, fp, opts.formats) : null
      if (line !== null) resumed++
      else {
        const task: IncidentTask = {plan, flags: opts.flags, threads, version: opts.version}
        line = await pool.run<IncidentLine>({kind: 'incident', task})
        if (opts.out !== undefined) {
          writeReports(opts.out, line, opts.formats)
          writeAtomic(join(opts.out, `${plan.id}.batch.json`), `${JSON.stringify({fingerprint: fp, line})}\n`)
        }
      }
      done++
      bytesDone += planBytes(plan)
      progress('analyze', total, totalBytes)
      emit(line)
    }),
  )
  return {lines, readable, analysed: plans.length - resumed, resumed, skippedByFilter}
}
