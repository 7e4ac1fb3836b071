import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {Packet} from '../../src/decode/packet.js'
import {FlowTable} from '../../src/flow/table.js'
import type {FlowSummary} from '../../src/flow/tracker.js'
import {A, Driver, S} from './builder.js'

interface Key {
  v6: boolean
  proto: number
  src: number
  dst: number
  sport: number
  dport: number
}

function load(p: Packet, k: Key): Packet {
  p.reset(new Uint8Array(0))
  p.proto = k.proto
  p.sport = k.sport
  p.dport = k.dport
  if (k.v6) {
    p.ipVersion = 6
    p.v6Src.set([0x20010db8, 0, 0, k.src])
    p.v6Dst.set([0x20010db8, 0, 0, k.dst])
  } else {
    p.ipVersion = 4
    p.v4Src = k.src
    p.v4Dst = k.dst
  }
  return p
}

/** Direction-independent model key. */
function norm(k: Key): string {
  const a = `${k.src}:${k.sport}`
  const b = `${k.dst}:${k.dport}`
  return `${k.v6}/${k.proto}/${a < b ? a + '-' + b : b + '-' + a}`
}

const keyArb = fc.record({
  v6: fc.boolean(),
  proto: fc.constantFrom(6, 17),
  src: fc.constantFrom(1, 2, 0xc0a80001, 0xffffffff),
  dst: fc.constantFrom(1, 2, 0xc0a80001, 0xffffffff),
  sport: fc.constantFrom(80, 40000, 65535),
  dport: fc.constantFrom(80, 40000, 65535),
})

describe('FlowTable', () => {
  it('behaves like a map keyed by the unordered 4-tuple (+ version, protocol) under insert/remove', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'del'), keyArb), {maxLength: 300}), (ops) => {
        const t = new FlowTable(4) // tiny: forces slot growth and rehashing
        const p = new Packet()
        const model = new Map<string, number>()
        for (const [op, k] of ops) {
          const found = t.find(load(p, k))
          expect(found).toBe(model.get(norm(k)) ?? -1)
          if (op === 'add' && found < 0) model.set(norm(k), t.insert(p))
          if (op === 'del' && found >= 0) {
            t.remove(found)
            model.delete(norm(k))
          }
          // The reverse direction finds the same flow.
          const rev = {...k, src: k.dst, dst: k.src, sport: k.dport, dport: k.sport}
          expect(t.find(load(p, rev))).toBe(model.get(norm(k)) ?? -1)
        }
        expect(t.size).toBe(model.size)
      }),
      {numRuns: 300},
    )
  })

  it('keeps every key, both directions, across slot growth and rehashing (IPv4 and IPv6)', () => {
    const t = new FlowTable(16)
    const p = new Packet()
    const N = 5000 // several times the store's first allocation
    const keys: Key[] = []
    for (let i = 0; i < N; i++) {
      // Distinct 4-tuples; the high bits and ports ≥ 32768 exercise the unsigned handling.
      keys.push({v6: i % 3 === 0, proto: i % 2 ? 6 : 17, src: (0xc0000000 + i * 7919) >>> 0, dst: 0xfffffff0, sport: 30000 + (i % 35000), dport: 443})
    }
    const slots = keys.map((k) => {
      expect(t.find(load(p, k))).toBe(-1)
      return t.insert(p)
    })
    expect(new Set(slots).size).toBe(N)
    expect(t.size).toBe(N)
    for (let i = 0; i < N; i++) {
      const k = keys[i]
      const rev = {...k, src: k.dst, dst: k.src, sport: k.dport, dport: k.sport}
      expect(t.find(load(p, rev))).toBe(slots[i])
      // dst (0xfffffff0) is the greater address: the destination is flow1.
      expect(t.dir).toBe(0)
      expect(t.ipVersion(slots[i])).toBe(k.v6 ? 6 : 4)
      expect(t.protocol(slots[i])).toBe(k.proto)
      expect(t.port(slots[i], 0)).toBe(k.dport)
      expect(t.port(slots[i], 1)).toBe(k.sport)
      if (k.v6) expect([...t.addrWords(slots[i], 1)]).toEqual([0x20010db8, 0, 0, k.src])
      else expect(t.addrV4(slots[i], 1)).toBe(k.src)
    }
    for (let i = 0; i < N; i += 2) t.remove(slots[i])
    expect(t.size).toBe(N / 2)
    for (let i = 0; i < N; i++) expect(t.find(load(p, keys[i]))).toBe(i % 2 ? slots[i] : -1)
    // Freed slots are reused before new ones, latest freed first.
    expect(t.find(load(p, keys[0]))).toBe(-1)
    expect(t.insert(p)).toBe(slots[N - 2])
  })

  it("assigns Wireshark's direction: greater source address (then port) is flow1", () => {
    const t = new FlowTable()
    const p = new Packet()
    t.find(load(p, {v6: false, proto: 6, src: 0x0a000002, dst: 0x0a000001, sport: 1, dport: 2}))
    expect(t.dir).toBe(0)
    t.find(load(p, {v6: false, proto: 6, src: 0x0a000001, dst: 0x0a000002, sport: 1, dport: 2}))
    expect(t.dir).toBe(1)
    t.find(load(p, {v6: false, proto: 6, src: 5, dst: 5, sport: 9, dport: 2}))
    expect(t.dir).toBe(0)
    t.find(load(p, {v6: false, proto: 6, src: 5, dst: 5, sport: 2, dport: 9}))
    expect(t.dir).toBe(1)
  })
})

