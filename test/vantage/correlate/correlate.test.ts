import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {correlate} from '../../../src/vantage/correlate/index.js'
import type {CorrelationResult} from '../../../src/vantage/correlate/index.js'
import {LvscopeError} from '../../../src/util/errors.js'
import {buildScenario, cleanupScenarios, T0} from './scenario.js'

afterAll(cleanupScenarios)
import type {Scenario, TruthFate} from './scenario.js'

async function run(s: Scenario, extra: Parameters<typeof correlate>[1] = {}): Promise<CorrelationResult> {
  const files = [s.director, s.rs, ...(s.client !== null ? [s.client] : [])]
  return correlate(files.map((file) => ({file})), {threads: false, ...extra})
}

function fatesAt(n: number, list: Array<[number, TruthFate]>): Map<number, TruthFate> {
  const m = new Map<number, TruthFate>()
  for (const [i, f] of list) if (i < n) m.set(i, f)
  return m
}

describe('fates of client packets (director + real server, Ethernet, IPv4)', () => {
  const fates = fatesAt(80, [
    [5, 'lost'],
    [17, 'lost'],
    [33, 'not-forwarded'],
    [34, 'not-forwarded'],
    [50, 'only-rs'],
    [71, 'lost'],
  ])
  const s = buildScenario({flows: 4, perFlow: 20, fates, rsOffset: 2.5})
  const result = run(s)

  it('infers the roles with a reason', async () => {
    const r = await result
    expect(r.captures.map((c) => c.role)).toEqual(['director', 'real-server'])
    expect(r.captures[0].roleReason).toMatch(/DR copies/)
    expect(r.captures[0].macs).toEqual(['02:00:00:00:00:d1'])
    expect(r.captures[1].roleReason).toMatch(/02:00:00:00:00:b1/)
    expect(r.reference).toBe(s.director)
    expect(r.services).toEqual(['10.1.0.100:3306'])
  })

  it('counts every fate exactly', async () => {
    const r = await result
    expect(r.totals.delivered).toBe(s.truth.counts.delivered)
    expect(r.totals.lostOnPath).toBe(3)
    expect(r.totals.notForwarded).toBe(2)
    expect(r.totals.onlyAtRealServer).toBe(1)
    expect(r.totals.unjudged).toBe(0)
  })

  it('lists the notable packets with the proving frame and reference time', async () => {
    const r = await result
    const byFate = (f: string): number[] => r.notable.filter((x) => x.fate === f).map((x) => x.frame).sort((a, b) => a - b)
    expect(byFate('lost-on-path')).toEqual([5, 17, 71].map((i) => s.truth.directorFrame[i].no).sort((a, b) => a - b))
    expect(byFate('not-forwarded')).toEqual([33, 34].map((i) => s.truth.directorFrame[i].no))
    const only = r.notable.find((x) => x.fate === 'only-at-real-server')
    expect(only?.file).toBe(s.rs)
    expect(only?.frame).toBe(s.truth.rsFrame[50]?.no)
    // Reference time of the real-server frame: its own clock minus the 2.5 s offset.
    expect(only?.epoch ?? 0).toBeCloseTo(T0 + (s.truth.rsFrame[50]?.t ?? 0) - 2.5, 3)
    const lost = r.notable.find((x) => x.fate === 'lost-on-path' && x.frame === s.truth.directorFrame[5].no)
    expect(lost?.flow).toEqual({client: s.clientEndpoint(s.truth.flowOf[5]), service: '10.1.0.100:3306'})
    expect(lost?.sightings.map((x) => x.point)).toEqual(['director-in', 'director-out'])
  })

  it('counts per flow', async () => {
    const r = await result
    for (let f = 0; f < 4; f++) {
      const fl = r.flows.find((x) => x.client === s.clientEndpoint(f))
      const mine = (want: TruthFate): number => s.truth.fate.filter((x, i) => x === want && s.truth.flowOf[i] === f).length
      expect(fl).toBeDefined()
      expect(fl?.matched).toBe(mine('delivered'))
      expect(fl?.lostOnPath).toBe(mine('lost'))
      expect(fl?.notForwarded).toBe(mine('not-forwarded'))
      expect(fl?.onlyAtRealServer).toBe(mine('only-rs'))
    }
  })

  it('recovers the applied clock offset within 1 ms', async () => {
    const r = await result
    expect(r.captures[0].clockSource).toBe('reference')
    expect(r.captures[0].clockOffsetSeconds).toBe(0)
    expect(r.captures[1].clockSource).toBe('estimated')
    // The envelope sits on the smallest transit (60 µs in this scenario), never below the offset.
    expect(r.captures[1].clockOffsetSeconds).toBeGreaterThanOrEqual(2.5)
    expect(r.captures[1].clockOffsetSeconds - 2.5).toBeLessThan(0.001)
    expect(r.captures[1].clockPoints).toBe(s.truth.counts.delivered)
  })
})

