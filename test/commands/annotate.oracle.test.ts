/**
 * lvscope annotate judged by tshark: on every sample, the frames tshark finds by `frame.comment contains
 * "lvscope"` are exactly the report's evidence, the director's copies and the genuine retransmissions; each
 * copy's and retransmission's "#N" is checked against tshark's own fields of frame N; packets, lengths, times and
 * bytes equal the input's; tshark reads the output without complaint; the colouring rules file is applied by
 * `tshark -C PROFILE --color` (rule per frame via frame.coloring_rule.name); info and analyze agree on both files.
 */
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {readCapture} from '../../src/capture/reader.js'
import type {Report} from '../../src/report/report.js'
import {hasTshark, runCli} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-annotate-'))
/** Separates a field's occurrences (comments hold commas). */
const SEP = '\u001e'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env})
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/** tshark's stderr without the notice it prints whenever it runs as root. */
function complaints(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^Running as user "root"/.test(l))
    .join('\n')
}

const FIELDS = ['frame.number', 'frame.time_epoch', 'frame.len', 'ip.src', 'ip.id', 'tcp.stream', 'tcp.seq_raw', 'eth.src', 'eth.dst', 'frame.comment']
type Row = Record<string, string>

function fields(file: string, env?: NodeJS.ProcessEnv, extra: string[] = []): {rows: Row[]; stderr: string} {
  const names = [...FIELDS, ...extra]
  const r = run('tshark', ['-r', file, '-T', 'fields', '-E', `aggregator=${SEP}`, ...names.flatMap((f) => ['-e', f]), ...(env ? ['-C', 'lvscope', '--color'] : [])], env)
  expect(r.code, r.stderr).toBe(0)
  const rows = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [names[i], v])))
  return {rows, stderr: r.stderr}
}

function sampleFlags(dir: string): string[] {
  return (JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {analyzeFlags: string[]}).analyzeFlags
}

function outName(file: string): string {
  return `${basename(file).replace(/\.gz$/, '').replace(/\.(pcapng|pcap)$/, '')}.pcapng`
}

interface Records {
  n: number
  ts: string[]
  bytes: string[]
}

async function records(file: string): Promise<Records> {
  const out: Records = {n: 0, ts: [], bytes: []}
  await readCapture(file, (rec) => {
    out.n++
    out.ts.push(`${rec.tsSec}.${String(rec.tsNsec).padStart(9, '0')}/${rec.origlen}/${rec.linktype}`)
    out.bytes.push(Buffer.from(rec.data.subarray(rec.offset, rec.offset + rec.caplen)).toString('hex'))
  })
  return out
}

/** A Wireshark configuration directory with profile "lvscope" holding `rules` as its colorfilters. */
function wiresharkHome(rules: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmp, 'home-'))
  const profile = join(home, '.config', 'wireshark', 'profiles', 'lvscope')
  mkdirSync(profile, {recursive: true})
  writeFileSync(join(profile, 'colorfilters'), rules)
  return {...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config')}
}

/** The report's JSON with the annotated files' names put back to the inputs'. */
function renamed(json: string, from: string[], to: string[]): unknown {
  let s = json
  from.forEach((f, i) => (s = s.split(JSON.stringify(f).slice(1, -1)).join(JSON.stringify(to[i]).slice(1, -1))))
  return JSON.parse(s)
}

const SAMPLES = readdirSync('samples')
  .filter((d) => !process.env.ANNOTATE_SAMPLE || d === process.env.ANNOTATE_SAMPLE)
  .filter((d) => {
    try {
      return readdirSync(join('samples', d)).includes('expected.json')
    } catch {
      return false
    }
  })
  .sort()

