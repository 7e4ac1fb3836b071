/**
 * What the captures prove about the real timeouts. An entry that survived an idle gap g (the client's
 * next packet was forwarded on it) proves timeout > g; a gap that ended with the director not forwarding
 * (and answering with its own RST, i.e. no entry) proves timeout ≤ g. So the real value lies in
 * (longest survived, shortest killed]. Gaps are labelled by the state the entry was in: ES gaps bound
 * `tcp`, FIN_WAIT gaps bound `tcpfin`, UDP gaps bound `udp`.
 */
import type {EntryState} from './state.js'

export interface GapObservation {
  gap: number
  state: EntryState
  /** true: the entry survived the gap; false: the gap ended in a confirmed idle-expiry kill. */
  survived: boolean
  /** Where it was seen (file:frame), quoted in messages. */
  where?: string
}

export interface TimeoutBound {
  /** Longest survived gap: the timeout is greater than this. Null when no gap survived. */
  min: number | null
  /** Shortest killed gap: the timeout is at most this. Null when no gap was killed. */
  max: number | null
  minWhere?: string
  maxWhere?: string
  /** false when a killed gap is not longer than a survived one (mixed states, a changed timeout, or a non-idle cause). */
  consistent: boolean
  survivedCount: number
  killedCount: number
}

export type BoundedField = 'tcp' | 'tcpfin' | 'udp'

const FIELD_OF: Partial<Record<EntryState, BoundedField>> = {ES: 'tcp', FW: 'tcpfin', UDP: 'udp'}

export function timeoutBounds(obs: readonly GapObservation[]): Partial<Record<BoundedField, TimeoutBound>> {
  const out: Partial<Record<BoundedField, TimeoutBound>> = {}
  for (const o of obs) {
    const field = FIELD_OF[o.state]
    if (!field || !Number.isFinite(o.gap) || o.gap < 0) continue
    const b = (out[field] ??= {min: null, max: null, consistent: true, survivedCount: 0, killedCount: 0})
    if (o.survived) {
      b.survivedCount++
      if (b.min === null || o.gap > b.min) {
        b.min = o.gap
        b.minWhere = o.where
      }
    } else {
      b.killedCount++
      if (b.max === null || o.gap < b.max) {
        b.max = o.gap
        b.maxWhere = o.where
      }
    }
  }
  for (const b of Object.values(out)) if (b && b.min !== null && b.max !== null) b.consistent = b.min < b.max
  return out
}

function fmt(n: number): string {
  return Number.isInteger(n) ? `${n}` : n.toFixed(3)
}

/** Messages for every way `value` (configured `field`, from `source`) disagrees with what the captures prove. */
export function contradictions(field: BoundedField, value: number, source: string, b: TimeoutBound | undefined): string[] {
  const out: string[] = []
  if (!b) return out
  if (!b.consistent && b.min !== null && b.max !== null)
    out.push(`${field}: an entry survived ${fmt(b.min)} s idle${b.minWhere ? ` (${b.minWhere})` : ''} but another died after ${fmt(b.max)} s${b.maxWhere ? ` (${b.maxWhere})` : ''}; the timeout changed during the captures, or one of them was not an idle expiry`)
  if (b.min !== null && value <= b.min)
    out.push(`${field} = ${value} s (${source}) but an entry survived ${fmt(b.min)} s of client silence${b.minWhere ? ` (${b.minWhere})` : ''}: the real timeout is longer`)
  if (b.max !== null && value > b.max)
    out.push(`${field} = ${value} s (${source}) but an entry was gone after ${fmt(b.max)} s of client silence${b.maxWhere ? ` (${b.maxWhere})` : ''}: the real timeout is at most ${fmt(b.max)} s`)
  return out
}

/** Does `value` fit the bound? */
export function fits(value: number, b: TimeoutBound | undefined): boolean {
  if (!b) return true
  return (b.min === null || value > b.min) && (b.max === null || value <= b.max)
}
