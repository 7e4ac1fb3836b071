/**
 * From probes to incidents: each host's rotated files are chained in time order, and chains are grouped into
 * incidents by overlapping time spans and shared TCP connections (director ↔ real server ↔ client), or by a
 * manifest. Pure functions of the probes, so every shard of a run plans the same incidents.
 */
import {createHash} from 'node:crypto'
import {basename, dirname} from 'node:path'

import type {Role} from '../report/report.js'
import type {Chain, IncidentFlags, IncidentPlan, Probe, WalkedConfig} from './types.js'

export interface GroupOptions {
  /** Longest silence between two rotated files of one host that still chains them (seconds). */
  chainGap: number
  /** Clock slack when comparing two hosts' time spans (seconds). */
  slack: number
  /** Roles given by flag, by file path. */
  roles: ReadonlyMap<string, Role>
}

export const DEFAULT_CHAIN_GAP = 3600
export const DEFAULT_SLACK = 30

/**
 * A host's name from a file's path: the directory and the file name without its capture extensions, rotation
 * counters and timestamps (runs of 3+ digits; tcpdump -C's digits after the extension), so `dir1-202612071200.pcap`
 * and `dir1-202612071300.pcap.gz` are one host and `rs1.pcap` and `rs2.pcap` are two.
 */
export function hostOf(path: string): string {
  let b = basename(path).replace(/\.gz$/i, '')
  b = b.replace(/(\.(pcapng|pcap|cap|dmp))\d+$/i, '$1')
  b = b.replace(/\d{3,}/g, '#')
  for (;;) {
    const next = b.replace(/(\.(pcapng|pcap|cap|dmp|gz)|[-_.#]+)$/i, '')
    if (next === b || next === '') break
    b = next
  }
  return `${dirname(path)}/${b}`
}

const ROLE_ORDER: Record<Role, number> = {director: 0, 'real-server': 1, client: 2, unknown: 3}

function roleOf(p: Probe, roles: ReadonlyMap<string, Role>): Role {
  return roles.get(p.path) ?? p.role
}

/** The chain's name for the analysis: the file itself, or a name for the registered series. */
export function chainName(members: readonly Probe[]): string {
  if (members.length === 1) return members[0].path
  return `${members[0].path} (+${members.length - 1} rotated)`
}

/** Chain each host's files in time order; overlapping files of one name are different hosts. */
export function buildChains(probes: readonly Probe[], opts: GroupOptions): Chain[] {
  const byStem = new Map<string, Probe[]>()
  for (const p of probes) {
    const k = hostOf(p.path)
    byStem.set(k, [...(byStem.get(k) ?? []), p])
  }
  const chains: Chain[] = []
  for (const [stem, files] of byStem) {
    // One name may hold several hosts' files: split them by role when the roles disagree.
    const known = new Set(files.map((p) => roleOf(p, opts.roles)).filter((r) => r !== 'unknown'))
    const groups = new Map<string, {role: Role; files: Probe[]}>()
    for (const p of files) {
      const r = roleOf(p, opts.roles)
      const role: Role = known.size === 1 ? [...known][0] : r
      const host = known.size <= 1 ? stem : `${stem} [${role}]`
      const g = groups.get(host) ?? {role, files: []}
      g.files.push(p)
      groups.set(host, g)
    }
    for (const [host, g] of groups) {
      const sorted = [...g.files].sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || a.path.localeCompare(b.path))
      const open: Probe[][] = []
      for (const p of sorted) {
        // Join the series that ended last before this file began, if the silence between is short enough.
        let best: Probe[] | null = null
        for (const c of open) {
          const last = c[c.length - 1].last
          if (last === null || p.first === null || p.first < last || p.first - last > opts.chainGap) continue
          if (best === null || (best[best.length - 1].last ?? 0) < last) best = c
        }
        if (best !== null) best.push(p)
        else open.push([p])
      }
      for (const members of open) {
        const firsts = members.map((m) => m.first).filter((x): x is number => x !== null)
        const lasts = members.map((m) => m.last).filter((x): x is number => x !== null)
        chains.push({
          name: chainName(members),
          host,
          role: g.role,
          members,
          first: firsts.length ? Math.min(...firsts) : null,
          last: lasts.length ? Math.max(...lasts) : null,
        })
      }
    }
  }
  return chains.sort((a, b) => (a.first ?? Infinity) - (b.first ?? Infinity) || a.name.localeCompare(b.name))
}

function overlaps(a: Chain, b: Chain, slack: number): boolean {
  if (a.first === null || a.last === null || b.first === null || b.last === null) return false
  return a.first <= b.last + slack && b.first <= a.last + slack
}

/** Chains into connected groups: overlapping in time and sharing a TCP connection. */
export function connectChains(chains: readonly Chain[], slack: number): Chain[][] {
  const parent = chains.map((_, i) => i)
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])))
  const flows = chains.map((c) => new Set(c.members.flatMap((m) => m.flows)))
  for (let i = 0; i < chains.length; i++) {
    for (let j = i + 1; j < chains.length; j++) {
      if (!overlaps(chains[i], chains[j], slack)) continue
      const [small, big] = flows[i].size <= flows[j].size ? [flows[i], flows[j]] : [flows[j], flows[i]]
      let shared = false
      for (const f of small) if (big.has(f)) shared = true
      if (shared) parent[find(i)] = find(j)
    }
  }
  const groups = new Map<number, Chain[]>()
  chains.forEach((c, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), c]))
  return [...groups.values()]
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex')

