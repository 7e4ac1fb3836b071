/**
 * Clock offset and drift between two capture points from one-way delays. Every packet seen upstream
 * at time x (upstream clock) and downstream at time y (downstream clock) gives Δ = y − x =
 * (offset_down − offset_up) + transit, with transit ≥ 0. So the offset difference is the lower
 * envelope of Δ: we keep the minimum Δ per time window (memory bounded by the number of windows,
 * not packets) and fit the line under those minima that hugs them best (the Moon/Zhang lower
 * envelope: the lower-hull edge spanning the mean time). What remains in the estimate is the
 * smallest transit between the two points, which one-way data cannot separate from the offset.
 */

/** Windows kept per estimator; beyond this, neighbours merge and the window doubles. */
const MAX_WINDOWS = 2048

export interface EnvelopeFit {
  /** Offset difference (down − up) at time `at`, seconds. */
  offset: number
  /** Upstream-clock time the offset is given at (the mean of the window times). */
  at: number
  /** d(offset)/dt, dimensionless (ppm = slope × 1e6); 0 when drift was not measurable. */
  slope: number
  driftMeasured: boolean
  /** Median height of the window minima above the fitted line, seconds. */
  spread: number
  /** Statistical uncertainty of `offset`, seconds (excludes the unknown minimum transit). */
  uncertainty: number
  points: number
  windows: number
}

export class EnvelopeEstimator {
  points = 0
  private width: number
  private x0 = NaN
  private winX = new Float64Array(64)
  private winY = new Float64Array(64).fill(Infinity)
  private used = 0

  constructor(windowSeconds = 1) {
    this.width = windowSeconds
  }

  add(x: number, y: number): void {
    if (!(Number.isFinite(x) && Number.isFinite(y))) return
    if (this.points === 0) this.x0 = x
    this.points++
    let i = Math.floor((x - this.x0) / this.width)
    if (i < 0) i = 0 // slight disorder at the start: fold into the first window
    while (i >= MAX_WINDOWS) {
      this.coarsen()
      i = Math.floor((x - this.x0) / this.width)
    }
    if (i >= this.winY.length) this.grow(i + 1)
    if (y < this.winY[i]) {
      this.winY[i] = y
      this.winX[i] = x
    }
    if (i + 1 > this.used) this.used = i + 1
  }

  /** Minimum Δ over the most recent `k` non-empty windows (for tracking during a pass), NaN if none. */
  recentMin(k: number): number {
    let m = Infinity
    for (let i = this.used - 1, seen = 0; i >= 0 && seen < k; i--) {
      if (this.winY[i] === Infinity) continue
      seen++
      if (this.winY[i] < m) m = this.winY[i]
    }
    return m === Infinity ? NaN : m
  }

  /**
   * Fit the lower envelope. Drift is fitted only when the minima span at least `minDriftSpan` seconds
   * over at least 6 windows; otherwise the offset is the overall minimum.
   */
  fit(minDriftSpan = 30): EnvelopeFit | null {
    const xs: number[] = []
    const ys: number[] = []
    for (let i = 0; i < this.used; i++) {
      if (this.winY[i] === Infinity) continue
      xs.push(this.winX[i])
      ys.push(this.winY[i])
    }
    const n = xs.length
    if (n === 0) return null
    let meanX = 0
    for (const x of xs) meanX += x / n
    const span = xs[n - 1] - xs[0]
    let slope = 0
    let base = Math.min(...ys)
    let baseX = meanX
    let drift = false
    if (n >= 6 && span >= minDriftSpan) {
      const hull = lowerHull(xs, ys)
      for (let j = 0; j + 1 < hull.length; j++) {
        const a = hull[j]
        const b = hull[j + 1]
        if (xs[a] <= meanX && meanX <= xs[b]) {
          slope = (ys[b] - ys[a]) / (xs[b] - xs[a])
          base = ys[a]
          baseX = xs[a]
          drift = true
          break
        }
      }
    }
    const line = (x: number): number => base + slope * (x - baseX)
    const res = xs.map((x, i) => ys[i] - line(x)).sort((a, b) => a - b)
    const spread = Math.max(0, res[Math.floor(n / 2)])
    return {
      offset: line(meanX),
      at: meanX,
      slope,
      driftMeasured: drift,
      spread,
      uncertainty: spread / Math.sqrt(n),
      points: this.points,
      windows: n,
    }
  }

  private grow(n: number): void {
    let cap = this.winY.length
    while (cap < n) cap *= 2
    const x = new Float64Array(cap)
    x.set(this.winX)
    const y = new Float64Array(cap).fill(Infinity)
    y.set(this.winY)
    this.winX = x
    this.winY = y
  }

