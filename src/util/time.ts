/** Exact capture timestamps (integer seconds + nanoseconds) and their renderings. */

export interface Timestamp {
  sec: number
  nsec: number
}

/** Epoch seconds as a JSON number (loses sub-µs precision beyond 2^53; fine for reports). */
export function epochNumber(sec: number, nsec: number): number {
  return sec + nsec / 1e9
}

/** Difference a − b in seconds, computed on the integer parts first so it stays exact for short spans. */
export function diffSeconds(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec - bSec + (aNsec - bNsec) / 1e9
}

/** ISO-8601 UTC with `digits` fractional digits (6 = µs, 9 = ns), e.g. 2026-11-21T07:00:00.123456Z. */
export function isoTime(sec: number, nsec: number, digits = 9): string {
  const d = new Date(sec * 1000)
  if (Number.isNaN(d.getTime())) return `@${sec}.${String(nsec).padStart(9, '0')}`
  const base = d.toISOString().slice(0, 19)
  if (digits <= 0) return `${base}Z`
  const frac = String(nsec).padStart(9, '0').slice(0, Math.min(digits, 9))
  return `${base}.${frac}Z`
}

/** Seconds rendered as a short human duration: 912 s → "15m12s", 0.2 → "200ms". */
export function humanDuration(seconds: number): string {
  const s = Math.abs(seconds)
  if (s < 1e-3) return `${(seconds * 1e6).toFixed(0)}µs`
  if (s < 1) return `${(seconds * 1e3).toFixed(s < 0.01 ? 2 : 0)}ms`
  if (s < 60) return `${seconds.toFixed(s < 10 ? 3 : 1)}s`
  const sign = seconds < 0 ? '-' : ''
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const r = Math.floor(s % 60)
  return h > 0 ? `${sign}${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s` : `${sign}${m}m${String(r).padStart(2, '0')}s`
}