describe('FlowTracker eviction', () => {
  it('hands idle flows to the callback and keeps memory flat over many short connections', () => {
    const evicted: FlowSummary[] = []
    const d = new Driver({idleTimeoutSec: 10, idleMinFrames: 100, onEvict: (f) => evicted.push(f)})
    let peak = 0
    const N = 5000
    for (let i = 0; i < N; i++) {
      // One connection per 100 ms, each on its own client port; 3 frames each.
      const ep = {...d.ep, cport: 1024 + i}
      const t = i * 100
      d.tcp({from: 'c', seq: 1000, flags: S, t}, ep)
      d.tcp({from: 's', seq: 5000, ack: 1001, flags: S | A, t: t + 1}, ep)
      d.tcp({from: 'c', seq: 1001, ack: 5001, t: t + 2}, ep)
      peak = Math.max(peak, d.tracker.liveFlows)
    }
    // Live flows stay near what 10 s (+ a sweep interval) of traffic holds, not N.
    expect(peak).toBeLessThan(200)
    d.tracker.flush()
    expect(d.tracker.liveFlows).toBe(0)
    expect(evicted).toHaveLength(N)
    expect(new Set(evicted.map((f) => f.id)).size).toBe(N)
    expect(evicted.filter((f) => f.reason === 'idle').length).toBeGreaterThan(N - 200)
    expect(evicted.every((f) => f.history === 'ShA' && f.state === 'S1')).toBe(true)
  })

  it('does not evict on time alone: a bogus far-future timestamp keeps flows of a small capture', () => {
    const evicted: FlowSummary[] = []
    const d = new Driver({onEvict: (f) => evicted.push(f)})
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 'c', seq: 2000, flags: S, t: 0}, {...d.ep, cport: 5})
    d.tcp({from: 'c', seq: 1000, flags: S, t: 3e9}, {...d.ep, cport: 6})
    expect(d.tcp({from: 'c', seq: 1000, flags: S, t: 10}).flags).toBe(0x0001)
    expect(evicted).toHaveLength(0)
  })

  it('idleTimeoutSec 0 never evicts', () => {
    const d = new Driver({idleTimeoutSec: 0, idleMinFrames: 0})
    for (let i = 0; i < 100; i++) d.tcp({from: 'c', seq: 1, flags: S, t: i * 1e6}, {...d.ep, cport: 2000 + i})
    expect(d.tracker.liveFlows).toBe(100)
  })
})
