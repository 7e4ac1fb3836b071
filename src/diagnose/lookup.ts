/**
 * Per-capture indexes by flow, built once per capture on first use: each finding looks up its own flow's
 * records instead of scanning every flow, connection and event of every capture (which made the diagnosis
 * quadratic: resets × flows). Lists keep the capture's order, so a lookup finds what a scan in order found.
 */
import type {FlowRecord} from '../vantage/artifacts.js'
import type {ClientFrameObservation, ConnectionStart, FlowContext} from '../vantage/ledger.js'
import type {CaptureScan} from '../vantage/scan.js'

export interface CaptureIndex {
  /** Flow records by their two endpoints, in either order. */
  flows: Map<string, FlowRecord[]>
  /** Connections by client and service. */
  connections: Map<string, ConnectionStart[]>
  /** Client frames' link-layer destinations by client and service. */
  ownerChanges: Map<string, ClientFrameObservation[]>
  /** Flow contexts of resets, then of stalls, by client and service. */
  contexts: Map<string, FlowContext[]>
}

const NONE: readonly never[] = []
const cache = new WeakMap<CaptureScan, CaptureIndex>()

export function flowKey(client: string, service: string): string {
  return `${client}>${service}`
}

/** Both endpoints, in a fixed order: the key of a flow record whichever side originated it. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

function push<T>(m: Map<string, T[]>, key: string, v: T): void {
  const list = m.get(key)
  if (list === undefined) m.set(key, [v])
  else list.push(v)
}

export function indexOf(scan: CaptureScan): CaptureIndex {
  let ix = cache.get(scan)
  if (ix !== undefined) return ix
  ix = {flows: new Map(), connections: new Map(), ownerChanges: new Map(), contexts: new Map()}
  for (const f of scan.flows) push(ix.flows, pairKey(f.orig, f.resp), f)
  const l = scan.ledger
  for (const c of l.connections) push(ix.connections, flowKey(c.client, c.service), c)
  for (const o of l.vipOwnerChanges) push(ix.ownerChanges, flowKey(o.client, o.service), o)
  for (const r of l.resets) push(ix.contexts, flowKey(r.context.client, r.context.service), r.context)
  for (const s of l.stalls) push(ix.contexts, flowKey(s.context.client, s.context.service), s.context)
  cache.set(scan, ix)
  return ix
}

/** The capture's flow records between `client` and `service`, in capture order. */
export function flowsBetween(scan: CaptureScan, client: string, service: string): readonly FlowRecord[] {
  return indexOf(scan).flows.get(pairKey(client, service)) ?? NONE
}

export function connectionsOf(scan: CaptureScan, client: string, service: string): readonly ConnectionStart[] {
  return indexOf(scan).connections.get(flowKey(client, service)) ?? NONE
}

export function ownerChangesOf(scan: CaptureScan, client: string, service: string): readonly ClientFrameObservation[] {
  return indexOf(scan).ownerChanges.get(flowKey(client, service)) ?? NONE
}

export function contextsOf(scan: CaptureScan, client: string, service: string): readonly FlowContext[] {
  return indexOf(scan).contexts.get(flowKey(client, service)) ?? NONE
}
