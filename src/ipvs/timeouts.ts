/**
 * The effective IPVS timeouts and where each comes from, in precedence order:
 * command-line flags → configuration files → kernel defaults, then checked against what the captures
 * prove (bounds.ts). keepalived's lvs_timeouts count only when keepalived really applied them:
 * ≤ 2.1.3 only with lvs_sync_daemon configured, always from 2.1.4 (ipvs-model.md §6.6).
 */
import {contradictions, fits, timeoutBounds, type BoundedField, type GapObservation, type TimeoutBound} from './bounds.js'
import type {ConfigFacts, ServiceFact} from './config/types.js'
import {atLeast, parseVersion} from './kernel.js'
import {DEFAULT_TCP_TIMEOUTS, DEFAULT_UDP_TIMEOUT, applySet, defaultStateTimeouts, type StateTimeouts} from './state.js'
import {UsageError} from '../util/errors.js'

export type TimeoutSource = 'flag' | `config:${string}` | 'default' | 'inferred'

export interface TimeoutFlags {
  /** --timeouts TCP,TCPFIN,UDP (0 = not given). */
  timeouts?: string
  /** --persistence S */
  persistence?: number
  /** --persistence-mask M */
  persistenceMask?: string
}

export interface ResolveOptions {
  flags?: TimeoutFlags
  configs?: readonly ConfigFacts[]
  /** --keepalived-version, e.g. "2.1.3"; unknown → both readings are reported. */
  keepalivedVersion?: string
  /** Idle gaps from the captures (survived / killed), for bounds and contradictions. */
  observations?: readonly GapObservation[]
}

export interface TimeoutAlternative {
  field: BoundedField
  value: number
  source: TimeoutSource
  /** When this reading holds, e.g. "keepalived <= 2.1.3 without lvs_sync_daemon". */
  condition: string
}

export interface ServicePersistence {
  proto: ServiceFact['proto']
  vip?: string
  port?: number
  fwmark?: number
  persistence: number
  mask: string
  source: TimeoutSource
}

export interface EffectiveTimeouts {
  tcp: number
  tcpfin: number
  udp: number
  /** Seconds; null = no persistent service known. */
  persistence: number | null
  persistenceMask: string
  source: {tcp: TimeoutSource; tcpfin: TimeoutSource; udp: TimeoutSource; persistence: TimeoutSource; persistenceMask: TimeoutSource}
  bounds?: Partial<Record<BoundedField, {min: number | null; max: number | null}>>
  contradictions: string[]
  notes: string[]
  /** Other values a field may have, with the condition under which they hold (e.g. unknown keepalived version). */
  alternatives: TimeoutAlternative[]
  /** Per persistent service, when the configuration names them. */
  services: ServicePersistence[]
}

/** "--timeouts 7200,120,300" → numbers (0 = leave as is). */
export function parseTimeoutsFlag(s: string): {tcp: number; tcpfin: number; udp: number} {
  const parts = s.split(',').map((x) => x.trim())
  const v = parts.map((x) => (x === '' ? 0 : Number(x)))
  if (parts.length !== 3 || v.some((x) => !Number.isInteger(x) || x < 0))
    throw new UsageError(`--timeouts expects TCP,TCPFIN,UDP in whole seconds (0 = keep), got "${s}"`)
  return {tcp: v[0], tcpfin: v[1], udp: v[2]}
}

interface Candidate {
  value: number
  source: TimeoutSource
  /** Undefined = certain; otherwise the condition under which it applies. */
  condition?: string
  /** Precedence: 0 flag, 1 kernel readback, 2 ipvsadm --set, 3 keepalived lvs_timeouts. */
  rank: number
}

const FIELDS: readonly BoundedField[] = ['tcp', 'tcpfin', 'udp']
const DEFAULTS: Readonly<Record<BoundedField, number>> = {tcp: DEFAULT_TCP_TIMEOUTS.ES, tcpfin: DEFAULT_TCP_TIMEOUTS.FW, udp: DEFAULT_UDP_TIMEOUT}

