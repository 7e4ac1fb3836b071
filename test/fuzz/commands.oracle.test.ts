/**
 * Every command over mutated sample captures, within a time budget: a seeded mutator cuts captures in the middle
 * of a record, flips bytes, splices blocks and plants terminal sequences (and bidi characters) in packet bytes and
 * file names. Whatever it makes, no command may exit 70, print a stack trace or let a raw control or bidi
 * character reach stdout or stderr, and a capture cut mid-record must be reported with the byte offset of the cut.
 * LVSCOPE_FUZZ_SECONDS sets the budget (default 45), LVSCOPE_FUZZ_SEED the seed.
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'

import {afterAll, describe, expect, it} from 'vitest'

import {escapeTerminal} from '../../src/util/escape.js'
import {REPO_ROOT, type CliResult} from '../helpers/cli.js'

/** The commands of dist/, run many times in one process (driver.js): no start-up cost per run. */
class Driver {
  private readonly child = spawn(process.execPath, [join(REPO_ROOT, 'test/fuzz/driver.js')], {cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: {...process.env, NO_COLOR: '1'}})
  private buffered = ''
  private waiting: ((line: string) => void) | null = null
  private exited: string | null = null

  constructor() {
    this.child.stdout.setEncoding('utf8')
    this.child.stdout.on('data', (d: string) => {
      this.buffered += d
      const i = this.buffered.indexOf('\n')
      if (i >= 0 && this.waiting) {
        const line = this.buffered.slice(0, i)
        this.buffered = this.buffered.slice(i + 1)
        const w = this.waiting
        this.waiting = null
        w(line)
      }
    })
    this.child.on('exit', (code, signal) => {
      this.exited = `driver exited (${code ?? signal})`
      this.waiting?.(JSON.stringify({code: -1, stdout: '', stderr: this.exited}))
    })
  }

  run(args: string[]): Promise<CliResult> {
    if (this.exited) return Promise.resolve({code: -1, stdout: '', stderr: this.exited})
    return new Promise((resolve) => {
      this.waiting = (line) => resolve(JSON.parse(line) as CliResult)
      this.child.stdin.write(`${JSON.stringify(args)}\n`)
    })
  }

  close(): void {
    this.child.stdin.end()
  }
}

const BUDGET_MS = Number(process.env.LVSCOPE_FUZZ_SECONDS ?? 45) * 1000
const SEED = Number(process.env.LVSCOPE_FUZZ_SEED ?? 19)

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
const BIDI = /[\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/
/**
 * Bidi and invisible characters are planted only once the terminal escaper neutralises them (issue 19 item 5,
 * another branch): until then every output would carry them by design of the old escaper.
 */
const ESCAPES_BIDI = escapeTerminal('\u202e') !== '\u202e'
const HOSTILE = [
  Buffer.from('\u001b]0;pwned\u0007\u001b[2J', 'utf8'),
  Buffer.from([0x9b, 0x33, 0x31, 0x6d, 0x0d, 0x08, 0x7f]),
  ...(ESCAPES_BIDI ? [Buffer.from('select \u202egnp.exe\u202c, \u2066x\u2069 \u200b\ufeff', 'utf8')] : []),
]

/** mulberry32: small, seeded, the same sequence on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Start offset and length of every record (pcap) or block (pcapng) after the file header. */
function units(b: Buffer): {start: number; len: number}[] {
  const out: {start: number; len: number}[] = []
  const magic = b.readUInt32LE(0)
  if (magic === 0x0a0d0d0a) {
    const le = b.readUInt32LE(8) === 0x1a2b3c4d
    for (let p = 0; p + 12 <= b.length; ) {
      const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4)
      if (len < 12 || p + len > b.length) break
      if (p > 0) out.push({start: p, len})
      p += len
    }
    return out
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d
  for (let p = 24; p + 16 <= b.length; ) {
    const len = 16 + (le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8))
    if (p + len > b.length) break
    out.push({start: p, len})
    p += len
  }
  return out
}

interface Mutant {
  name: string
  bytes: Buffer
  /** Set when the capture was cut inside a record: the warning must name a byte offset. */
  cut: boolean
}

