/**
 * Reader throughput (not a test): `npx vitest bench --run test/capture/throughput.bench.ts`.
 * Generates ~200 MB pcap + pcapng (IMIX sizes 64/594/1518 in 7:4:1) in the OS temp dir once, then
 * times: a plain record walk (the floor: sync reads + header hops, nothing else), our reader
 * (readCapture, and CaptureParser over sync reads), and npm pcap-parser. Prints frames/s and MB/s.
 */
import {closeSync, existsSync, openSync, readSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {bench, describe} from 'vitest'
import {newCaptureRecord} from '../../src/capture/record.js'
import {CaptureParser, readCapture} from '../../src/capture/reader.js'
import {PcapngWriter, PcapWriter} from '../../src/capture/writer.js'

const TARGET = 200 * 1024 * 1024
const PCAP = join(tmpdir(), 'lvscope-bench-200m.pcap')
const PCAPNG = join(tmpdir(), 'lvscope-bench-200m.pcapng')

async function generate(): Promise<void> {
  if (existsSync(PCAP) && existsSync(PCAPNG)) return
  const fd = openSync(PCAP, 'w')
  const fd2 = openSync(PCAPNG, 'w')
  const w = new PcapWriter(fd, {linktype: 1, nano: false})
  const w2 = new PcapngWriter(fd2, {nano: true})
  const sizes = [64, 64, 594, 64, 64, 1518, 64, 594, 64, 594, 64, 594]
  const payload = new Uint8Array(1518)
  let x = 1
  for (let i = 0; i < payload.length; i++) payload[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  const rec = newCaptureRecord()
  rec.data = payload
  rec.linktype = 1
  rec.hasTs = true
  let bytes = 24
  for (let i = 0; bytes < TARGET; i++) {
    rec.frame = i + 1
    rec.caplen = rec.origlen = sizes[i % sizes.length]
    rec.tsSec = 1_700_000_000 + Math.floor(i / 10000)
    rec.tsNsec = (i % 10000) * 100_000
    w.write(rec)
    w2.write(rec)
    bytes += 16 + rec.caplen
  }
  await w.end()
  await w2.end()
  closeSync(fd)
  closeSync(fd2)
}

/** Floor: read 4 MiB at a time and hop from record header to record header. */
function plainWalk(path: string): number {
  const fd = openSync(path, 'r')
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024)
  let have = readSync(fd, buf, 0, buf.length, null)
  let p = 24
  let frames = 0
  for (;;) {
    while (p + 16 <= have) {
      const caplen = buf.readUInt32LE(p + 8)
      if (p + 16 + caplen > have) break
      p += 16 + caplen
      frames++
    }
    buf.copy(buf, 0, p, have)
    have -= p
    p = 0
    const n = readSync(fd, buf, have, buf.length - have, null)
    if (n === 0) break
    have += n
  }
  closeSync(fd)
  return frames
}

/** Our parser over the same sync reads (isolates parsing from the async read path). */
function parserSync(path: string): number {
  let sum = 0
  const parser = new CaptureParser(path, (r) => {
    sum += r.caplen
  })
  const fd = openSync(path, 'r')
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024)
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null)
    if (n === 0) break
    parser.push(buf.subarray(0, n))
  }
  closeSync(fd)
  return parser.end().packets + (sum < 0 ? 1 : 0)
}

async function ours(path: string): Promise<number> {
  let sum = 0
  const s = await readCapture(path, (r) => {
    sum += r.caplen
  })
  return s.packets + (sum < 0 ? 1 : 0)
}

const pcapParser = createRequire(import.meta.url)('pcap-parser') as {
  parse(p: string): {on(ev: string, f: (...a: unknown[]) => void): unknown}
}

function theirs(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0
    const p = pcapParser.parse(path) as {on(ev: string, f: (...a: unknown[]) => void): typeof p}
    p.on('packet', () => n++)
      .on('error', (e) => reject(e))
      .on('end', () => resolve(n))
  })
}

function report(name: string, path: string, frames: number, ms: number): void {
  const mb = statSync(path).size / 1e6
  console.log(
    `${name.padEnd(34)} ${frames} frames in ${ms.toFixed(0)} ms: ${((frames / ms) * 1000 / 1e6).toFixed(2)} M frames/s, ${((mb / ms) * 1000).toFixed(0)} MB/s`,
  )
}

async function timed(name: string, path: string, f: () => number | Promise<number>): Promise<void> {
  const t = performance.now()
  const frames = await f()
  report(name, path, frames, performance.now() - t)
}

await generate()

describe('capture reader throughput (~200 MB, IMIX)', () => {
  const opts = {iterations: 3, warmupIterations: 1, time: 0, warmupTime: 0}
  bench('plain record walk (floor)', () => timed('plain record walk (floor)', PCAP, () => plainWalk(PCAP)), opts)
  bench('CaptureParser, sync 4 MiB reads', () => timed('CaptureParser, sync 4 MiB reads', PCAP, () => parserSync(PCAP)), opts)
  bench('readCapture pcap', () => timed('readCapture pcap', PCAP, () => ours(PCAP)), opts)
  bench('readCapture pcapng (ns EPBs)', () => timed('readCapture pcapng (ns EPBs)', PCAPNG, () => ours(PCAPNG)), opts)
  bench('npm pcap-parser 0.2.1', () => timed('npm pcap-parser 0.2.1', PCAP, () => theirs(PCAP)), opts)
})