describe('answers questions asked in advance', () => {
  it('says whether a director frame reached the real server, and when', async () => {
    const s = buildScenario({flows: 2, perFlow: 10, fates: fatesAt(20, [[4, 'lost']]), rsOffset: -1.75})
    const asked = [s.truth.directorFrame[3].no, s.truth.directorFrame[4].no]
    const r = await run(s, {queries: [...asked.map((frame) => ({file: s.director, frame})), {file: s.director, frame: 99999}]})
    const [ok, lost, none] = r.answers
    expect(ok.found).toBe(true)
    expect(ok.fate).toBe('delivered')
    const atRs = ok.sightings.find((x) => x.point === 'real-server-in')
    expect(atRs?.frame).toBe(s.truth.rsFrame[3]?.no)
    expect(atRs?.epoch ?? 0).toBeCloseTo(T0 + (s.truth.rsFrame[3]?.t ?? 0) + 1.75, 3)
    expect(lost.fate).toBe('lost-on-path')
    expect(lost.sightings.some((x) => x.point === 'real-server-in')).toBe(false)
    expect(none).toEqual({file: s.director, frame: 99999, found: false, fate: null, sightings: []})
  })
})

describe('clock drift', () => {
  it('recovers offset and drift over a long capture', async () => {
    // 200 ppm over 120 s: the offset moves by 24 ms, far more than the 1 ms tolerance.
    const s = buildScenario({flows: 3, perFlow: 400, spacing: 0.3, rsOffset: 3.25, rsDriftPpm: 200})
    const r = await run(s)
    const c = r.captures[1]
    expect(c.clockDriftPpm).not.toBeNull()
    expect(Math.abs((c.clockDriftPpm ?? 0) - 200)).toBeLessThan(5)
    // True offset at the time the estimate is given for: t·drift + offset.
    const at = (c.clockOffsetAtEpoch ?? 0) - T0
    const truth = 3.25 + at * 200e-6
    expect(c.clockOffsetSeconds - truth).toBeGreaterThanOrEqual(0)
    expect(c.clockOffsetSeconds - truth).toBeLessThan(0.001)
    expect(r.totals.delivered).toBe(1200)
    expect(r.totals.lostOnPath + r.totals.onlyAtRealServer).toBe(0)
  })
})

describe('IPv6 (no IP ID)', () => {
  it('matches with TCP timestamps and recovers the offset', async () => {
    const s = buildScenario({ipv6: true, flows: 3, perFlow: 15, fates: fatesAt(45, [[7, 'lost'], [20, 'not-forwarded']]), rsOffset: 0.75})
    const r = await run(s)
    expect(r.captures.map((c) => c.role)).toEqual(['director', 'real-server'])
    expect(r.services).toEqual(['[2001:db8::100]:3306'])
    expect(r.totals.delivered).toBe(43)
    expect(r.totals.lostOnPath).toBe(1)
    expect(r.totals.notForwarded).toBe(1)
    expect(r.captures[1].clockOffsetSeconds - 0.75).toBeLessThan(0.001)
    expect(r.captures[1].clockOffsetSeconds - 0.75).toBeGreaterThanOrEqual(0)
  })

  it('pairs identical retransmissions (same fingerprint) with the nearest copy in time', async () => {
    const s = buildScenario({ipv6: true, noTimestamps: true, flows: 2, perFlow: 10, retransmit: new Set([3, 12]), fates: fatesAt(20, [[12, 'lost']])})
    const r = await run(s)
    // 20 packets + 2 retransmissions; packet 12 and its retransmission are both lost.
    expect(r.totals.delivered).toBe(20)
    expect(r.totals.lostOnPath).toBe(2)
    expect(r.totals.duplicates).toBe(0)
  })
})

describe('NAT rewrite', () => {
  it('matches although the destination address and port change', async () => {
    const s = buildScenario({nat: true, flows: 3, perFlow: 12, fates: fatesAt(36, [[14, 'lost']]), rsOffset: 1.5})
    const r = await run(s)
    expect(r.captures.map((c) => c.role)).toEqual(['director', 'real-server'])
    expect(r.services).toContain('10.1.0.100:3306')
    expect(r.services).toContain('10.1.0.11:8306')
    expect(r.totals.delivered).toBe(35)
    expect(r.totals.lostOnPath).toBe(1)
    expect(r.flows.find((f) => f.lostOnPath === 1)?.service).toBe('10.1.0.100:3306')
  })
})

