import {UsageError} from '../util/errors.js'

/** --since/--until: epoch seconds, or ISO-8601 (UTC unless the text gives an offset). */
export function parseInstant(flag: string, s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s)
  const iso = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?)?$/.test(s) ? (s.includes('T') ? `${s}Z` : `${s}T00:00:00Z`) : s
  const ms = /^\d{4}-\d\d-\d\d/.test(s) ? Date.parse(iso) : NaN
  if (!Number.isFinite(ms)) throw new UsageError(`--${flag} wants epoch seconds or an ISO-8601 time, got "${s}"`)
  return ms / 1000
}

/** --service ip:port → the endpoint string the probes keep ("[v6]:port" for IPv6). */
export function parseService(s: string): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(s)
  const port = m ? Number(m[3]) : NaN
  if (!m || port < 1 || port > 65535) throw new UsageError(`--service wants ip:port (or [ipv6]:port), got "${s}"`)
  return m[1] !== undefined ? `[${m[1].toLowerCase()}]:${port}` : `${m[2]}:${port}`
}

/** --shard I/N, 1-based. */
export function parseShard(s: string): {index: number; count: number} {
  const m = /^(\d+)\/(\d+)$/.exec(s)
  const index = m ? Number(m[1]) : NaN
  const count = m ? Number(m[2]) : NaN
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard wants I/N with 1 ≤ I ≤ N, got "${s}"`)
  return {index: index - 1, count}
}