  private coarsen(): void {
    const half = Math.ceil(this.used / 2)
    for (let i = 0; i < half; i++) {
      const a = 2 * i
      const b = a + 1
      const pickB = b < this.used && this.winY[b] < this.winY[a]
      this.winY[i] = pickB ? this.winY[b] : this.winY[a]
      this.winX[i] = pickB ? this.winX[b] : this.winX[a]
    }
    this.winY.fill(Infinity, half)
    this.used = half
    this.width *= 2
  }
}

/** Indices of the lower convex hull of points sorted by x (Andrew's monotone chain). */
function lowerHull(xs: number[], ys: number[]): number[] {
  const h: number[] = []
  for (let i = 0; i < xs.length; i++) {
    while (h.length >= 2) {
      const o = h[h.length - 2]
      const a = h[h.length - 1]
      const cross = (xs[a] - xs[o]) * (ys[i] - ys[o]) - (ys[a] - ys[o]) * (xs[i] - xs[o])
      if (cross <= 0) h.pop()
      else break
    }
    h.push(i)
  }
  return h
}

/** Robust start for matches made without a time window: keep Δs near the densest 1 ms bin. */
export function denseBand(deltas: Float64Array, n: number, halfWidth = 0.005): [number, number] | null {
  if (n === 0) return null
  const bins = new Map<number, number>()
  let best = 0
  let bestBin = 0
  for (let i = 0; i < n; i++) {
    const b = Math.floor(deltas[i] * 1000)
    const c = (bins.get(b) ?? 0) + 1
    bins.set(b, c)
    if (c > best || (c === best && b < bestBin)) {
      best = c
      bestBin = b
    }
  }
  return [bestBin / 1000 - halfWidth, (bestBin + 1) / 1000 + halfWidth]
}

// ---------------------------------------------------------------- solving offsets over captures

/** Linear clock model of a capture: offset(t) = a + b·(t − T0), t in reference time. */
export interface ClockModel {
  a: number
  b: number
  uncertainty: number
  source: 'reference' | 'estimated' | 'flag' | 'none'
  points: number
  driftMeasured: boolean
  /** Reference time the estimate is centred on (NaN when not estimated). */
  at: number
}

export interface ClockEdge {
  up: number
  down: number
  /** 1 = adjacent capture points (client→director, director→real server, real server→client); 2 = farther apart. */
  priority: number
  fit: EnvelopeFit
}

/**
 * Resolve every capture's clock from fixed ones (reference, flags) through the edges, best edge first
 * (adjacent points, then the most matched packets). `T0` anchors the linear models.
 */
export function solveClocks(n: number, fixed: Map<number, ClockModel>, edges: ClockEdge[], T0: number): ClockModel[] {
  const out: (ClockModel | null)[] = new Array<ClockModel | null>(n).fill(null)
  for (const [i, m] of fixed) out[i] = m
  for (;;) {
    let best: ClockEdge | null = null
    let bestTarget = -1
    for (const e of edges) {
      const upKnown = out[e.up] !== null
      const downKnown = out[e.down] !== null
      if (upKnown === downKnown) continue
      if (best === null || e.priority < best.priority || (e.priority === best.priority && e.fit.points > best.fit.points)) {
        best = e
        bestTarget = upKnown ? e.down : e.up
      }
    }
    if (best === null) break
    const f = best.fit
    const known = out[bestTarget === best.down ? best.up : best.down] as ClockModel
    // The fit's time axis is the upstream capture's own clock; shift it to reference time.
    const upModel = bestTarget === best.down ? known : null
    const atRef = upModel !== null ? f.at - upModel.a : f.at - (known.a - f.offset)
    const relAtT0 = f.offset - f.slope * (atRef - T0)
    const sign = bestTarget === best.down ? 1 : -1
    out[bestTarget] = {
      a: known.a + sign * relAtT0,
      b: known.b + sign * f.slope,
      uncertainty: known.uncertainty + f.uncertainty,
      source: 'estimated',
      points: f.points,
      driftMeasured: f.driftMeasured,
      at: atRef,
    }
  }
  return out.map((m) => m ?? {a: 0, b: 0, uncertainty: 0, source: 'none', points: 0, driftMeasured: false, at: NaN})
}

/** Reference time of a raw capture time under a clock model (exact inverse of t_raw = t + offset(t)). */
export function toReference(m: ClockModel, tRaw: number, T0: number): number {
  return (tRaw - m.a + m.b * T0) / (1 + m.b)
}

/** Offset of the model at reference time t. */
export function offsetAt(m: ClockModel, t: number, T0: number): number {
  return m.a + m.b * (t - T0)
}
