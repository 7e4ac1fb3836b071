/**
 * A rotated series read as one capture: a sample's captures split with `editcap -c` (so IPVS entries, flows and
 * the idle gap cross file boundaries) and registered as chains give the report of the unsplit files, frame numbers
 * included, once the chains' names are mapped back to the originals'.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {registerChain} from '../../src/capture/chain.js'
import {readCapture} from '../../src/capture/reader.js'
import {analyzeCaptures, type AnalyzeOptions} from '../../src/pipeline/analyze.js'
import {CaptureSource} from '../../src/vantage/correlate/source.js'
import {REPO_ROOT} from '../helpers/cli.js'

const hasEditcap = spawnSync('editcap', ['-h'], {encoding: 'utf8'}).status === 0

/** Split `file` into pieces of `count` packets with editcap; returns the pieces in order. */
export function splitCapture(file: string, count: number, dir = mkdtempSync(join(tmpdir(), 'lvscope-split-'))): string[] {
  const stem = basename(file).replace(/\.gz$/, '')
  const r = spawnSync('editcap', ['-c', String(count), file, join(dir, stem)], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`editcap failed: ${r.stderr}`)
  const ext = stem.slice(stem.lastIndexOf('.'))
  return readdirSync(dir)
    .filter((n) => n.startsWith(stem.slice(0, -ext.length)))
    .sort()
    .map((n) => join(dir, n))
}

const opts = (timeouts: string): AnalyzeOptions => ({
  roles: new Map(),
  offsets: new Map(),
  timeoutFlags: {timeouts},
  configs: [],
  kernel: '6.1',
  version: 'test',
})

const CASES = [
  {sample: 'idle-expiry-mysql', files: ['director.pcapng', 'rs1.pcap.gz'], timeouts: '6,3,30', per: [7, 6]},
  {sample: 'rs-killed-mysql', files: ['director.pcap', 'rs1.pcapng'], timeouts: '30,3,30', per: [10, 9]},
  {sample: 'failover-unsynced-mysql', files: ['director1.pcap', 'director2.pcapng', 'rs1.pcap.gz'], timeouts: '6,3,30', per: [5, 6, 7]},
]

describe.skipIf(!hasEditcap)('a chain of rotated files reads as the unsplit capture', () => {
  it('numbers records on across members and sums the summary', async () => {
    const orig = join(REPO_ROOT, 'samples/idle-expiry-mysql/director.pcapng')
    const pieces = splitCapture(orig, 10)
    expect(pieces.length).toBe(5)
    registerChain('chain:director', pieces)
    const frames = async (name: string): Promise<string[]> => {
      const out: string[] = []
      const sum = await readCapture(name, (r) => out.push(`${r.frame} ${r.tsSec}.${r.tsNsec} ${r.caplen} ${r.interfaceId}`))
      out.push(`packets ${sum.packets} first ${sum.first?.sec}.${sum.first?.nsec} last ${sum.last?.sec}.${sum.last?.nsec}`)
      return out
    }
    const whole = await frames(orig)
    const chained = await frames('chain:director')
    // Interface ids go on counting across sections; all else is the unsplit file's.
    expect(chained.map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(whole.map((l) => l.split(' ').slice(0, 3).join(' ')))
    expect(chained.at(-1)).toBe(whole.at(-1))
    // The pull source the correlation uses gives the same frames.
    const pulled: number[] = []
    const src = new CaptureSource('chain:director', (r) => pulled.push(r.frame))
    for (;;) {
      const p = src.pump()
      if (!(typeof p === 'boolean' ? p : await p)) break
    }
    expect(src.finish().packets).toBe(49) // capinfos -c samples/idle-expiry-mysql/director.pcapng
    expect(pulled).toEqual(Array.from({length: 49}, (_, i) => i + 1))
  })

  for (const c of CASES) {
    it(`${c.sample}: split report equals the unsplit one`, async () => {
      const originals = c.files.map((f) => join(REPO_ROOT, 'samples', c.sample, f))
      const names = originals.map((f, i) => {
        const name = `chain:${c.sample}/${c.files[i]}`
        const pieces = splitCapture(f, c.per[i])
        expect(pieces.length).toBeGreaterThan(3)
        registerChain(name, pieces)
        return name
      })
      const whole = await analyzeCaptures(originals, opts(c.timeouts))
      const split = await analyzeCaptures(names, opts(c.timeouts))
      let text = JSON.stringify(split.report)
      names.forEach((n, i) => (text = text.split(n).join(originals[i])))
      const a = JSON.parse(text) as typeof whole.report
      expect(a.findings.length).toBe(whole.report.findings.length)
      expect(a).toEqual(whole.report)
    })
  }
})