export function resolveTimeouts(opts: ResolveOptions = {}): EffectiveTimeouts {
  const notes: string[] = []
  const contra: string[] = []
  const alternatives: TimeoutAlternative[] = []
  const configs = opts.configs ?? []
  const kaVersion = opts.keepalivedVersion ? parseVersion(opts.keepalivedVersion) : undefined
  if (opts.keepalivedVersion && !kaVersion) notes.push(`--keepalived-version "${opts.keepalivedVersion}" is not a version; treated as unknown`)

  // Candidates per field, best first: flag (0), runtime readback (1), ipvsadm --set (2), keepalived (3).
  const cands: Record<BoundedField, Candidate[]> = {tcp: [], tcpfin: [], udp: []}
  if (opts.flags?.timeouts) {
    const t = parseTimeoutsFlag(opts.flags.timeouts)
    for (const k of FIELDS) if (t[k] > 0) cands[k].push({value: t[k], source: 'flag', rank: 0})
  }
  for (const f of configs) {
    const keepalived = f.kinds.includes('keepalived')
    for (const t of f.timeouts) {
      const src: TimeoutSource = `config:${t.source.file}:${t.source.line}`
      let condition: string | undefined
      if (keepalived) {
        const sync = f.syncDaemons.length > 0
        if (kaVersion && !atLeast(kaVersion, 1, 2, 24)) {
          notes.push(`${src}: keepalived ${opts.keepalivedVersion} predates lvs_timeouts (added in 1.2.24/1.3.0); ignored`)
          continue
        }
        if (kaVersion && !atLeast(kaVersion, 2, 1, 4) && !sync) {
          notes.push(`${src}: lvs_timeouts NOT applied: keepalived ${opts.keepalivedVersion} (≤ 2.1.3) sets them only when lvs_sync_daemon is configured, and this file has none`)
          continue
        }
        if (!kaVersion && !sync) {
          condition = 'keepalived >= 2.1.4 (on <= 2.1.3 lvs_timeouts are applied only with lvs_sync_daemon, which is not configured)'
          notes.push(`${src}: keepalived version unknown and no lvs_sync_daemon: lvs_timeouts apply on keepalived ≥ 2.1.4, NOT on ≤ 2.1.3 — pass --keepalived-version to decide`)
        }
        if (kaVersion && atLeast(kaVersion, 2, 1, 4)) notes.push(`${src}: keepalived ≥ 2.1.4 restores the previous kernel timeouts when its checker exits`)
      }
      const rank = t.kind === 'runtime' ? 1 : keepalived ? 3 : 2
      for (const k of FIELDS) if (t[k] > 0) cands[k].push({value: t[k], source: src, condition, rank})
    }
  }

  const obs = opts.observations ?? []
  const bounds = obs.length > 0 ? timeoutBounds(obs) : {}
  const chosen = {} as Record<BoundedField, number>
  const source = {} as Record<BoundedField, TimeoutSource>
  for (const k of FIELDS) {
    const list = [...cands[k]].sort((a, b) => a.rank - b.rank)
    const top = list[0]
    // Sources that disagree are worth a line: e.g. keepalived.conf says 7200 but the kernel reports 900.
    for (const c of list.slice(1)) {
      if (c.value !== top.value)
        contra.push(`${k}: ${c.source} gives ${c.value} s but ${top.source} gives ${top.value} s${top.rank === 1 && c.rank === 3 ? ' (keepalived did not apply lvs_timeouts, or the kernel was changed after)' : ''}`)
    }
    let value = top ? top.value : DEFAULTS[k]
    let src: TimeoutSource = top ? top.source : 'default'
    if (top?.condition) {
      // Unknown keepalived version: both readings stand unless the captures rule one out.
      const other = list.find((c) => c !== top && !c.condition)
      const fallback = other ? {value: other.value, source: other.source} : {value: DEFAULTS[k], source: 'default' as TimeoutSource}
      const b = bounds[k]
      if (b && !fits(value, b) && fits(fallback.value, b)) {
        notes.push(`${k}: the captures fit ${fallback.value} s, not ${value} s: keepalived did not apply lvs_timeouts (≤ 2.1.3 without lvs_sync_daemon)`)
        alternatives.push({field: k, value, source: src, condition: top.condition})
        value = fallback.value
        src = fallback.source
      } else {
        alternatives.push({field: k, value: fallback.value, source: fallback.source, condition: 'keepalived <= 2.1.3 without lvs_sync_daemon'})
      }
    }
    if (!top && bounds[k] && !fits(value, bounds[k])) {
      const b = bounds[k] as TimeoutBound
      const inferred = b.max ?? b.min
      if (inferred !== null && b.consistent) {
        notes.push(`${k}: no configuration given and the kernel default ${value} s does not fit the captures; using ${inferred} s (${b.max !== null ? 'shortest gap that killed an entry: an upper bound' : 'longest gap an entry survived: a lower bound'})`)
        alternatives.push({field: k, value, source: 'default', condition: 'the captures are misread'})
        value = inferred
        src = 'inferred'
      }
    }
    if (src !== 'inferred') contra.push(...contradictions(k, value, src, bounds[k]))
    chosen[k] = value
    source[k] = src
  }

  // Table rows that outlive the configured state timeout contradict it (the row shows remaining time).
  for (const f of configs) {
    for (const r of f.conns) {
      if (r.template) continue
      const lim = r.state === 'ES' ? chosen.tcp : r.state === 'FW' ? chosen.tcpfin : r.state === 'UDP' ? chosen.udp : undefined
      if (lim !== undefined && r.expires > lim)
        contra.push(`${r.source.file}:${r.source.line}: ${r.stateName} entry with ${r.expires} s left exceeds the ${r.state === 'ES' ? 'tcp' : r.state === 'FW' ? 'tcpfin' : 'udp'} timeout ${lim} s`)
    }
  }

  // Persistence: flag, else services in the configuration.
  const services: ServicePersistence[] = []
  for (const f of configs) {
    for (const s of f.services) {
      if (s.persistence === undefined) {
        if (s.persistenceJiffies !== undefined) notes.push(`${s.source.file}:${s.source.line}: persistence ${s.persistenceJiffies} jiffies (HZ unknown: 100 → ${s.persistenceJiffies / 100} s, 250 → ${s.persistenceJiffies / 250} s, 1000 → ${s.persistenceJiffies / 1000} s)`)
        continue
      }
      const src: TimeoutSource = `config:${s.source.file}:${s.source.line}`
      if (s.persistenceFrom === 'default') notes.push(`${src}: persistence given without a value → ${s.persistence} s (IPVS_SVC_PERSISTENT_TIMEOUT; the ipvsadm man page's 300 is wrong)`)
      const sp: ServicePersistence = {proto: s.proto, persistence: s.persistence, mask: s.persistenceMask ?? '255.255.255.255', source: src}
      if (s.vip !== undefined) sp.vip = s.vip
      if (s.port !== undefined) sp.port = s.port
      if (s.fwmark !== undefined) sp.fwmark = s.fwmark
      services.push(sp)
    }
  }
  let persistence: number | null = null
  let pSrc: TimeoutSource = 'default'
  let mask = '255.255.255.255'
  let mSrc: TimeoutSource = 'default'
  if (opts.flags?.persistence !== undefined) {
    persistence = opts.flags.persistence
    pSrc = 'flag'
  } else if (services.length > 0) {
    persistence = services[0].persistence
    pSrc = services[0].source
    if (services.some((s) => s.persistence !== persistence)) notes.push(`persistent services differ (${[...new Set(services.map((s) => s.persistence))].join(', ')} s); see services[] per VIP`)
  }
  if (opts.flags?.persistenceMask !== undefined) {
    mask = opts.flags.persistenceMask
    mSrc = 'flag'
  } else {
    const withMask = services.find((s) => s.mask !== '255.255.255.255')
    if (withMask) {
      mask = withMask.mask
      mSrc = withMask.source
    }
  }

  const out: EffectiveTimeouts = {
    tcp: chosen.tcp,
    tcpfin: chosen.tcpfin,
    udp: chosen.udp,
    persistence,
    persistenceMask: mask,
    source: {tcp: source.tcp, tcpfin: source.tcpfin, udp: source.udp, persistence: pSrc, persistenceMask: mSrc},
    contradictions: contra,
    notes,
    alternatives,
    services,
  }
  const bkeys = Object.keys(bounds) as BoundedField[]
  if (bkeys.length > 0) {
    out.bounds = {}
    for (const k of bkeys) {
      const b = bounds[k] as TimeoutBound
      out.bounds[k] = {min: b.min, max: b.max}
    }
  }
  return out
}

/** The per-state timeout table the entry model should use under these effective timeouts. */
export function stateTimeoutsOf(eff: Pick<EffectiveTimeouts, 'tcp' | 'tcpfin' | 'udp'>): StateTimeouts {
  return applySet(defaultStateTimeouts(), {tcp: eff.tcp, tcpfin: eff.tcpfin, udp: eff.udp})
}
