import {mkdirSync, mkdtempSync, readFileSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {hasTshark, runCli, tshark} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-dedupe-'))

function tsharkCount(file: string, filter: string): number {
  return tshark(['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length
}

function artifacts(file: string) {
  const r = runCli(['artifacts', '--json', file])
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout)[0] as {frames: number; drCopies: number; spanDuplicates: number; genuine: Record<string, number>}
}

const FLAGS = ['retransmission', 'duplicate_ack', 'out_of_order', 'keep_alive', 'lost_segment', 'ack_lost_segment']

describe.skipIf(!hasTshark())('lvscope dedupe: Wireshark on the output shows only genuine flags', () => {
  for (const sample of ['loss-mysql/director.pcap.gz', 'rs-removed-nodest0-mysql/director.pcap', 'idle-expiry-mysql/director.pcapng']) {
    it(sample, () => {
      const input = `samples/${sample}`
      const a = artifacts(input)
      expect(a.drCopies).toBeGreaterThan(0)
      const out = join(tmp, sample.replace(/\//g, '_').replace(/\.gz$/, ''))
      const r = runCli(['dedupe', input, '-o', out, '--json'])
      expect(r.code).toBe(0)
      const j = JSON.parse(r.stdout)
      expect(j.dropped).toBe(a.drCopies + a.spanDuplicates)
      expect(j.outputs).toEqual([{file: out, frames: a.frames - a.drCopies - a.spanDuplicates}])
      // The container follows the input: pcapng stays pcapng.
      const magic = readFileSync(out).readUInt32LE(0)
      expect(magic === 0x0a0d0d0a).toBe(sample.endsWith('.pcapng'))
      // Every flag tshark raises on the cleaned file is one lvscope called genuine, and none is missing.
      for (const flag of FLAGS) expect(tsharkCount(out, `tcp.analysis.${flag}`), flag).toBe(a.genuine[flag])
    })
  }
})

describe('lvscope dedupe options', () => {
  it('--keep outbound keeps the forwarded copies instead, same count', () => {
    const input = 'samples/idle-expiry-mysql/director.pcapng'
    const a = artifacts(input)
    const out = join(tmp, 'outbound.pcapng')
    const j = JSON.parse(runCli(['dedupe', input, '-o', out, '--keep', 'outbound', '--json']).stdout)
    expect(j.outputs[0].frames).toBe(a.frames - a.drCopies)
    // The not-forwarded trigger of the director's RST has no copy, so it stays either way.
    if (hasTshark()) expect(tsharkCount(out, 'tcp.flags.reset == 1')).toBe(1)
  })

  it('--split-by-real-server writes one file per real server', () => {
    const out = join(tmp, 'split', 'p.pcapng')
    mkdirSync(join(tmp, 'split'))
    const r = runCli(['dedupe', 'samples/persistence-expiry-mysql/director.pcapng', '-o', out, '--split-by-real-server', '--json'])
    expect(r.code).toBe(0)
    const names = readdirSync(join(tmp, 'split')).sort()
    const exp = JSON.parse(readFileSync('samples/persistence-expiry-mysql/expected.json', 'utf8')) as {topology: {realServers: {mac: string}[]}}
    for (const rs of exp.topology.realServers) expect(names).toContain(`p.${rs.mac.replace(/:/g, '-')}.pcapng`)
  })

  it('refuses stdin (it reads the input twice)', () => {
    const r = runCli(['dedupe', '-', '-o', join(tmp, 'x.pcap')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/reads its input twice/)
  })
})
