/**
 * The lab samples (samples/<name>/expected.json, written by samples/lab/record.sh from what the lab
 * did): every capture's role, the clock offsets applied with editcap, and the nft counters of the
 * client frames the directors forwarded, did not forward, and the path dropped.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {correlate} from '../../../src/vantage/correlate/index.js'
import type {Role} from '../../../src/report/report.js'

interface Expected {
  name: string
  captures: {file: string; role: Role; clockOffsetSeconds: number}[]
  topology: {vip: string; services: string[]; directors: {mac: string}[]; realServers: {mac: string}[]}
  clientPackets: {forwarded: number; notForwarded: number; droppedOnPath: number}
}

const ROOT = join(import.meta.dirname, '..', '..', '..', 'samples')
const samples = existsSync(ROOT)
  ? readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'expected.json'))).sort()
  : []

/** Correlation limits the lab's samples show (test/samples/known-mismatch.json `correlation`): held exactly. */
const KNOWN = (JSON.parse(readFileSync(join(import.meta.dirname, '../../samples/known-mismatch.json'), 'utf8')) as {
  correlation: Record<string, {capture: string; lostOnPath: number; onlyAtRealServer: number; why: string}>
}).correlation

describe('lab samples', () => {
  it('has samples to check', () => {
    expect(samples.length).toBeGreaterThan(0)
  })

  for (const name of samples) {
    describe(name, () => {
      const dir = join(ROOT, name)
      const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected
      const result = correlate(exp.captures.map((c) => ({file: join(dir, c.file)})), {threads: false})

      it('infers every role', async () => {
        const r = await result
        expect(r.captures.map((c) => c.role)).toEqual(exp.captures.map((c) => c.role))
      })

      const limit = KNOWN[name]
      it('recovers the applied clock offsets within 1 ms', async () => {
        const r = await result
        const ref = exp.captures.findIndex((c) => join(dir, c.file) === r.reference)
        expect(ref).toBeGreaterThanOrEqual(0)
        r.captures.forEach((c, i) => {
          if (limit && c.file === join(dir, limit.capture)) return expect(c.clockSource).toBe('none')
          const want = exp.captures[i].clockOffsetSeconds - exp.captures[ref].clockOffsetSeconds
          expect(c.clockSource === 'estimated' || c.clockSource === 'reference').toBe(true)
          expect(Math.abs(c.clockOffsetSeconds - want)).toBeLessThan(0.001)
        })
      })

      it('finds the VIP service and the hosts\' MACs', async () => {
        const r = await result
        expect(r.services).toEqual(exp.topology.services)
        const dirMacs = r.captures.filter((c) => c.role === 'director').flatMap((c) => c.macs)
        for (const m of dirMacs) expect(exp.topology.directors.map((d) => d.mac)).toContain(m)
        const rsMacs = r.captures.filter((c) => c.role === 'real-server').flatMap((c) => c.macs)
        for (const m of rsMacs) expect(exp.topology.realServers.map((d) => d.mac)).toContain(m)
      })

      it('accounts for every client frame the directors counted', async () => {
        const r = await result
        const t = r.totals
        expect(t.notForwarded).toBe(exp.clientPackets.notForwarded)
        // Each forwarded frame is delivered, lost, or outside a real-server capture's time span.
        expect(t.delivered + t.lostOnPath + t.unjudged).toBe(exp.clientPackets.forwarded)
        // The lab's loss (nft counter on the bridge, between the directors' and real servers' capture
        // points) is exactly what the captures show lost; every other sample loses nothing.
        // A known limit (test/samples/known-mismatch.json `correlation`) is held exactly, so it cannot rot.
        expect(t.lostOnPath).toBe(exp.clientPackets.droppedOnPath + (limit?.lostOnPath ?? 0))
        expect(r.notable.filter((x) => x.fate === 'lost-on-path').length).toBe(exp.clientPackets.droppedOnPath + (limit?.lostOnPath ?? 0))
        expect(t.onlyAtRealServer).toBe(limit?.onlyAtRealServer ?? 0)
        expect(r.notable.filter((x) => x.fate === 'not-forwarded').length).toBe(exp.clientPackets.notForwarded)
      })
    })
  }
})
