/**
 * The batch stages in-process (no CLI spawn): host names, chaining, grouping, the narrowing flags, the manifest,
 * shards, the CSV and the exit code.
 */
import {copyFileSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {buildChains, connectChains, hostOf, shardOfKey} from '../../src/batch/group.js'
import {readManifest} from '../../src/batch/manifest.js'
import {runBatch, type BatchOptions} from '../../src/batch/run.js'
import {exitCodeOf, renderCsv, renderSummary} from '../../src/batch/summary.js'
import {parseInstant, parseService, parseShard} from '../../src/batch/flags.js'
import type {IncidentLine, Probe} from '../../src/batch/types.js'
import {REPO_ROOT} from '../helpers/cli.js'

const S = join(REPO_ROOT, 'samples')

function probe(path: string, first: number, last: number, role: Probe['role'], flows: string[]): Probe {
  return {path, size: 1, mtimeMs: 0, quickHash: '', first, last, packets: 1, linktypes: [1], warnings: [], flows, services: [], role, roleReason: ''}
}

const G = {chainGap: 3600, slack: 30, roles: new Map()}

const base = (inputs: string[], extra: Partial<BatchOptions> = {}): BatchOptions => ({
  inputs,
  flags: {timeouts: '6,3,30'},
  roles: new Map(),
  offsets: new Map(),
  jobs: 1,
  formats: ['json'],
  version: 'test',
  ...extra,
})

const incidents = (r: {lines: unknown[]}): IncidentLine[] => r.lines.filter((l): l is IncidentLine => (l as IncidentLine).schema === 'lvscope/batch-incident@1')

describe('hosts and chains', () => {
  it('names a host by directory and file name without rotation counters', () => {
    expect(hostOf('a/dir1-202612071200.pcap')).toBe('a/dir1')
    expect(hostOf('a/dir1-202612071300.pcap.gz')).toBe('a/dir1')
    expect(hostOf('a/dir1.pcap7')).toBe('a/dir1')
    expect(hostOf('a/director-0_00003_20261121073126.pcapng')).toBe('a/director-0')
    expect(hostOf('a/rs1.pcap')).not.toBe(hostOf('a/rs2.pcap'))
    expect(hostOf('a/rs1.pcap')).not.toBe(hostOf('b/rs1.pcap'))
  })

  it('chains one host’s files in time order, and only while they follow each other', () => {
    const ps = [probe('d/lb-0002.pcap', 100, 200, 'director', []), probe('d/lb-0001.pcap', 0, 99, 'unknown', []), probe('d/lb-0003.pcap', 9000, 9100, 'director', [])]
    const chains = buildChains(ps, G)
    expect(chains.map((c) => c.members.map((m) => m.path))).toEqual([['d/lb-0001.pcap', 'd/lb-0002.pcap'], ['d/lb-0003.pcap']])
    // The unknown piece takes the series' role; the chain is named after its first file.
    expect(chains[0].role).toBe('director')
    expect(chains[0].name).toBe('d/lb-0001.pcap (+1 rotated)')
    // Files of one name that overlap in time are two hosts' captures, never one series.
    const two = buildChains([probe('x/cap-0001.pcap', 0, 100, 'director', []), probe('x/cap-0002.pcap', 50, 150, 'real-server', [])], G)
    expect(two).toHaveLength(2)
  })

  it('groups chains that overlap in time and share a connection', () => {
    const f = '10.0.0.1:40000|10.0.0.100:3306'
    const chains = buildChains(
      [
        probe('a/lb.pcap', 0, 100, 'director', [f]),
        probe('a/rs.pcap', 5, 105, 'real-server', [f]),
        probe('b/lb.pcap', 50, 150, 'director', ['10.0.0.2:1|10.0.0.100:3306']),
        probe('c/rs.pcap', 1000, 1100, 'real-server', [f]),
      ],
      G,
    )
    const groups = connectChains(chains, 30).map((g) => g.map((c) => c.name).sort())
    expect(groups.sort()).toEqual([['a/lb.pcap', 'a/rs.pcap'], ['b/lb.pcap'], ['c/rs.pcap']])
  })

  it('gives each key one stable shard', () => {
    const counts = [0, 0, 0]
    for (let i = 0; i < 300; i++) counts[shardOfKey(`k${i}`, 3)]++
    expect(Math.min(...counts)).toBeGreaterThan(60)
    expect(shardOfKey('abc', 3)).toBe(shardOfKey('abc', 3))
  })
})

describe('flags', () => {
  it('parses times, services and shards, and refuses nonsense', () => {
    expect(parseInstant('since', '1795246300')).toBe(1795246300)
    expect(parseInstant('since', '2026-11-21T07:31:40Z')).toBe(Date.parse('2026-11-21T07:31:40Z') / 1000)
    expect(parseInstant('since', '2026-11-21T07:31:40')).toBe(Date.parse('2026-11-21T07:31:40Z') / 1000)
    expect(parseInstant('until', '2026-11-21T08:31:40+01:00')).toBe(Date.parse('2026-11-21T07:31:40Z') / 1000)
    expect(() => parseInstant('since', 'yesterday')).toThrow(/--since/)
    expect(parseService('10.77.0.100:3306')).toBe('10.77.0.100:3306')
    expect(parseService('[2001:DB8::1]:80')).toBe('[2001:db8::1]:80')
    expect(() => parseService('10.77.0.100')).toThrow(/ip:port/)
    expect(parseShard('2/3')).toEqual({index: 1, count: 3})
    expect(() => parseShard('4/3')).toThrow(/I\/N/)
    expect(() => parseShard('0/3')).toThrow(/I\/N/)
  })

  it('reads a manifest, and refuses unknown flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvscope-manifest-'))
    const m = join(dir, 'm.json')
    writeFileSync(m, JSON.stringify({incidents: [{name: 'x', files: ['a/', '/abs/b.pcap'], flags: {timeouts: '6,3,30', persistence: 30, config: 'k.conf'}}]}))
    expect(readManifest(m)).toEqual([{name: 'x', files: [join(dir, 'a/'), '/abs/b.pcap'], flags: {timeouts: '6,3,30', persistence: 30, config: [join(dir, 'k.conf')]}}])
    writeFileSync(m, JSON.stringify({incidents: [{name: 'x', files: ['a'], flags: {timeout: '6,3,30'}}]}))
    expect(() => readManifest(m)).toThrow(/unknown flag "timeout"/)
    writeFileSync(m, '{"incidents": [{"files": ["a"]}]}')
    expect(() => readManifest(m)).toThrow(/"name"/)
  })
})

