import {describe, expect, it} from 'vitest'
import {EndpointTable} from '../../../src/vantage/correlate/endpoints.js'
import {FlowStats} from '../../../src/vantage/correlate/flows.js'
import {Matcher, ROLE_DIRECTOR, ROLE_RS, Timeline} from '../../../src/vantage/correlate/matcher.js'
import {P} from '../../../src/vantage/correlate/points.js'

function setup(ring: number): {m: Matcher; tl: Timeline; flow: number} {
  const services = new EndpointTable()
  const svc = services.add(4, [0, 0, 0, 0x0a010064], 3306, 6)
  const flows = new FlowStats(services)
  const flow = flows.idOfKey(4, [0, 0, 0, 0x0a090001], 40000, 6, svc)
  const tl = new Timeline(new Int8Array([ROLE_DIRECTOR, ROLE_RS]), 0.002)
  tl.firstRaw.set([0, 10])
  tl.lastRaw.set([100, 110])
  tl.trackOff.set([0, 10])
  tl.ended.set([1, 1])
  const m = new Matcher(tl, flows, {guard: 0.002, maxTransit: 0.2, maxNotable: 10, queries: [null, null]}, ring)
  return {m, tl, flow}
}

describe('Matcher', () => {
  it('grows its ring when more packets are pending than it holds, losing none', () => {
    const {m, flow} = setup(16)
    // 500 packets inside one window: director in+out at t, the real server (clock +10 s) 0.1 s later.
    const n = 500
    for (let i = 0; i < n; i++) {
      const t = 1 + i * 0.0001
      m.event(0, P.DIRECTOR_IN, t, t + 0.002, 2 * i + 1, Math.imul(i, 0x9e3779b1) >>> 0, i, flow, i * 100, 100, 0x18, -2)
      m.event(0, P.DIRECTOR_OUT, t + 1e-5, t + 0.002, 2 * i + 2, Math.imul(i, 0x9e3779b1) >>> 0, i, flow, i * 100, 100, 0x18, 1)
    }
    for (let i = 0; i < n; i++) {
      const t = 1 + i * 0.0001 + 0.1
      if (i % 100 !== 42) m.event(1, P.RS_IN, t + 10, t + 0.004, i + 1, Math.imul(i, 0x9e3779b1) >>> 0, i, flow, i * 100, 100, 0x18, -2)
    }
    m.flush()
    expect(m.totals.delivered).toBe(n - 5)
    expect(m.totals.lostOnPath).toBe(5)
    expect(m.notable.length).toBe(5)
    expect(m.notable.map((x) => x.frame[2])).toEqual([42, 142, 242, 342, 442].map((i) => 2 * i + 2))
  })

  it('treats a repeat within 5 ms in the same capture as a duplicate, not a new packet', () => {
    const {m, flow} = setup(64)
    m.event(0, P.DIRECTOR_IN, 1, 1.002, 1, 7, 8, flow, 0, 10, 0x18, -2)
    m.event(0, P.DIRECTOR_IN, 1.0001, 1.0021, 2, 7, 8, flow, 0, 10, 0x18, -2)
    m.event(0, P.DIRECTOR_OUT, 1.0002, 1.0022, 3, 7, 8, flow, 0, 10, 0x18, 1)
    m.event(1, P.RS_IN, 11.0003, 1.0043, 1, 7, 8, flow, 0, 10, 0x18, -2)
    m.flush()
    expect(m.totals.duplicates).toBe(1)
    expect(m.totals.delivered).toBe(1)
    expect(m.totals.notForwarded).toBe(0)
  })

  it('does not judge a forwarded packet lost when the real-server capture did not cover its time', () => {
    const {m, flow} = setup(64)
    // The real-server capture covers reference 0 .. 100 (raw 10 .. 110); t = 150 is after it.
    m.event(0, P.DIRECTOR_IN, 150, 150.002, 1, 9, 9, flow, 0, 10, 0x18, -2)
    m.event(0, P.DIRECTOR_OUT, 150.00001, 150.002, 2, 9, 9, flow, 0, 10, 0x18, 1)
    m.flush()
    expect(m.totals.lostOnPath).toBe(0)
    expect(m.totals.unjudged).toBe(1)
  })
})
