/**
 * Capture points a client packet (or a reply) passes, as small numbers for the hot path. Requests
 * (client→service) pass CLIENT_OUT → DIRECTOR_IN → DIRECTOR_OUT → RS_IN; replies pass RS_OUT →
 * CLIENT_IN (DR replies bypass the director). A pending packet keeps one slot per point: requests use
 * slots 0-3 in path order, replies put RS_OUT in slot 3 and CLIENT_IN in slot 0.
 */
import type {Point} from './types.js'

export const P = {CLIENT_OUT: 0, DIRECTOR_IN: 1, DIRECTOR_OUT: 2, RS_IN: 3, RS_OUT: 4, CLIENT_IN: 5} as const
export const NO_POINT = -1

export const KIND_REQUEST = 0
export const KIND_REPLY = 1

export function kindOf(point: number): number {
  return point >= P.RS_OUT ? KIND_REPLY : KIND_REQUEST
}

export function slotOf(point: number): number {
  if (point === P.RS_OUT) return 3
  if (point === P.CLIENT_IN) return 0
  return point
}

/** Point held by `slot` of a packet of `kind`. */
export function pointOfSlot(kind: number, slot: number): number {
  if (kind === KIND_REQUEST) return slot
  return slot === 3 ? P.RS_OUT : P.CLIENT_IN
}

/**
 * Priority of using (up → down) as a clock edge: 1 for adjacent points, 2 for points farther apart
 * (more transit in the estimate), 0 when `up` is not upstream of `down` or both are in one capture.
 */
export function hopPriority(up: number, down: number): number {
  if (up === P.RS_OUT && down === P.CLIENT_IN) return 1
  if (up > P.RS_IN || down > P.RS_IN || up >= down) return 0
  if (up === P.DIRECTOR_IN && down === P.DIRECTOR_OUT) return 0
  return down - up === 1 ? 1 : 2
}

const NAMES: Point[] = ['client-out', 'director-in', 'director-out', 'real-server-in', 'real-server-out', 'client-in']

export function pointName(point: number): Point {
  return NAMES[point]
}
