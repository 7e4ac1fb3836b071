/**
 * Exact conversion of pcapng 64-bit timestamp unit counts to (seconds, nanoseconds).
 *
 * ns-resolution counts (~1.7e18) exceed 2^53, so a plain Number loses the last digits. The common
 * resolutions (10^-n with n <= 9, 2^-n with n <= 63) are done with exact double arithmetic on
 * 16/32-bit pieces, allocating nothing; anything more exotic falls back to BigInt.
 */

const TWO32 = 4294967296


/** How one interface's unit counts become time; precomputed once per IDB. */
export interface TsScale {
  /** 0 = 10^-n with n <= 9, 1 = 2^-n with n <= 63, 2 = anything else (BigInt path). */
  kind: 0 | 1 | 2
  /** True: units are 2^-n s; false: 10^-n s. */
  binary: boolean
  /** The exponent n. */
  exp: number
  /** kind 0: 10^n, the units per second. */
  div: number
  /** kind 0: 10^(9-n), nanoseconds per unit. */
  mul: number
  /** if_tsoffset in whole seconds, added to every timestamp. */
  offsetSec: number
  /** Decimal digits of native precision, capped at 9. */
  digits: number
  /** kind 0 cache: the high word seen last and floor / remainder of (hi·2^32) by div. */
  cacheHi: number
  cacheQ: number
  cacheR: number
}

/** Decode an if_tsresol byte (absent → 6, i.e. µs). */
export function makeScale(tsresol: number, offsetSec: number): TsScale {
  const binary = (tsresol & 0x80) !== 0
  const exp = tsresol & 0x7f
  let kind: 0 | 1 | 2
  if (!binary && exp <= 9) kind = 0
  else if (binary && exp <= 63) kind = 1
  else kind = 2
  const digits = binary ? Math.min(9, Math.ceil(exp * Math.LOG10E * Math.LN2)) : Math.min(9, exp)
  return {
    kind,
    binary,
    exp,
    div: kind === 0 ? 10 ** exp : 0,
    mul: kind === 0 ? 10 ** (9 - exp) : 0,
    offsetSec,
    digits,
    cacheHi: -1,
    cacheQ: 0,
    cacheR: 0,
  }
}

/** Human form of a resolution: 'micro', 'nano', '10^-3', '2^-30'. */
export function scaleName(s: TsScale): string {
  if (!s.binary && s.exp === 6) return 'micro'
  if (!s.binary && s.exp === 9) return 'nano'
  return s.binary ? `2^-${s.exp}` : `10^-${s.exp}`
}

/** Resolution in decimal digits (possibly fractional), to pick the finest of several. */
export function scaleFineness(s: TsScale): number {
  return s.binary ? s.exp * Math.LOG10E * Math.LN2 : s.exp
}

/** Output slots: written by toTime, read right after (avoids returning an object). */
export const out = {sec: 0, nsec: 0}

/** Convert the unit count hi·2^32 + lo (both uint32) into out.sec / out.nsec. */
export function toTime(hi: number, lo: number, s: TsScale): void {
  if (s.kind === 0) decimal(hi, lo, s)
  else if (s.kind === 1) binary(hi, lo, s.exp)
  else exotic(hi, lo, s)
  out.sec += s.offsetSec
}

function decimal(hi: number, lo: number, s: TsScale): void {
  const d = s.div
  // The high word changes every 2^32 units (4.3 s at ns), so (hi·2^32) / d is computed once per change.
  if (hi !== s.cacheHi) {
    // Long division in 16-bit limbs: remainder < d <= 10^9 < 2^30, so r·2^16 + limb < 2^46 is exact.
    let r = hi >>> 16
    const q3 = Math.floor(r / d)
    r -= q3 * d
    let cur = r * 65536 + (hi & 0xffff)
    const q2 = Math.floor(cur / d)
    r = cur - q2 * d
    cur = r * 65536
    const q1 = Math.floor(cur / d)
    r = cur - q1 * d
    cur = r * 65536
    const q0 = Math.floor(cur / d)
    s.cacheR = cur - q0 * d
    s.cacheQ = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0
    s.cacheHi = hi
  }
  // cacheR + lo < 10^9 + 2^32: exact, and the quotient is small enough that floor() cannot round up.
  const cur = s.cacheR + lo
  const q = Math.floor(cur / d)
  out.sec = s.cacheQ + q
  out.nsec = (cur - q * d) * s.mul
}

function binary(hi: number, lo: number, n: number): void {
  if (n === 0) {
    out.sec = hi * TWO32 + lo
    out.nsec = 0
    return
  }
  if (n <= 32) {
    const p = 2 ** n
    const loSec = Math.floor(lo / p)
    const frac = lo - loSec * p
    out.sec = hi * 2 ** (32 - n) + loSec
    // frac < 2^n; 10^9 = 2^9 · 1953125, so frac·1953125 < 2^53 stays exact.
    out.nsec = n <= 9 ? Math.floor((frac * 1e9) / p) : Math.floor((frac * 1953125) / 2 ** (n - 9))
    return
  }
  // 33 <= n <= 63: the fraction spans both words. frac = fh·2^32 + fl.
  const k = n - 32
  const pk = 2 ** k
  const sec = Math.floor(hi / pk)
  const fh = hi - sec * pk
  const a = fh * 1953125 // < 2^52
  const b = lo * 1953125 // < 2^53
  const bh = Math.floor(b / TWO32)
  const bl = b - bh * TWO32
  const x = a + bh // fraction·1953125 = x·2^32 + bl, and x < 2^53
  const s = n - 9 // >= 24
  out.sec = sec
  out.nsec = s >= 32 ? Math.floor(x / 2 ** (s - 32)) : x * 2 ** (32 - s) + Math.floor(bl / 2 ** s)
}

/** Resolutions finer than 10^-9 (decimal) or 2^-63: rare enough to afford BigInt. */
function exotic(hi: number, lo: number, s: TsScale): void {
  const v = (BigInt(hi) << 32n) | BigInt(lo)
  const e = BigInt(s.exp)
  if (s.binary) {
    out.sec = Number(v >> e)
    out.nsec = Number(((v & ((1n << e) - 1n)) * 1_000_000_000n) >> e)
  } else {
    const d = 10n ** e
    out.sec = Number(v / d)
    out.nsec = Number((v % d) / 10n ** (e - 9n))
  }
}

/** Signed 64-bit seconds (if_tsoffset) from two uint32 halves; exact while |value| < 2^53. */
export function int64(hi: number, lo: number): number {
  return (hi | 0) * TWO32 + lo
}



/** Output slots of toUnits: the unit count as two uint32 halves. */
export const units = {hi: 0, lo: 0}

/**
 * (sec, nsec) → count of 10^-exp units (exp 6 or 9) as hi/lo words, exactly: sec·10^exp exceeds 2^53
 * for ns, so it is built from 16-bit pieces. Requires 0 <= sec·10^exp < 2^64 (ns: until the year 2554).
 */
export function toUnits(sec: number, nsec: number, exp: 6 | 9): void {
  const per = exp === 9 ? 1e9 : 1e6
  const frac = exp === 9 ? nsec : Math.floor(nsec / 1000)
  const sHi = Math.floor(sec / 65536)
  const sLo = sec - sHi * 65536
  const a = sHi * per // sec·per = a·2^16 + b
  const b = sLo * per + frac
  const aHi = Math.floor(a / 65536)
  const c = (a - aHi * 65536) * 65536 + b // < 2^32 + 2^47: exact
  const cHi = Math.floor(c / TWO32)
  units.hi = aHi + cHi
  units.lo = c - cHi * TWO32
}
