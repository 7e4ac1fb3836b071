/**
 * Closed flows leave the table (flow/tracker.ts `releaseClosed`): memory follows live flows on a capture of many
 * short connections, and a released flow's summary is the one it would have had staying to the end.
 */
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {generateShortFlows} from '../../bench/short-flows.js'
import {flowJson} from '../../src/commands/flows.js'
import {decodeCapture} from '../../src/decode/stream.js'
import {FlowTracker, type FlowSummary, type FlowTrackerOptions} from '../../src/flow/tracker.js'
import {REPO_ROOT} from '../helpers/cli.js'
import {A, Driver, F, R, S} from './builder.js'

const SAMPLES = join(REPO_ROOT, 'samples')
const CAPTURES = readdirSync(SAMPLES, {withFileTypes: true})
  .filter((d) => d.isDirectory() && d.name !== 'lab')
  .flatMap((d) => readdirSync(join(SAMPLES, d.name)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(SAMPLES, d.name, f)))

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-release-'))
afterAll(() => rmSync(tmp, {recursive: true, force: true}))

/** `n` health-check connections, one every 100 µs from its own port: SYN, SYN-ACK, client RST. */
function shortFlows(opts: FlowTrackerOptions, n: number): {d: Driver; evicted: number; maxLive: number} {
  let evicted = 0
  const d = new Driver({...opts, onEvict: () => evicted++})
  let maxLive = 0
  for (let i = 0; i < n; i++) {
    const ep = {client: 0x0ac80001 + Math.floor(i / 60000), server: 0x0a01000b, cport: 1024 + (i % 60000), sport: 80}
    const t = i * 0.1
    d.tcp({from: 'c', seq: 1000, flags: S, t}, ep)
    d.tcp({from: 's', seq: 5000, ack: 1001, flags: S | A, t: t + 0.04}, ep)
    d.tcp({from: 'c', seq: 1001, flags: R, t: t + 0.09}, ep)
    if (d.tracker.liveFlows > maxLive) maxLive = d.tracker.liveFlows
  }
  return {d, evicted, maxLive}
}

async function rows(file: string, opts: FlowTrackerOptions): Promise<string[]> {
  const out: string[] = []
  const t = new FlowTracker({...opts, onEvict: (f: FlowSummary) => out.push(JSON.stringify(flowJson(f)))})
  await decodeCapture(file, (rec, pkt) => {
    t.observe(rec, pkt)
  })
  t.flush()
  return out.sort()
}

describe('closed flows are released', () => {
  it('200 k sequential short flows keep the table under 70 k slots (all 200 k without release)', () => {
    const on = shortFlows({}, 200_000)
    // 5 s of grace at 10,000 flows/s plus the 8,192 held: about 58 k, whatever the number of flows.
    expect(on.d.tracker.slotsAllocated).toBeLessThan(70_000)
    expect(on.maxLive).toBeLessThan(70_000)
    expect(on.evicted).toBeGreaterThan(130_000)
    const off = shortFlows({releaseClosed: false}, 200_000)
    expect(off.d.tracker.slotsAllocated).toBe(200_000)
    expect(off.evicted).toBe(0)
  })

  it('a FIN each way closes a flow; a FIN one way does not', () => {
    const d = new Driver({closedHold: 0, closeGraceSec: 1, closeMinFrames: 0})
    const a = {client: 1, server: 2, cport: 1000, sport: 80}
    const b = {client: 1, server: 2, cport: 1001, sport: 80}
    d.tcp({from: 'c', seq: 1, flags: S, t: 0}, a)
    d.tcp({from: 's', seq: 9, ack: 2, flags: S | A, t: 1}, a)
    d.tcp({from: 'c', seq: 2, ack: 10, flags: F | A, t: 2}, a)
    d.tcp({from: 's', seq: 10, ack: 3, flags: F | A, t: 3}, a)
    d.tcp({from: 'c', seq: 1, flags: S, t: 4}, b)
    d.tcp({from: 'c', seq: 2, flags: F | A, t: 5}, b)
    // 2 s later (past the 1 s grace) a frame on another flow runs the release.
    d.tcp({from: 'c', seq: 1, flags: S, t: 2005}, {client: 3, server: 2, cport: 1, sport: 80})
    expect(d.tracker.flows().map((f) => f.orig.port)).toEqual([1001, 1])
  })

  it('frames within the grace stay on the closed flow; a frame after it starts a new one', () => {
    const d = new Driver({closedHold: 0, closeGraceSec: 5, closeMinFrames: 0})
    const ep = {client: 1, server: 2, cport: 1000, sport: 80}
    const first = d.tcp({from: 'c', seq: 1, flags: S, t: 0}, ep).id
    d.tcp({from: 'c', seq: 2, flags: R, t: 1}, ep)
    expect(d.tcp({from: 's', seq: 9, ack: 2, flags: A, t: 4000}, ep).id).toBe(first)
    // 5 s after the flow's last frame, not after the RST (in whole capture seconds, as the idle sweep counts).
    expect(d.tcp({from: 'c', seq: 2, flags: R, t: 8000}, ep).id).toBe(first)
    expect(d.tcp({from: 's', seq: 9, ack: 2, flags: A, t: 13_000}, ep).id).toBe(first)
    expect(d.tcp({from: 's', seq: 9, ack: 2, flags: A, t: 19_000}, ep).id).not.toBe(first)
  })

  for (const file of CAPTURES) {
    it(`rows equal the rows without release: ${file.slice(SAMPLES.length + 1)}`, async () => {
      expect(await rows(file, {closedHold: 0})).toEqual(await rows(file, {releaseClosed: false}))
    })
  }

  it('rows equal the rows without release on a generated capture of 30 k short flows', async () => {
    const file = join(tmp, 'short.pcap')
    generateShortFlows({flows: 30_000, out: file, rate: 1000})
    const released = await rows(file, {closedHold: 0})
    expect(released).toHaveLength(30_000)
    expect(released).toEqual(await rows(file, {releaseClosed: false}))
  })
})
