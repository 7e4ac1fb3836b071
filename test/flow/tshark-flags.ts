/**
 * Differential harness: tcp.analysis.* per frame from tshark vs. FlowTracker on the same file.
 * Used by tshark-diff.test.ts (and handy from a REPL when investigating a divergence).
 */
import {execFile, execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {readCapture} from '../../src/capture/reader.js'
import {decodeRecord} from '../../src/decode/decode.js'
import {Packet} from '../../src/decode/packet.js'
import {TCP_A_DUPLICATE_ACK, TCP_ANALYSIS_FLAG_NAMES, tsharkFlags} from '../../src/flow/tcp-analysis.js'
import {FlowTracker} from '../../src/flow/tracker.js'
import type {FlowTrackerOptions} from '../../src/flow/tracker.js'

const run = promisify(execFile)

import {CORPUS} from '../helpers/shared.js'

export {CORPUS}

/** tshark and mergecap (same package; the corpus diff batches files with mergecap). */
export function haveTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], {stdio: 'ignore'})
    execFileSync('mergecap', ['-v'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export interface CorpusFile {
  file: string
  /** tshark's frame count (manifest packets_tshark). */
  frames: number
}

/** Corpus files with TCP frames that tshark reads without error (manifest: n_tcp > 0, tshark_rc 0, no stderr). */
export function tcpCorpusFiles(): CorpusFile[] {
  const lines = readFileSync(join(CORPUS, 'manifest.tsv'), 'utf8').split('\n')
  const head = lines[0].split('\t')
  const col = (n: string): number => head.indexOf(n)
  const [cFile, cTcp, cRc, cErr, cN] = ['file', 'n_tcp', 'tshark_rc', 'tshark_error', 'packets_tshark'].map(col)
  const out: CorpusFile[] = []
  for (const line of lines.slice(1)) {
    if (!line) continue
    const f = line.split('\t')
    if (Number(f[cTcp]) > 0 && f[cRc] === '0' && f[cErr] === '') out.push({file: f[cFile], frames: Number(f[cN])})
  }
  return out
}

/** Per-frame flags (tshark counting: fast/spurious include the plain retransmission bit). */
export interface FrameFlags {
  flags: Map<number, number>
  dupNum: Map<number, number>
  frames: number
  /** Our side only: frames the tracker analysed as TCP segments. */
  analysed?: Set<number>
}

const FIELDS = TCP_ANALYSIS_FLAG_NAMES.map(([, n]) => `tcp.analysis.${n}`)

function tsharkArgs(path: string, extra: string[] = []): string[] {
  const args = ['-r', path, ...extra, '-T', 'fields', '-E', 'separator=\t']
  for (const f of ['frame.number', ...FIELDS, 'tcp.analysis.duplicate_ack_num']) args.push('-e', f)
  return args
}

function parseLines(lines: string[]): FrameFlags {
  const flags = new Map<number, number>()
  const dupNum = new Map<number, number>()
  let frames = 0
  for (const line of lines) {
    if (!line) continue
    const cols = line.split('\t')
    const frame = Number(cols[0])
    frames = frame
    let m = 0
    for (let i = 0; i < FIELDS.length; i++) if (cols[1 + i]) m |= TCP_ANALYSIS_FLAG_NAMES[i][0]
    if (m) flags.set(frame, m)
    const dn = cols[1 + FIELDS.length]
    if (dn) dupNum.set(frame, Number(dn.split(',')[0]))
  }
  return {flags, dupNum, frames}
}

/** One tshark run for one file. */
export async function tsharkFrameFlags(path: string): Promise<FrameFlags> {
  const {stdout} = await run('tshark', tsharkArgs(path), {maxBuffer: 1 << 28})
  return parseLines(stdout.split('\n'))
}

/** An Ethernet frame with a local-experimental EtherType: dissected in no time, never TCP. */
function padPcap(count: number): Uint8Array {
  const frame = 14
  const out = new Uint8Array(24 + count * (16 + frame))
  const dv = new DataView(out.buffer)
  dv.setUint32(0, 0xa1b2c3d4, true)
  dv.setUint16(4, 2, true)
  dv.setUint16(6, 4, true)
  dv.setUint32(16, 65535, true)
  dv.setUint32(20, 1, true)
  for (let i = 0; i < count; i++) {
    const o = 24 + i * (16 + frame)
    dv.setUint32(o + 8, frame, true)
    dv.setUint32(o + 12, frame, true)
    dv.setUint16(o + 16 + 12, 0x88b5, false)
  }
  return out
}

/**
 * tshark's start-up (~0.25 s) dwarfs the corpus files, so files are batched: `mergecap -a`
 * concatenates each file followed by padding frames up to a fixed slot of N frames, and
 * `tshark -M N` resets the whole dissection session (conversations, TCP state, frame numbers)
 * every N frames — each file is analysed exactly as if alone. Files in a batch share N (the next
 * power of two above their frame count), so padding at most doubles the frames read.
 */
export async function tsharkBatch(dir: string, files: CorpusFile[], parallel: number): Promise<Map<string, FrameFlags>> {
  const tmp = mkdtempSync(join(tmpdir(), 'lvscope-tshark-'))
  const results = new Map<string, FrameFlags>()
  try {
    const groups = new Map<number, CorpusFile[]>()
    for (const f of files) {
      let n = 16
      while (n < f.frames) n *= 2
      const g = groups.get(n) ?? []
      g.push(f)
      groups.set(n, g)
    }
    const jobs: {n: number; files: CorpusFile[]}[] = []
    for (const [n, g] of groups) {
      // Keep every batch to roughly the same number of frames so the workers stay balanced.
      const per = Math.max(1, Math.floor(32768 / n))
      for (let i = 0; i < g.length; i += per) jobs.push({n, files: g.slice(i, i + per)})
    }
    const pads = new Map<number, string>()
    const pad = (k: number): string => {
      let p = pads.get(k)
      if (!p) {
        p = join(tmp, `pad-${k}.pcap`)
        writeFileSync(p, padPcap(k))
        pads.set(k, p)
      }
      return p
    }
    let jobNo = 0
    await pool(jobs, parallel, async (job) => {
      const merged = join(tmp, `batch-${jobNo++}.pcapng`)
      const inputs: string[] = []
      for (const f of job.files) {
        inputs.push(join(dir, f.file))
        if (job.n > f.frames) inputs.push(pad(job.n - f.frames))
      }
      await run('mergecap', ['-a', '-F', 'pcapng', '-w', merged, ...inputs], {maxBuffer: 1 << 24})
      const {stdout} = await run('tshark', tsharkArgs(merged, ['-M', String(job.n)]), {maxBuffer: 1 << 28})
      const lines = stdout.split('\n').filter((l) => l !== '')
      if (lines.length !== job.n * job.files.length) {
        // Unexpected layout (a file whose frame count differs from the manifest): fall back.
        for (const f of job.files) results.set(f.file, await tsharkFrameFlags(join(dir, f.file)))
        return
      }
      job.files.forEach((f, i) => {
        const part = parseLines(lines.slice(i * job.n, i * job.n + f.frames))
        results.set(f.file, part)
      })
      rmSync(merged, {force: true})
    })
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
  return results
}

export async function ourFrameFlags(path: string, opts: FlowTrackerOptions = {}): Promise<FrameFlags> {
  const pkt = new Packet()
  const tracker = new FlowTracker(opts)
  const flags = new Map<number, number>()
  const dupNum = new Map<number, number>()
  const analysed = new Set<number>()
  let frames = 0
  await readCapture(path, (rec) => {
    frames = rec.frame
    decodeRecord(rec, pkt)
    tracker.observe(rec, pkt)
    const r = tracker.result
    if (r.analysed) analysed.add(rec.frame)
    if (r.flags) flags.set(rec.frame, tsharkFlags(r.flags))
    if (r.flags & TCP_A_DUPLICATE_ACK) dupNum.set(rec.frame, r.dupAckNum)
  })
  return {flags, dupNum, frames, analysed}
}

export interface FileDiff {
  file: string
  /** (frame, flag) pairs tshark set on frames we did not analyse at all (decoder coverage). */
  unseen: number
  /** Per flag name: frames where tshark and we both set it / only tshark / only us. */
  perFlag: Map<string, {both: number; tsharkOnly: number; oursOnly: number}>
  dupNumMismatch: number
  /** First few divergent frames, for the report. */
  examples: string[]
}

export function compare(file: string, ts: FrameFlags, ours: FrameFlags): FileDiff {
  const perFlag = new Map<string, {both: number; tsharkOnly: number; oursOnly: number}>()
  for (const [, n] of TCP_ANALYSIS_FLAG_NAMES) perFlag.set(n, {both: 0, tsharkOnly: 0, oursOnly: 0})
  const examples: string[] = []
  let unseen = 0
  const frames = new Set<number>([...ts.flags.keys(), ...ours.flags.keys()])
  for (const fr of [...frames].sort((a, b) => a - b)) {
    const a = ts.flags.get(fr) ?? 0
    const b = ours.flags.get(fr) ?? 0
    if (ours.analysed && !ours.analysed.has(fr)) {
      for (const [bit] of TCP_ANALYSIS_FLAG_NAMES) if (a & bit) unseen++
    }
    for (const [bit, n] of TCP_ANALYSIS_FLAG_NAMES) {
      const c = perFlag.get(n)!
      if (a & bit && b & bit) c.both++
      else if (a & bit) c.tsharkOnly++
      else if (b & bit) c.oursOnly++
    }
    if (a !== b && examples.length < 5) examples.push(`#${fr} tshark=0x${a.toString(16)} ours=0x${b.toString(16)}`)
  }
  let dupNumMismatch = 0
  for (const [fr, n] of ts.dupNum) {
    const o = ours.dupNum.get(fr)
    if (o !== undefined && o !== n) dupNumMismatch++
  }
  return {file, unseen, perFlag, dupNumMismatch, examples}
}

export function divergent(d: FileDiff): boolean {
  if (d.dupNumMismatch > 0) return true
  for (const c of d.perFlag.values()) if (c.tsharkOnly || c.oursOnly) return true
  return false
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}