describe('Linux cooked (SLL2) captures', () => {
  it('tells inbound from outbound by packet type at the director and the real server', async () => {
    const s = buildScenario({directorLink: 'sll2', rsLink: 'sll2', flows: 3, perFlow: 12, fates: fatesAt(36, [[2, 'lost'], [30, 'not-forwarded']]), rsOffset: -0.5})
    const r = await run(s)
    expect(r.captures.map((c) => c.role)).toEqual(['director', 'real-server'])
    expect(r.captures[1].roleReason).toMatch(/OUTGOING|leave with/)
    expect(r.totals.delivered).toBe(34)
    expect(r.totals.lostOnPath).toBe(1)
    expect(r.totals.notForwarded).toBe(1)
    expect(Math.abs(r.captures[1].clockOffsetSeconds + 0.5)).toBeLessThan(0.001)
  })

  it('mixes an SLL2 director with an Ethernet real server', async () => {
    const s = buildScenario({directorLink: 'sll2', flows: 2, perFlow: 10, fates: fatesAt(20, [[5, 'lost']])})
    const r = await run(s)
    expect(r.totals.delivered).toBe(19)
    expect(r.totals.lostOnPath).toBe(1)
  })
})

describe('TSO/GRO: frame boundaries differ between the points', () => {
  it('matches by TCP byte ranges when the real server sees merged (GRO) segments', async () => {
    const s = buildScenario({flows: 2, perFlow: 10, gro: new Set([3, 13]), fates: fatesAt(20, [[7, 'lost']])})
    const r = await run(s)
    expect(r.totals.delivered).toBe(19)
    expect(r.totals.byteRangeMatched).toBe(4)
    expect(r.totals.lostOnPath).toBe(1)
    expect(r.totals.onlyAtRealServer).toBe(0)
  })

  it('matches by TCP byte ranges when one forwarded frame arrives as two', async () => {
    const s = buildScenario({flows: 2, perFlow: 10, split: new Set([4, 15])})
    const r = await run(s)
    expect(r.totals.delivered).toBe(20)
    expect(r.totals.byteRangeMatched).toBe(2)
    expect(r.totals.onlyAtRealServer).toBe(0)
    expect(r.totals.lostOnPath).toBe(0)
  })
})

describe('with the client capture', () => {
  it('finds the client, follows replies, and places its clock', async () => {
    const s = buildScenario({client: true, clientOffset: -4, flows: 2, perFlow: 10, replyLost: new Set([6]), rsOffset: 2})
    const r = await run(s)
    expect(r.captures.map((c) => c.role)).toEqual(['director', 'real-server', 'client'])
    expect(r.captures[2].roleReason).toMatch(/sends the requests/)
    expect(r.totals.replyLost).toBe(1)
    expect(r.totals.repliesDelivered).toBe(s.truth.replies - 1)
    expect(r.notable.filter((x) => x.fate === 'reply-lost').map((x) => x.file)).toEqual([s.rs])
    // The client is upstream of the director: its offset is bounded from the other side.
    expect(Math.abs(r.captures[2].clockOffsetSeconds + 4)).toBeLessThan(0.001)
    expect(Math.abs(r.captures[1].clockOffsetSeconds - 2)).toBeLessThan(0.001)
  })
})

describe('overrides and bad input', () => {
  it('applies given roles and clock offsets', async () => {
    const s = buildScenario({flows: 2, perFlow: 8, rsOffset: 2.5})
    const r = await correlate(
      [
        {file: s.director, role: 'director'},
        {file: s.rs, role: 'real-server', clockOffsetSeconds: 2.5},
      ],
      {threads: false},
    )
    expect(r.captures[0].roleReason).toBe('given')
    expect(r.captures[1].clockSource).toBe('flag')
    expect(r.captures[1].clockOffsetSeconds).toBe(2.5)
    expect(r.captures[1].clockOffsetUncertainty).toBe(0)
    expect(r.totals.delivered).toBe(16)
  })

  it('rejects a file that is not a capture with a typed error', async () => {
    const s = buildScenario({flows: 1, perFlow: 4})
    const junk = join(s.dir, 'junk.pcap')
    writeFileSync(junk, 'this is not a capture at all')
    await expect(correlate([{file: s.director}, {file: junk}], {threads: false})).rejects.toBeInstanceOf(LvscopeError)
  })

  it('warns about a truncated capture and still correlates what is there', async () => {
    const s = buildScenario({flows: 2, perFlow: 10})
    const {readFileSync} = await import('node:fs')
    const bytes = readFileSync(s.rs)
    writeFileSync(s.rs, bytes.subarray(0, bytes.length - 7))
    const r = await run(s)
    expect(r.captures[1].warnings.some((w) => w.code === 'truncated' && w.offset > 0)).toBe(true)
    expect(r.totals.delivered).toBeGreaterThan(15)
  })
})
