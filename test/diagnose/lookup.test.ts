import {describe, expect, it} from 'vitest'

import {connectionsOf, contextsOf, flowsBetween, ownerChangesOf} from '../../src/diagnose/lookup.js'
import type {FlowRecord} from '../../src/vantage/artifacts.js'
import type {ConnectionStart, FlowContext, LedgerData, ResetEvent, StallEvent} from '../../src/vantage/ledger.js'
import type {CaptureScan} from '../../src/vantage/scan.js'

const C = '10.0.0.9:40000'
const S = '10.1.0.100:3306'

function flow(id: number, orig: string, resp: string): FlowRecord {
  return {id, protocol: 'tcp', orig, resp, firstEpoch: id, lastEpoch: id, state: 'SF', history: '', packets: 1, rstOrig: 0, rstResp: 0, finOrig: 0, finResp: 0}
}

function ctx(client: string, service: string, clientPackets: number): FlowContext {
  return {client, service, clientPackets, lastClient: null, prevClient: null, lastForwarded: null, sinceForwarded: 0, clientFin: null, serverClosed: false, realServer: null, director: null, longestForwardedGap: 0, app: null}
}

function scanOf(flows: FlowRecord[], ledger: Partial<LedgerData>): CaptureScan {
  const full: LedgerData = {resets: [], stalls: [], connections: [], arps: [], vipOwnerChanges: [], longestSurvived: null, eventsDropped: 0, ...ledger}
  return {flows, ledger: full} as unknown as CaptureScan
}

describe('per-capture lookups by flow', () => {
  it('finds a flow whichever side originated it, in capture order, and nothing for other flows', () => {
    const f = [flow(1, C, S), flow(2, '10.0.0.8:1', S), flow(3, S, C), flow(4, C, S)]
    const scan = scanOf(f, {})
    expect(flowsBetween(scan, C, S).map((x) => x.id)).toEqual([1, 3, 4])
    expect(flowsBetween(scan, S, C).map((x) => x.id)).toEqual([1, 3, 4])
    expect(flowsBetween(scan, '10.0.0.7:1', S)).toEqual([])
  })

  it('keys connections, owner observations and event contexts by client and service, resets before stalls', () => {
    const conn = (n: number) => ({flowId: n, client: C, service: S}) as unknown as ConnectionStart
    const other = {flowId: 9, client: '10.0.0.8:1', service: S} as unknown as ConnectionStart
    const reset = (n: number) => ({context: ctx(C, S, n)}) as unknown as ResetEvent
    const stall = (n: number) => ({context: ctx(C, S, n)}) as unknown as StallEvent
    const scan = scanOf([], {
      connections: [conn(1), other, conn(2)],
      vipOwnerChanges: [{flowId: 1, client: C, service: S, ref: {frame: 1, sec: 0, nsec: 0}, dstMac: null}],
      resets: [reset(10)],
      stalls: [stall(20), stall(30)],
    })
    expect(connectionsOf(scan, C, S).map((c) => c.flowId)).toEqual([1, 2])
    expect(connectionsOf(scan, S, C)).toEqual([])
    expect(ownerChangesOf(scan, C, S)).toHaveLength(1)
    expect(contextsOf(scan, C, S).map((c) => c.clientPackets)).toEqual([10, 20, 30])
  })
})