function mutate(src: Buffer, r: () => number, n: number): Mutant {
  const pick = (k: number): number => Math.floor(r() * k)
  const recs = units(src)
  const kind = n % 4
  if (kind === 0 && recs.length > 1) {
    // Cut inside a record after the first, so something was read before the damage.
    const u = recs[1 + pick(recs.length - 1)]
    return {name: 'cut', bytes: Buffer.from(src.subarray(0, u.start + 1 + pick(u.len - 1))), cut: true}
  }
  const b = Buffer.from(src)
  if (kind === 1) {
    for (let i = 1 + pick(8); i > 0; i--) b[24 + pick(b.length - 24)] = pick(256)
    return {name: 'flip', bytes: b, cut: false}
  }
  if (kind === 2 && recs.length > 2) {
    // Duplicate one unit in place of another: lengths stay consistent, content does not.
    const a = recs[pick(recs.length)]
    const at = recs[pick(recs.length)]
    return {name: 'splice', bytes: Buffer.concat([b.subarray(0, at.start), b.subarray(a.start, a.start + a.len), b.subarray(at.start)]), cut: false}
  }
  // Plant a hostile sequence in the packet bytes of a record (past its header, inside its data).
  const u = recs[pick(recs.length)] ?? {start: 24, len: b.length - 24}
  const seq = HOSTILE[pick(HOSTILE.length)]
  const at = Math.min(b.length - seq.length, u.start + Math.min(u.len - 1, 28 + pick(Math.max(1, u.len - 28))))
  if (at > 24) seq.copy(b, at)
  return {name: 'plant', bytes: b, cut: false}
}

const dir = mkdtempSync(join(tmpdir(), 'lvscope-fuzz-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Every sample incident: its folder and its capture files, decompressed for mutation. */
function incidents(): {name: string; captures: {file: string; bytes: Buffer}[]}[] {
  const root = join(REPO_ROOT, 'samples')
  return readdirSync(root, {withFileTypes: true})
    .filter((d) => d.isDirectory() && d.name !== 'lab')
    .map((d) => ({
      name: d.name,
      captures: readdirSync(join(root, d.name))
        .filter((f) => /\.(pcap|pcapng)(\.gz)?$/.test(f))
        .map((f) => {
          const raw = readFileSync(join(root, d.name, f))
          return {file: f, bytes: f.endsWith('.gz') ? gunzipSync(raw) : raw}
        }),
    }))
}

describe('fuzz: every command over mutated samples', () => {
  it(`holds within ${BUDGET_MS / 1000} s (seed ${SEED})`, async () => {
    const driver = new Driver()
    const r = rng(SEED)
    const all = incidents()
    const start = Date.now()
    const ran = new Map<string, number>()
    let mutants = 0
    let cuts = 0
    // At least one round of every mutation kind, then as many more as the budget allows.
    for (let n = 0; n < 4 || Date.now() - start < BUDGET_MS; n++) {
      const inc = all[n % all.length]
      const cap = inc.captures[Math.floor(r() * inc.captures.length)]
      const m = mutate(cap.bytes, r, n)
      const folder = join(dir, `${n}`)
      mkdirSync(folder)
      // Half the mutants carry a hostile file name; some are gzipped as the samples are.
      const evil = n % 2 === 1 ? '\u001b]0;x\u0007\u001b[2J' + (ESCAPES_BIDI ? '\u202e' : '') : ''
      const gz = n % 3 === 0
      const path = join(folder, `${evil}${m.name}-${basename(cap.file, '.gz')}${gz ? '.gz' : ''}`)
      writeFileSync(path, gz ? gzipSync(m.bytes) : m.bytes)
      const others = inc.captures.filter((c) => c !== cap).map((c) => {
        const p = join(folder, c.file.replace(/\.gz$/, ''))
        writeFileSync(p, c.bytes)
        return p
      })
      mutants++
      if (m.cut) cuts++
      const runs: string[][] = [
        ['info', path],
        ['flows', path],
        ['artifacts', path],
        ['dedupe', path, '-o', join(folder, 'clean.pcapng')],
        ['correlate', path, ...others],
        ['analyze', path, ...others],
      ]
      for (const args of runs) {
        const res = await driver.run(args)
        const what = `${args[0]} on mutant ${n} (${m.name} of ${inc.name}/${cap.file}): exit ${res.code}\n${res.stderr}`
        ran.set(args[0], (ran.get(args[0]) ?? 0) + 1)
        expect([0, 1], what).toContain(res.code)
        expect(res.stderr, what).not.toMatch(/internal error|\n\s+at |TypeError|RangeError/)
        expect(res.stderr, what).not.toMatch(CONTROL)
        expect(res.stdout, what).not.toMatch(CONTROL)
        expect(res.stderr, what).not.toMatch(BIDI)
        expect(res.stdout, what).not.toMatch(BIDI)
        if (m.cut && res.code === 0) expect(res.stderr, what).toMatch(/warning: .*(at|from) byte \d+/)
        if (m.cut && res.code === 1) expect(res.stderr, what).toMatch(/byte \d+|truncated|no packet/)
      }
      rmSync(folder, {recursive: true, force: true})
    }
    driver.close()
    console.log(`fuzz: ${mutants} mutants (${cuts} cut mid-record), ${[...ran.values()].reduce((a, b) => a + b, 0)} runs in ${((Date.now() - start) / 1000).toFixed(1)} s; bidi planted: ${ESCAPES_BIDI}`)
    expect(cuts).toBeGreaterThan(0)
    expect([...ran.keys()].sort()).toEqual(['analyze', 'artifacts', 'correlate', 'dedupe', 'flows', 'info'])
  }, 180_000)
})