function commonDir(paths: readonly string[]): string {
  const parts = paths.map((p) => dirname(p).split('/'))
  const out: string[] = []
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++) out.push(parts[0][i])
  return out.join('/') || '.'
}

export const isoOf = (t: number | null): string | null => (t === null ? null : new Date(Math.floor(t * 1000)).toISOString())

export interface PlanInput {
  chains: Chain[]
  /** Manifest incidents carry their name and flags. */
  name?: string
  flags?: IncidentFlags
  configs?: string[]
}

/** An incident's plan: its key, id, name and the configs that apply (given ones, those beside its hosts' files). */
export function planIncident(inp: PlanInput, found: readonly WalkedConfig[], given: readonly string[], roles: ReadonlyMap<string, Role>, offsets: ReadonlyMap<string, number>): IncidentPlan {
  const chains = [...inp.chains].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name))
  const paths = chains.flatMap((c) => c.members.map((m) => m.path))
  const key = inp.name !== undefined ? `manifest:${inp.name}` : [...paths].sort().join('\n')
  const dirs = new Set(paths.map((p) => dirname(p)))
  const beside = found.filter((c) => dirs.has(dirname(c.path))).map((c) => c.path)
  const firsts = chains.map((c) => c.first).filter((x): x is number => x !== null)
  const first = firsts.length ? Math.min(...firsts) : null
  const chainRoles: Record<string, Role> = {}
  const chainOffsets: Record<string, number> = {}
  for (const c of chains) {
    for (const m of c.members) {
      const r = roles.get(m.path)
      if (r !== undefined) chainRoles[c.name] = r
      const o = offsets.get(m.path)
      if (o !== undefined) chainOffsets[c.name] = o
    }
  }
  return {
    key,
    id: sha(key).slice(0, 12),
    name: inp.name ?? `${commonDir(paths)} ${isoOf(first) ?? ''}`.trim(),
    chains,
    configs: [...new Set([...given, ...(inp.configs ?? []), ...beside])],
    foundConfigs: beside,
    flags: inp.flags ?? {},
    roles: chainRoles,
    offsets: chainOffsets,
  }
}

/** Which of N shards (0-based) a key belongs to: the first 32 bits of its SHA-256. */
export function shardOfKey(key: string, count: number): number {
  return Number.parseInt(sha(key).slice(0, 8), 16) % count
}
