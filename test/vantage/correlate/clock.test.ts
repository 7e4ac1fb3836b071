import {describe, expect, it} from 'vitest'
import {EnvelopeEstimator, offsetAt, solveClocks, toReference} from '../../../src/vantage/correlate/clock.js'
import type {ClockModel} from '../../../src/vantage/correlate/clock.js'
import {denseBand} from '../../../src/vantage/correlate/clock.js'

/** Deterministic pseudo-random in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    return x / 2 ** 32
  }
}

describe('EnvelopeEstimator', () => {
  it('finds the offset as the floor of one-way delays (transit ≥ 0)', () => {
    const r = rng(1)
    const e = new EnvelopeEstimator(1)
    for (let i = 0; i < 5000; i++) e.add(i * 0.004, 2.5 + 0.00005 + r() * r() * 0.003)
    const f = e.fit(30)
    expect(f).not.toBeNull()
    expect(f?.driftMeasured).toBe(false)
    expect(f?.slope).toBe(0)
    expect((f?.offset ?? 0) - 2.5).toBeGreaterThanOrEqual(0.00005)
    expect((f?.offset ?? 0) - 2.5).toBeLessThan(0.0001)
    expect(f?.points).toBe(5000)
  })

  it('fits drift over a long span and gives the offset at the mean time', () => {
    const r = rng(7)
    const e = new EnvelopeEstimator(1)
    const ppm = -80
    for (let i = 0; i < 20000; i++) {
      const x = i * 0.03
      e.add(x, -1.75 + x * ppm * 1e-6 + 0.00004 + r() * 0.002)
    }
    const f = e.fit(30)
    expect(f?.driftMeasured).toBe(true)
    expect(Math.abs((f?.slope ?? 0) * 1e6 - ppm)).toBeLessThan(1)
    const truth = -1.75 + (f?.at ?? 0) * ppm * 1e-6
    expect(Math.abs((f?.offset ?? 0) - truth)).toBeLessThan(0.0002)
  })

  it('keeps memory bounded by merging windows on very long captures', () => {
    const e = new EnvelopeEstimator(1)
    for (let i = 0; i < 100_000; i++) e.add(i * 0.5, 1 + (i % 10) * 1e-4)
    const f = e.fit(30)
    expect(f?.windows).toBeLessThanOrEqual(2048)
    expect(f?.offset).toBeCloseTo(1, 6)
  })

  it('ignores non-finite samples and reports nothing when empty', () => {
    const e = new EnvelopeEstimator(1)
    e.add(NaN, 1)
    e.add(1, Infinity)
    expect(e.fit(30)).toBeNull()
    expect(e.recentMin(3)).toBeNaN()
  })
})

describe('denseBand', () => {
  it('keeps the densest millisecond and rejects stray matches', () => {
    const d = new Float64Array([2.5001, 2.5002, 2.50015, 2.5003, 2.7, 2.3])
    const b = denseBand(d, d.length)
    expect(b).not.toBeNull()
    const [lo, hi] = b ?? [0, 0]
    expect(lo).toBeLessThan(2.5001)
    expect(hi).toBeGreaterThan(2.5003)
    expect(2.7 > hi && 2.3 < lo).toBe(true)
  })
})

describe('solveClocks', () => {
  const ref: ClockModel = {a: 0, b: 0, uncertainty: 0, source: 'reference', points: 0, driftMeasured: false, at: NaN}
  const fit = (offset: number, points: number) => ({offset, at: 10, slope: 0, driftMeasured: false, spread: 0, uncertainty: 1e-6, points, windows: 5})

  it('chains offsets through captures and in both directions', () => {
    // 0 = director (ref), 1 = real server (downstream, +2.5), 2 = client (upstream, −4), 3 = second director via the real server.
    const m = solveClocks(4, new Map([[0, ref]]), [
      {up: 0, down: 1, priority: 1, fit: fit(2.5, 100)},
      {up: 2, down: 0, priority: 1, fit: fit(4, 50)},
      {up: 3, down: 1, priority: 1, fit: fit(2.5 - 0.3, 20)},
    ], 0)
    expect(m[1].a).toBeCloseTo(2.5, 9)
    expect(m[2].a).toBeCloseTo(-4, 9)
    expect(m[3].a).toBeCloseTo(0.3, 9)
    expect(m.map((x) => x.source)).toEqual(['reference', 'estimated', 'estimated', 'estimated'])
  })

  it('prefers adjacent points, then more matches; leaves unconnected captures unresolved', () => {
    const m = solveClocks(3, new Map([[0, ref]]), [
      {up: 0, down: 1, priority: 2, fit: fit(9, 1000)},
      {up: 0, down: 1, priority: 1, fit: fit(1, 10)},
    ], 0)
    expect(m[1].a).toBeCloseTo(1, 9)
    expect(m[2].source).toBe('none')
  })

  it('converts raw times to reference time exactly under drift', () => {
    const m: ClockModel = {a: 2, b: 100e-6, uncertainty: 0, source: 'estimated', points: 1, driftMeasured: true, at: 0}
    const t = 1234.5
    const raw = t + offsetAt(m, t, 0)
    expect(toReference(m, raw, 0)).toBeCloseTo(t, 9)
  })
})
