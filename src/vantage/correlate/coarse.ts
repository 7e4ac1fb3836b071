/**
 * Coarse clock edges from the captures' first packets. Without an offset there is no time window to
 * match in, so packets are matched by fingerprint alone, and only the Δs near the densest 1 ms band
 * are kept (a stray match — an IPv6 retransmission without timestamps, a hash collision — lands
 * elsewhere). The lower envelope of what is left gives each pair's offset difference.
 */
import {denseBand, EnvelopeEstimator} from './clock.js'
import type {ClockEdge} from './clock.js'
import {hopPriority, NO_POINT} from './points.js'
import type {PrefixEvents} from './prefix.js'

/** Same fingerprint seen this many times in one prefix is a repeat pattern, not worth pairing all. */
const MAX_CHAIN = 16
const MAX_DELTAS = 200_000
/** Events the sort key can index (2^21). */
const MAX_EVENTS = 2 ** 21

export function coarseEdges(caps: PrefixEvents[]): ClockEdge[] {
  // Sort all events by fingerprint: key = fpA · 2^21 + global index stays an exact double.
  let total = 0
  for (const c of caps) total += c.n
  total = Math.min(total, MAX_EVENTS)
  const capOf = new Uint8Array(total)
  const idxOf = new Int32Array(total)
  const keys = new Float64Array(total)
  let g = 0
  for (let c = 0; c < caps.length && g < total; c++) {
    const e = caps[c]
    for (let i = 0; i < e.n && g < total; i++) {
      if (e.point[i] === NO_POINT) continue
      capOf[g] = c
      idxOf[g] = i
      keys[g] = e.fpA[i] * 2 ** 21 + g
      g++
    }
  }
  const sorted = keys.subarray(0, g).sort()
  const lists = new Map<number, {up: number; down: number; priority: number; d: Float64Array; x: Float64Array; n: number}>()
  const nc = caps.length
  for (let lo = 0; lo < g; ) {
    const fp = Math.floor(sorted[lo] / 2 ** 21)
    let hi = lo + 1
    while (hi < g && Math.floor(sorted[hi] / 2 ** 21) === fp) hi++
    if (hi - lo <= MAX_CHAIN) {
      for (let ga = lo; ga < hi; ga++) {
        for (let gb = lo; gb < hi; gb++) {
          const a = sorted[ga] % 2 ** 21
          const b = sorted[gb] % 2 ** 21
          if (capOf[a] === capOf[b]) continue
          const ea = caps[capOf[a]]
          const eb = caps[capOf[b]]
          const ia = idxOf[a]
          const ib = idxOf[b]
          if (ea.fpB[ia] !== eb.fpB[ib]) continue
          const prio = hopPriority(ea.point[ia], eb.point[ib])
          if (prio === 0) continue
          const key = (capOf[a] * nc + capOf[b]) * 3 + prio
          let l = lists.get(key)
          if (l === undefined) {
            l = {up: capOf[a], down: capOf[b], priority: prio, d: new Float64Array(1024), x: new Float64Array(1024), n: 0}
            lists.set(key, l)
          }
          if (l.n >= MAX_DELTAS) continue
          if (l.n === l.d.length) {
            const d = new Float64Array(l.n * 2)
            d.set(l.d)
            l.d = d
            const x = new Float64Array(l.n * 2)
            x.set(l.x)
            l.x = x
          }
          l.d[l.n] = eb.t[ib] - ea.t[ia]
          l.x[l.n] = ea.t[ia]
          l.n++
        }
      }
    }
    lo = hi
  }
  const edges: ClockEdge[] = []
  for (const l of lists.values()) {
    const band = denseBand(l.d, l.n)
    if (band === null) continue
    const est = new EnvelopeEstimator(1)
    for (let i = 0; i < l.n; i++) if (l.d[i] >= band[0] && l.d[i] <= band[1]) est.add(l.x[i], l.d[i])
    // A prefix is too short to measure drift: the offset is the envelope's floor.
    const fit = est.fit(Infinity)
    if (fit !== null && fit.points >= 2) edges.push({up: l.up, down: l.down, priority: l.priority, fit})
  }
  return edges
}
