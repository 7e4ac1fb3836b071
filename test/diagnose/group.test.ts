import {describe, expect, it} from 'vitest'

import {GROUP_MIN, groupRepeatedFindings} from '../../src/diagnose/group.js'
import type {Finding} from '../../src/report/report.js'

/** A client's RST from port `port` at `epoch`, as resets.ts words one. */
function rst(port: number, epoch: number, over: Partial<Finding> = {}): Finding {
  return {
    kind: 'reset',
    epoch,
    time: `t${epoch}`,
    flow: {client: `10.200.0.1:${port}`, service: '10.1.0.11:80'},
    sender: 'client',
    cause: 'client-abort',
    confidence: 'high',
    summary: 'RST from the client to 10.1.0.11:80 (client-abort)',
    evidence: [{file: 'a.pcap', frame: port * 3, epoch, time: `t${epoch}`, what: `RST R 10.200.0.1:${port} → 10.1.0.11:80, IP ID ${port}`}],
    timeline: [],
    realServerView: null,
    application: null,
    recommendation: 'The client reset the connection itself.',
    ...over,
  }
}

describe('groupRepeatedFindings', () => {
  it(`leaves fewer than ${GROUP_MIN} alike findings as they are`, () => {
    const f = Array.from({length: GROUP_MIN - 1}, (_, i) => rst(1000 + i, 100 + i))
    expect(groupRepeatedFindings(f)).toEqual(f)
  })

  it('folds a pattern of many into one finding with occurrences, time range and first and last evidence', () => {
    const f = Array.from({length: 1000}, (_, i) => rst(1000 + i, 100 + i))
    const [g, ...rest] = groupRepeatedFindings(f)
    expect(rest).toEqual([])
    expect(g.occurrences).toBe(1000)
    expect(g.epoch).toBe(100)
    expect(g.lastEpoch).toBe(1099)
    expect(g.flow).toEqual({client: '10.200.0.1', service: '10.1.0.11:80'})
    expect(g.evidence).toEqual([...f[0].evidence, ...f[999].evidence])
    expect(g.summary).toContain('1000 alike from t100 to t1099')
    expect(Object.keys(g)[1]).toBe('epoch')
  })

  it('keeps apart what differs in kind, sender, cause, service, client host or words', () => {
    const n = GROUP_MIN
    const f = [
      ...Array.from({length: n}, (_, i) => rst(1000 + i, i)),
      ...Array.from({length: n}, (_, i) => rst(2000 + i, i + 0.5, {cause: 'ipvs-idle-timeout'})),
      ...Array.from({length: n}, (_, i) => rst(3000 + i, i + 0.25, {flow: {client: `10.200.0.2:${3000 + i}`, service: '10.1.0.11:80'}})),
      ...Array.from({length: n}, (_, i) => rst(4000 + i, i + 0.75, {recommendation: 'Something else.'})),
      rst(5000, 3.1, {sender: 'director'}),
    ].sort((a, b) => a.epoch - b.epoch)
    const g = groupRepeatedFindings(f)
    expect(g).toHaveLength(5)
    expect(g.map((x) => x.occurrences ?? 1).reduce((a, b) => a + b, 0)).toBe(4 * n + 1)
    // In time order, each group where its first occurrence was.
    expect(g.map((x) => x.epoch)).toEqual([0, 0.25, 0.5, 0.75, 3.1])
  })

  it('a finding of the whole service (no flow) groups too, keeping flow null', () => {
    const f = Array.from({length: GROUP_MIN}, (_, i) => rst(0, i, {kind: 'failover', flow: null, summary: `VIP moved at ${i}`}))
    const [g] = groupRepeatedFindings(f)
    expect(g.flow).toBeNull()
    expect(g.occurrences).toBe(GROUP_MIN)
  })
})