describe('runBatch in-process on samples', () => {
  it('--since/--until and --service narrow the work before analysis', async () => {
    const inputs = ['idle-expiry-mysql', 'idle-expiry-pg', 'rs-killed-mysql'].map((s) => join(S, s))
    const all = incidents(await runBatch(base(inputs)))
    expect(all).toHaveLength(3)
    // idle-expiry-mysql ends by 1796685370 (its director's last frame 1796685367.43, the real server's clock 2.5 s
    // ahead), idle-expiry-pg starts at 1796686222.38 (capinfos): a minute after the one, long before the other.
    const late = await runBatch(base(inputs, {since: 1796685430}))
    expect(incidents(late).map((l) => l.name.split(' ')[0].split('/').at(-1)).sort()).toEqual(['idle-expiry-pg', 'rs-killed-mysql'])
    expect(late.skippedByFilter).toBe(2)
    const early = incidents(await runBatch(base(inputs, {until: 1796685400})))
    expect(early).toHaveLength(1)
    const pg = incidents(await runBatch(base(inputs, {service: '10.77.0.100:5432'})))
    expect(pg.map((l) => l.report?.topology.services)).toEqual([['10.77.0.100:5432']])
  })

  it('takes incidents and their flags from a manifest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvscope-manifest-'))
    for (const s of ['rs-killed-mysql', 'idle-expiry-mysql']) {
      mkdirSync(join(dir, s))
      for (const f of ['director.pcap', 'rs1.pcapng', 'director.pcapng', 'rs1.pcap.gz']) {
        try {
          copyFileSync(join(S, s, f), join(dir, s, f))
        } catch {
          // not in this sample
        }
      }
    }
    writeFileSync(
      join(dir, 'incidents.json'),
      JSON.stringify({
        incidents: [
          {name: 'ticket-1', files: ['rs-killed-mysql/'], flags: {timeouts: '30,3,30'}},
          {name: 'ticket-2', files: ['idle-expiry-mysql/*.pcap*']},
        ],
      }),
    )
    const r = incidents(await runBatch(base([], {manifest: join(dir, 'incidents.json')})))
    const byName = new Map(r.map((l) => [l.name, l]))
    expect([...byName.keys()].sort()).toEqual(['ticket-1', 'ticket-2'])
    expect(byName.get('ticket-1')?.report?.timeouts.tcp).toBe(30)
    expect(byName.get('ticket-2')?.report?.timeouts.tcp).toBe(6)
    expect(byName.get('ticket-1')?.report?.findings.map((f) => f.cause).sort()).toEqual(['real-server-abort', 'real-server-no-socket'])
    expect(byName.get('ticket-2')?.report?.findings.map((f) => f.cause)).toEqual(['ipvs-idle-timeout'])
    expect(byName.get('ticket-2')?.files).toHaveLength(2)
  })

  it('escapes file names in the summary and the CSV keeps spreadsheets from running cells', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvscope-names-'))
    writeFileSync(join(dir, 'evil\u001b[2J.pcap'), 'not a capture\n')
    copyFileSync(join(S, 'idle-expiry-pg', 'director.pcap'), join(dir, 'lb.pcap'))
    const r = await runBatch(base([dir]))
    const text = renderSummary(r.lines)
    expect(text).not.toContain('\u001b')
    expect(text).toContain('evil\\x1b[2J.pcap')
    const csv = renderCsv(r.lines)
    expect(csv.split('\r\n')[0]).toBe('incident,name,hosts,files,first,last,findings,byCause,worstCause,worst,error')
    const evil = {...incidents(r)[0], name: '=HYPERLINK("http://x")'}
    expect(renderCsv([evil]).split('\r\n')[1]).toContain(`,"'=HYPERLINK(""http://x"")",`)
    // One incident with a director RST: exit 1 at the default level, 0 with never; 2 when nothing was readable.
    expect(exitCodeOf(r.lines, 'warning', r.readable)).toBe(1)
    expect(exitCodeOf(r.lines, 'never', r.readable)).toBe(0)
    expect(exitCodeOf([], 'warning', false)).toBe(2)
  })
})