describe.skipIf(!hasTshark())('lvscope annotate, judged by tshark', () => {
  for (const name of SAMPLES) {
    it(name, async () => {
      const dir = join('samples', name)
      const flags = sampleFlags(dir)
      const out = join(tmp, name)
      const rulesFile = join(out, 'colorfilters')
      const a = runCli(['annotate', dir, ...flags, '-o', out, '--coloring-rules', rulesFile])
      expect(a.code, a.stderr).toBe(0)
      const an = runCli(['analyze', dir, ...flags, '--format', 'json'])
      expect(an.code).toBe(0)
      const report = JSON.parse(an.stdout) as Report
      const files = report.captures.map((c) => c.file)
      const art = runCli(['artifacts', '--json', ...files])
      expect(art.code).toBe(0)
      const counts = JSON.parse(art.stdout) as {file: string; frames: number; drCopies: number; spanDuplicates: number; genuineRetransmissions: number}[]
      const env = wiresharkHome(readFileSync(rulesFile, 'utf8'))
      const rules = readFileSync(rulesFile, 'utf8').split('\n').filter((l) => l.startsWith('@')).map((l) => l.split('@')[1])
      const copyRule = rules.find((r) => r.startsWith('lvscope: DR copy'))

      for (const file of files) {
        const annotated = join(out, outName(file))
        const c = counts.find((x) => x.file === file)!
        const before = fields(file).rows
        const {rows: after, stderr} = fields(annotated, env, ['frame.coloring_rule.name'])
        // No malformed block, and the colouring rules compiled: tshark said nothing.
        expect(complaints(stderr), `${annotated}: tshark stderr`).toBe('')
        // Same packets, lengths and times, to the nanosecond.
        expect(after.length).toBe(before.length)
        expect(after.map((r) => `${r['frame.time_epoch']} ${r['frame.len']}`)).toEqual(before.map((r) => `${r['frame.time_epoch']} ${r['frame.len']}`))
        // Same bytes (and exact timestamps, lengths, link types), read back by our reader.
        expect(await records(annotated)).toEqual(await records(file))

        // What lvscope names: the report's evidence in this capture, the copies and the genuine retransmissions.
        const evidence = new Set(report.findings.flatMap((f) => f.evidence.filter((e) => e.file === file).map((e) => e.frame)))
        const listed = run('tshark', ['-r', annotated, '-Y', 'frame.comment contains "lvscope"', '-T', 'fields', '-e', 'frame.number'])
        expect(listed.code).toBe(0)
        const commented = listed.stdout.split('\n').filter(Boolean).map(Number)
        const comments = new Map(after.filter((r) => r['frame.comment'] !== '').map((r) => [Number(r['frame.number']), r['frame.comment'].split(SEP)]))
        expect(commented).toEqual([...comments.keys()])
        const copies: number[] = []
        const retransmissions: number[] = []
        const byNumber = (n: number): Row => before[n - 1]
        for (const [n, list] of comments) {
          for (const text of list) {
            const copy = /^lvscope: DR copy of #(\d+) \(forwarded to ([0-9a-f:.]+)\)$/.exec(text)
            const retrans = /^lvscope: genuine retransmission(?: of #(\d+))?/.exec(text)
            if (copy) {
              copies.push(n)
              // tshark's view of both frames: the same IP packet (source, IP ID, raw sequence number) ...
              const orig = byNumber(Number(copy[1]))
              const me = byNumber(n)
              expect(Number(copy[1])).toBeLessThan(n)
              for (const f of ['ip.src', 'ip.id', 'tcp.seq_raw']) expect(me[f], `${file} #${n} ${f}`).toBe(orig[f])
              // ... sent on by the MAC it was addressed to, to the real server the comment names.
              if (me['eth.dst'] !== '') {
                expect(me['eth.src']).toBe(orig['eth.dst'])
                expect(me['eth.dst']).toBe(copy[2])
              }
            } else if (retrans) {
              retransmissions.push(n)
              if (retrans[1] !== undefined) {
                const orig = byNumber(Number(retrans[1]))
                expect(Number(retrans[1])).toBeLessThan(n)
                expect(byNumber(n)['tcp.stream']).toBe(orig['tcp.stream'])
                expect(byNumber(n)['tcp.seq_raw']).toBe(orig['tcp.seq_raw'])
              }
            } else if (/^lvscope: mirror duplicate of #\d+$/.test(text)) copies.push(n)
            else expect(text, `${file} #${n}`).toMatch(/^lvscope #\d+ (reset|stall|reschedule|failover)[: ]/)
          }
          const isEvidence = list.some((t) => /^lvscope #\d+ /.test(t))
          expect(isEvidence, `${file} #${n}`).toBe(evidence.has(n))
        }
        expect(copies.length).toBe(c.drCopies + c.spanDuplicates)
        expect(retransmissions.length).toBe(c.genuineRetransmissions)
        expect(new Set(commented)).toEqual(new Set([...evidence, ...copies, ...retransmissions]))

        // The colouring rules: each finding's frames get its rule (the first that matches), the other copies grey.
        report.findings.forEach((f, i) => {
          for (const e of f.evidence.filter((x) => x.file === file)) {
            const first = report.findings.findIndex((g) => g.evidence.some((x) => x.file === file && x.frame === e.frame))
            expect(after[e.frame - 1]['frame.coloring_rule.name']).toBe(rules[first])
          }
          expect(rules[i]).toMatch(new RegExp(`^lvscope #${i + 1} ${f.kind}: `))
        })
        for (const n of copies) if (!evidence.has(n)) expect(after[n - 1]['frame.coloring_rule.name']).toBe(copyRule)

        // The capture's own comment: role, clock, version.
        const info = run('capinfos', ['-k', annotated])
        if (info.code === 0) expect(info.stdout).toMatch(/lvscope: role /)
      }

      // Round trip: info and analyze say the same of the annotated files (their names and containers aside).
      const annotatedFiles = files.map((f) => join(out, outName(f)))
      const infoOf = (docs: Record<string, unknown>[]): unknown[] =>
        docs.map((x) => ({
          packets: x.packets,
          first: x.first,
          last: x.last,
          duration: x.durationSeconds,
          linktypes: x.linktypes,
          interfaces: (x.interfaces as {linktype: string; snaplen: number}[]).map((i) => [i.linktype, i.snaplen]),
          warnings: x.warnings,
        }))
      const info = JSON.parse(runCli(['info', '--json', ...files, ...annotatedFiles]).stdout) as Record<string, unknown>[]
      expect(infoOf(info.slice(files.length))).toEqual(infoOf(info.slice(0, files.length)))
      const again = runCli(['analyze', ...annotatedFiles, ...flags, '--format', 'json'])
      expect(again.code, again.stderr).toBe(0)
      expect(renamed(again.stdout, annotatedFiles, files)).toEqual(report)
    }, 120_000)
  }
})

describe.skipIf(!hasTshark())('lvscope annotate: options and refusals', () => {
  const dir = 'samples/idle-expiry-mysql'
  const flags = sampleFlags(dir)

  for (const sample of ['idle-expiry-mysql', 'failover-synced-mysql']) {
    it(`--copies drop on ${sample}: the kept output less the copies that are not evidence, frame for frame`, () => {
      const sdir = join('samples', sample)
      const sflags = sampleFlags(sdir)
      const keep = join(tmp, `keep-${sample}`)
      const drop = join(tmp, `drop-${sample}`)
      expect(runCli(['annotate', sdir, ...sflags, '-o', keep]).code).toBe(0)
      const r = runCli(['annotate', sdir, ...sflags, '-o', drop, '--copies', 'drop'])
      expect(r.code, r.stderr).toBe(0)
      let dropped = 0
      for (const name of readdirSync(keep).filter((f) => f.endsWith('.pcapng'))) {
        const kept = fields(join(keep, name)).rows
        const {rows, stderr} = fields(join(drop, name))
        expect(complaints(stderr)).toBe('')
        const copy = (x: Row): boolean => /lvscope: (DR copy|mirror duplicate)/.test(x['frame.comment']) && !x['frame.comment'].includes('lvscope #')
        const expected = kept.filter((x) => !copy(x))
        dropped += kept.length - expected.length
        const key = (x: Row): string => `${x['frame.time_epoch']} ${x['frame.len']} ${x['ip.id']} ${x['frame.comment']}`
        expect(rows.map(key)).toEqual(expected.map(key))
      }
      expect(dropped).toBeGreaterThan(0)
    })
  }

  it('a broken colouring rule is reported by tshark (so the clean runs above did read the file)', () => {
    const out = join(tmp, 'broken')
    const rules = join(out, 'colorfilters')
    expect(runCli(['annotate', dir, ...flags, '-o', out, '--coloring-rules', rules]).code).toBe(0)
    const env = wiresharkHome(`${readFileSync(rules, 'utf8')}@lvscope broken@frame.comment contains &&@[0,0,0][65535,65535,65535]\n`)
    const r = run('tshark', ['-r', join(out, 'director.pcapng'), '-C', 'lvscope', '--color', '-c', '1'], env)
    expect(r.code).toBe(0)
    expect(complaints(r.stderr)).toMatch(/Could not compile "lvscope broken" in colorfilters file/)
  })

  it('refuses to write over an input, and names an unwritable directory', () => {
    const src = join(tmp, 'inplace')
    mkdirSync(src)
    copyFileSync(`${dir}/director.pcapng`, join(src, 'director.pcapng'))
    const r = runCli(['annotate', join(src, 'director.pcapng'), ...flags, '-o', src])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/is one of the inputs/)
    expect(readFileSync(join(src, 'director.pcapng'))).toEqual(readFileSync(`${dir}/director.pcapng`))
    const file = join(tmp, 'not-a-dir')
    writeFileSync(file, '')
    const u = runCli(['annotate', `${dir}/director.pcapng`, ...flags, '-o', join(file, 'sub')])
    expect(u.code).toBe(1)
    expect(u.stderr).toMatch(/^lvscope: .*cannot create the output directory: (ENOTDIR|EEXIST)/)
    expect(u.stderr).not.toMatch(/\n\s+at /)
  })

  it('inputs of equal names get distinct outputs', () => {
    const out = join(tmp, 'twins')
    const r = runCli(['annotate', `${dir}/rs1.pcap.gz`, 'samples/idle-expiry-pg/rs1.pcap', ...flags, '-o', out])
    expect(r.code, r.stderr).toBe(0)
    expect(readdirSync(out).filter((f) => !f.startsWith('.')).sort()).toEqual(['rs1-2.pcapng', 'rs1.pcapng'])
  })
})
