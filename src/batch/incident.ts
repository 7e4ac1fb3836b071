/**
 * One incident's analysis, run in a pool worker: register its rotated series as chains, read its configs,
 * run analyzeCaptures with the run's flags (the manifest's win), and hash its files for the NDJSON line.
 */
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {readFile} from 'node:fs/promises'

import {registerChain} from '../capture/chain.js'
import {parseConfig} from '../ipvs/config/index.js'
import {analyzeCaptures} from '../pipeline/analyze.js'
import type {Report} from '../report/report.js'
import {LvscopeError} from '../util/errors.js'
import {isoOf} from './group.js'
import type {IncidentFlags, IncidentLine, IncidentPlan} from './types.js'

export interface IncidentTask {
  plan: IncidentPlan
  /** The command line's analyze flags; the plan's (manifest) flags override them. */
  flags: IncidentFlags
  threads?: number
  version: string
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path, {highWaterMark: 1024 * 1024})) h.update(chunk as Buffer)
  return h.digest('hex')
}

async function readConfigs(paths: readonly string[]) {
  return Promise.all(
    paths.map(async (p) => {
      let text: string
      try {
        text = await readFile(p, 'utf8')
      } catch (err) {
        throw new LvscopeError('io', `${p}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
      }
      return parseConfig(text, p)
    }),
  )
}

export async function runIncident(task: IncidentTask): Promise<IncidentLine> {
  const {plan} = task
  const flags: IncidentFlags = {...task.flags, ...plan.flags}
  for (const c of plan.chains) if (c.members.length > 1) registerChain(c.name, c.members.map((m) => m.path))
  let report: Report | null = null
  let error: string | null = null
  try {
    const configs = await readConfigs(plan.configs)
    const analysis = await analyzeCaptures(
      plan.chains.map((c) => c.name),
      {
        roles: new Map(Object.entries(plan.roles)),
        offsets: new Map(Object.entries(plan.offsets)),
        timeoutFlags: {timeouts: flags.timeouts, persistence: flags.persistence, persistenceMask: flags.persistenceMask},
        configs,
        keepalivedVersion: flags.keepalivedVersion,
        kernel: flags.kernel ?? '6.1',
        threads: task.threads,
        version: task.version,
      },
    )
    report = analysis.report
  } catch (e) {
    if (!(e instanceof LvscopeError)) throw e
    error = e.message
  }
  const files = []
  for (const c of plan.chains) {
    // Where each member's records sit in the chain's frame numbering (the report's evidence frames).
    let frame = 0
    for (const m of c.members) {
      const frames = {capture: c.name, first: frame + 1, last: frame + m.packets}
      frame += m.packets
      files.push({path: m.path, sha256: await sha256File(m.path), size: m.size, host: c.host, role: c.role, frames, warnings: m.warnings})
    }
  }
  const firsts = plan.chains.map((c) => c.first).filter((x): x is number => x !== null)
  const lasts = plan.chains.map((c) => c.last).filter((x): x is number => x !== null)
  return {
    schema: 'lvscope/batch-incident@1',
    incident: plan.id,
    name: plan.name,
    key: plan.key,
    hosts: new Set(plan.chains.map((c) => c.host)).size,
    first: isoOf(firsts.length ? Math.min(...firsts) : null),
    last: isoOf(lasts.length ? Math.max(...lasts) : null),
    files,
    configs: plan.configs,
    foundConfigs: plan.foundConfigs,
    error,
    report,
  }
}
