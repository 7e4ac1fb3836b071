/**
 * Connection synchronisation and failover (M7, ipvs-model.md §6): which sync records the master sends
 * for an entry, what the backup then holds, and whether a flow survives a failover at t_f.
 */
import type {ConnTimeline, EntryLife} from './conn.js'
import {TEMPLATE_RECHECK, defaultStateTimeouts, timeoutFor, type EntryState, type StateTimeouts} from './state.js'
import type {TemplateLife} from './template.js'

export interface SyncOptions {
  /** A master sync daemon runs (keepalived `lvs_sync_daemon`); without one nothing is synced. Default true. */
  syncDaemon?: boolean
  /** net.ipv4.vs.sync_threshold, default "3 50". */
  threshold?: number
  period?: number
  /** Master's timeouts (the record carries the master's state timeout). */
  masterTimeouts?: StateTimeouts
  /** Send→receive delay; the kernel buffers up to ~2 s (IPVS_SYNC_FLUSH_TIME). Default 0. */
  deliveryDelay?: number
  /** sync_persist_mode=1: connections under persistence are not synced, only templates. */
  persistMode?: boolean
  /** The entry is controlled by a persistence template. */
  controlled?: boolean
  proto?: 'tcp' | 'udp'
}

export interface SyncRecord {
  /** Time of the packet that triggered the record (master clock). */
  sentAt: number
  receivedAt: number
  state: EntryState
  /** The master's state timeout carried in the record. */
  timeout: number
  /** receivedAt + timeout: the backup has no traffic to refresh it. */
  backupExpiresAt: number
  /** in_pkts count at that packet (1 = the SYN). */
  inPkts: number
  why: 'state-change' | 'threshold'
}

/** States a TCP entry is synced in (`ip_vs_sync_conn_needed`). */
export const SYNC_STATES: ReadonlySet<EntryState> = new Set<EntryState>(['ES', 'FW', 'CL', 'CW', 'TW', 'UDP'])

/**
 * Decide one packet: state after it, the state last synced (old_state, updated only when a record is
 * sent), and the in_pkts count. Returns the reason, or undefined when no record is sent.
 */
export function syncNeeded(
  state: EntryState,
  lastSyncedState: EntryState,
  inPkts: number,
  threshold = 3,
  period = 50,
): 'state-change' | 'threshold' | undefined {
  if (!SYNC_STATES.has(state)) return undefined
  if (state !== 'UDP' && state !== lastSyncedState && state !== 'ES') return 'state-change'
  const hit = period > 0 ? inPkts % period === threshold : inPkts === threshold
  return hit ? 'threshold' : undefined
}

/** The sync records the master sends for one entry life of a ConnTimeline. */
export function syncRecords(tl: ConnTimeline, life: EntryLife, opts: SyncOptions = {}): SyncRecord[] {
  if (opts.syncDaemon === false) return []
  if (opts.persistMode && opts.controlled) return []
  const tm = opts.masterTimeouts ?? defaultStateTimeouts()
  const delay = opts.deliveryDelay ?? 0
  const out: SyncRecord[] = []
  let pkts = 0
  let synced: EntryState = 'NONE'
  for (let i = life.firstPacket; i <= life.lastForwarded; i++) {
    const p = tl.packet(i)
    if (p.life !== life.index || !p.forwarded || p.dir !== 'in' || p.state === undefined) continue
    pkts++
    const why = syncNeeded(p.state, synced, pkts, opts.threshold ?? 3, opts.period ?? 50)
    if (!why) continue
    synced = p.state
    const timeout = timeoutFor(tm, p.state)
    const receivedAt = p.t + delay
    out.push({sentAt: p.t, receivedAt, state: p.state, timeout, backupExpiresAt: receivedAt + timeout, inPkts: pkts, why})
  }
  return out
}

export type FailoverOutcome =
  | 'held' // the backup has the entry: the flow survives
  | 'no-entry-on-master' // nothing to lose: the master had no live entry at t_f
  | 'no-sync-daemon'
  | 'never-synced' // e.g. fewer than 3 client packets, or only SYN_RECV
  | 'sync-in-flight' // the only records were sent less than the delivery delay before t_f
  | 'expired-on-backup' // synced, but receive time + timeout passed before t_f

export interface FailoverVerdict {
  outcome: FailoverOutcome
  /** The record the backup acted on last, if any. */
  record?: SyncRecord
  /** When the backup's copy expires (or expired). */
  backupExpiresAt?: number
}

/**
 * Does the backup hold this flow's entry at failover time tf? Non-held flows meet M3 on the new director:
 * a non-SYN gets a local RST (sloppy_tcp=0) or is rescheduled (sloppy_tcp=1).
 */
export function failoverVerdict(tl: ConnTimeline, tf: number, opts: SyncOptions = {}): FailoverVerdict {
  const snap = tl.entryAt(tf)
  if (!snap?.alive) return {outcome: 'no-entry-on-master'}
  if (opts.syncDaemon === false) return {outcome: 'no-sync-daemon'}
  const life = tl.entries()[snap.life]
  const sent = syncRecords(tl, life, opts).filter((r) => r.sentAt < tf)
  if (sent.length === 0) return {outcome: 'never-synced'}
  const got = sent.filter((r) => r.receivedAt <= tf)
  if (got.length === 0) return {outcome: 'sync-in-flight', record: sent[sent.length - 1]}
  const rec = got[got.length - 1]
  if (rec.backupExpiresAt <= tf) return {outcome: 'expired-on-backup', record: rec, backupExpiresAt: rec.backupExpiresAt}
  return {outcome: 'held', record: rec, backupExpiresAt: rec.backupExpiresAt}
}

export interface TemplateSyncRecord {
  sentAt: number
  receivedAt: number
  timeout: number
  backupExpiresAt: number
  why: 'controlled-conn' | 'expire-later'
}

/**
 * Template records: one with every synced record of a controlled connection (timeout = p, or 60 once the
 * template has cycled) and one at each 60 s expire_later cycle. `connSyncTimes` are the sentAt times of the
 * controlled connections' records.
 */
export function templateSyncRecords(life: TemplateLife, persistence: number, connSyncTimes: readonly number[], opts: SyncOptions = {}): TemplateSyncRecord[] {
  if (opts.syncDaemon === false) return []
  const delay = opts.deliveryDelay ?? 0
  const out: TemplateSyncRecord[] = []
  const cycled = life.firstCycleAt
  for (const s of connSyncTimes) {
    if (s < life.start || s >= life.removedAt) continue
    const timeout = cycled !== undefined && s >= cycled ? TEMPLATE_RECHECK : persistence
    out.push({sentAt: s, receivedAt: s + delay, timeout, backupExpiresAt: s + delay + timeout, why: 'controlled-conn'})
  }
  if (cycled !== undefined) {
    for (let k = 0; k < life.cycles; k++) {
      const s = cycled + TEMPLATE_RECHECK * k
      out.push({sentAt: s, receivedAt: s + delay, timeout: TEMPLATE_RECHECK, backupExpiresAt: s + delay + TEMPLATE_RECHECK, why: 'expire-later'})
    }
  }
  return out.sort((a, b) => a.sentAt - b.sentAt)
}

/** The backup's template at tf from its records: the last received record decides (each resets the timer). */
export function backupTemplateAt(records: readonly TemplateSyncRecord[], tf: number): TemplateSyncRecord | undefined {
  let last: TemplateSyncRecord | undefined
  for (const r of records) if (r.receivedAt <= tf && (!last || r.receivedAt >= last.receivedAt)) last = r
  return last && last.backupExpiresAt > tf ? last : undefined
}
