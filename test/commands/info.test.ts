import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {buildPcap, PcapngBuilder} from '../helpers/capture-writer.js'
import {REPO_ROOT, hasTshark, runCli, tshark} from '../helpers/cli.js'

import {CORPUS_FILES as CORPUS} from '../helpers/shared.js'
const tmp = mkdtempSync(join(tmpdir(), 'lvscope-info-'))
const ssh = readFileSync(join(CORPUS, 'zeek__tcp__ssh-dups.pcap'))

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, name)
  writeFileSync(p, bytes)
  return p
}

describe('lvscope info', () => {
  it('prints the capinfos-like JSON contract for a real capture', () => {
    const r = runCli(['info', '--json', join(CORPUS, 'zeek__tcp__ssh-dups.pcap')])
    expect(r.code).toBe(0)
    const [j] = JSON.parse(r.stdout)
    // Oracle: manifest.tsv row for this file (tshark 4.0.17): 377 frames, first/last epoch.
    expect(j).toMatchObject({
      format: 'pcap',
      linktypes: ['ETHERNET'],
      packets: 377,
      first: '2019-07-25T20:19:00.628353Z',
      last: '2019-07-25T20:19:05.565740Z',
      warnings: [],
    })
    expect(j.firstEpoch).toBeCloseTo(1564085940.628353, 6)
    expect(j.lastEpoch).toBeCloseTo(1564085945.56574, 6)
  })

  it('reads stdin and gzip, judged by magic bytes', async () => {
    const {gzipSync} = await import('node:zlib')
    const gz = file('ssh.txt', gzipSync(ssh))
    const r1 = runCli(['info', '--json', gz])
    expect(r1.code).toBe(0)
    expect(JSON.parse(r1.stdout)[0]).toMatchObject({compression: 'gzip', packets: 377})
    const r2 = runCli(['info', '--json', '-'], ssh)
    expect(r2.code).toBe(0)
    expect(JSON.parse(r2.stdout)[0]).toMatchObject({packets: 377})
  })

  const cases: [string, Uint8Array | string, number, RegExp][] = [
    ['empty.pcap', new Uint8Array(0), 1, /^lvscope: .*empty\.pcap: empty file \(0 bytes\)$/m],
    ['text.pcap', 'hello world, not a capture\n', 1, /^lvscope: .*text\.pcap: not a pcap or pcapng capture \(starts with 0x68656c6c\)$/m],
    ['header-cut.pcap', ssh.subarray(0, 10), 1, /header-cut\.pcap: truncated pcap file header at byte 0: 24 bytes needed, 10 present$/m],
  ]
  for (const [name, bytes, code, message] of cases) {
    it(`fails cleanly on ${name}`, () => {
      const r = runCli(['info', file(name, bytes)])
      expect(r.code).toBe(code)
      expect(r.stderr).toMatch(message)
      expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    })
  }

  it('keeps what a truncated capture holds, warns with the byte offset, exits 0', () => {
    const r = runCli(['info', '--json', file('cut.pcap', ssh.subarray(0, 1000))])
    expect(r.code).toBe(0)
    const [j] = JSON.parse(r.stdout)
    expect(j.packets).toBe(10)
    expect(j.warnings).toEqual([
      {code: 'truncated', message: expect.stringMatching(/cut\.pcap: truncated record at byte 948: header says 66 bytes, 36 present/), offset: 948},
    ])
  })

  it('exits 1 when a damaged capture yields no packet at all', () => {
    const r = runCli(['info', '--json', file('first-cut.pcap', ssh.subarray(0, 40))])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)[0].packets).toBe(0)
  })

  it('reports a missing file and a bad flag with the right exit codes', () => {
    const missing = runCli(['info', join(tmp, 'nope.pcap')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nope\.pcap: cannot open: ENOENT/)
    const bad = runCli(['info', '--bogus', 'x'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Nonexistent flag: --bogus/)
  })
})

describe('lvscope info on every lab sample agrees with tshark', () => {
  const root = join(REPO_ROOT, 'samples')
  const files = readdirSync(root, {withFileTypes: true})
    .filter((d) => d.isDirectory() && d.name !== 'lab')
    .flatMap((d) => readdirSync(join(root, d.name)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => `samples/${d.name}/${f}`))
  it.skipIf(!hasTshark())(`${files.length} captures: packet count, first and last time to the capture's precision`, () => {
    const r = runCli(['info', '--json', ...files])
    expect(r.code).toBe(0)
    const infos = JSON.parse(r.stdout) as {file: string; packets: number; first: string; last: string; warnings: unknown[]}[]
    expect(infos).toHaveLength(files.length)
    // Exact decimal epoch text from our ISO time (no float on the way), cut to the capture's precision.
    const epochText = (iso: string): string => `${Date.parse(`${iso.slice(0, 19)}Z`) / 1000}.${iso.replace(/^.*\.(\d+)Z$/, '$1')}`
    for (const j of infos) {
      const times = tshark(['-r', join(REPO_ROOT, j.file), '-T', 'fields', '-e', 'frame.time_epoch']).split('\n').filter(Boolean)
      expect(j.packets, j.file).toBe(times.length)
      expect(j.warnings).toEqual([])
      const first = epochText(j.first)
      const last = epochText(j.last)
      expect(times[0].slice(0, first.length), j.file).toBe(first)
      expect(times[times.length - 1].slice(0, last.length), j.file).toBe(last)
    }
  })
})

describe('hostile lengths and unknown link types at the command line', () => {
  const frame = new Uint8Array(60)
  it('a first record whose caplen is beyond 256 KiB: nothing allocated, nothing useful, exit 1', () => {
    const p = file('huge.pcap', buildPcap({}, [{sec: 1, frac: 0, data: frame, caplen: 0x7fffffff}]))
    const r = runCli(['info', '--json', p])
    expect(r.code).toBe(1)
    const [j] = JSON.parse(r.stdout)
    expect(j.packets).toBe(0)
    expect(j.warnings[0].message).toBe(`${p}: record 1 at byte 24: caplen 2147483647 exceeds the maximum of 262144; stopped reading`)
  })

  it('an inconsistent pcapng block after a good one: the good packet, a warning with the offset, exit 0', () => {
    const bytes = new PcapngBuilder().shb().idb({linktype: 1}).epb({iface: 0, ts: 1n, data: frame}).epb({iface: 0, ts: 2n, data: frame}, {trailer: 96}).build()
    const p = file('mismatch.pcapng', bytes)
    const r = runCli(['info', '--json', p])
    expect(r.code).toBe(0)
    const [j] = JSON.parse(r.stdout)
    expect(j.packets).toBe(1)
    expect(j.warnings.map((w: {offset: number; message: string}) => [w.offset, w.message])).toEqual([
      [164, `${p}: block type 0x00000006 at byte 164: trailing length 96 != leading length 92; stopped reading`],
    ])
  })

  it('an unknown link type is counted and skipped, not fatal', () => {
    const p = file('lt147.pcap', buildPcap({linktype: 147}, [{sec: 1, frac: 0, data: frame}, {sec: 2, frac: 0, data: frame}]))
    const info = runCli(['info', '--json', p])
    expect(info.code).toBe(0)
    expect(JSON.parse(info.stdout)[0]).toMatchObject({packets: 2, linktypes: ['LINKTYPE_147']})
    const flows = runCli(['flows', '--json', p])
    expect(flows.code).toBe(0)
    expect(JSON.parse(flows.stdout).flows).toEqual([])
    expect(flows.stderr).toContain(`${p}: 2 frame(s) of link type LINKTYPE_147 (147) not decoded (counted and skipped)`)
  })
})
