#!/usr/bin/env node
// Batch bench: builds (once) an archive from bench/generate.js — several incidents, each a director capture and
// its real-server capture, both rotated into files of --rotate bytes, every incident shifted to its own day — then
// times `lvscope batch` over it with --jobs 1 and --jobs 2 and prints throughput, peak RSS and the ratio.
//
// Usage: node bench/batch.js [--incidents 4] [--size 1G] [--rotate 256M] [--flows N] [--repeat 1] [--keep-going]
// The default archive is 4 × (1 GiB director + ~1.3 GiB real server) ≈ 9 GiB in bench/data/batch-<label>/.
// Peak RSS is the whole process's (GNU time %M): with --jobs 1 that is one worker plus the main thread.
import {execFileSync, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DATA_DIR, GENERATOR_VERSION, parseSize, sizeLabel} from './generate.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.join(HERE, '..')

function args(argv) {
  const o = {incidents: 4, size: parseSize('1G'), rotate: parseSize('256M'), flows: undefined, repeat: 1}
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i]
    switch (argv[i]) {
      case '--incidents': o.incidents = Number(v()); break
      case '--size': o.size = parseSize(v()); break
      case '--rotate': o.rotate = parseSize(v()); break
      case '--flows': o.flows = Number(v()); break
      case '--repeat': o.repeat = Number(v()); break
      default: throw new Error(`unknown option ${argv[i]}`)
    }
  }
  return o
}

/**
 * Copy a classic µs pcap into rotated files of about `rotate` bytes at record boundaries (what tcpdump -C does),
 * adding `shiftSec` to every timestamp so each incident sits on its own day. Returns the files written.
 */
function rotate(src, dstPrefix, rotate, shiftSec) {
  const fd = fs.openSync(src, 'r')
  const header = Buffer.alloc(24)
  fs.readSync(fd, header, 0, 24, 0)
  const bufSize = 8 * 1024 * 1024
  let buf = Buffer.alloc(bufSize)
  let have = 0
  let pos = 24
  let out = -1
  let written = 0
  let part = 0
  const files = []
  const next = () => {
    if (out >= 0) fs.closeSync(out)
    const f = `${dstPrefix}-${String(++part).padStart(4, '0')}.pcap`
    out = fs.openSync(f, 'w')
    fs.writeSync(out, header)
    written = 24
    files.push(f)
  }
  next()
  for (;;) {
    const n = fs.readSync(fd, buf, have, buf.length - have, pos)
    pos += n
    have += n
    let off = 0
    while (have - off >= 16) {
      const caplen = buf.readUInt32LE(off + 8)
      if (have - off < 16 + caplen) break
      buf.writeUInt32LE(buf.readUInt32LE(off) + shiftSec, off)
      if (written + 16 + caplen > rotate) next()
      fs.writeSync(out, buf, off, 16 + caplen)
      written += 16 + caplen
      off += 16 + caplen
    }
    buf.copy(buf, 0, off, have)
    have -= off
    if (n === 0) break
  }
  fs.closeSync(out)
  fs.closeSync(fd)
  return files
}

function build(o) {
  const dir = path.join(DATA_DIR, `batch-v${GENERATOR_VERSION}-${o.incidents}x${sizeLabel(o.size)}-r${sizeLabel(o.rotate)}${o.flows ? `-f${o.flows}` : ''}`)
  const done = path.join(dir, '.complete')
  if (fs.existsSync(done)) return dir
  fs.rmSync(dir, {recursive: true, force: true})
  fs.mkdirSync(dir, {recursive: true})
  const tmp = path.join(dir, '.tmp')
  fs.mkdirSync(tmp)
  for (let k = 0; k < o.incidents; k++) {
    const d = path.join(tmp, 'director.pcap')
    const r = path.join(tmp, 'rs.pcap')
    const gen = ['bench/generate.js', '--size', String(o.size), '--seed', String(1000 + k), '--out', d, '--rs-out', r, '--force', '--quiet']
    if (o.flows) gen.push('--flows', String(o.flows))
    execFileSync(process.execPath, gen, {cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit']})
    const inc = path.join(dir, `site-${k + 1}`)
    fs.mkdirSync(path.join(inc, 'lb1'), {recursive: true})
    fs.mkdirSync(path.join(inc, 'rs'), {recursive: true})
    const shift = k * 86400
    const files = [...rotate(d, path.join(inc, 'lb1', 'lb1'), o.rotate, shift), ...rotate(r, path.join(inc, 'rs', 'rs'), o.rotate, shift)]
    process.stderr.write(`incident ${k + 1}: ${files.length} files\n`)
  }
  fs.rmSync(tmp, {recursive: true, force: true})
  fs.writeFileSync(done, '')
  return dir
}

function du(dir) {
  let n = 0
  for (const e of fs.readdirSync(dir, {withFileTypes: true, recursive: true})) if (e.isFile()) n += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size
  return n
}

function runBatch(dir, jobs) {
  const out = path.join(DATA_DIR, `batch-jobs${jobs}.ndjson`)
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', process.execPath, path.join(ROOT, 'bin/run.js'), 'batch', dir, '--jobs', String(jobs), '--quiet', '--fail-on', 'never', '--ndjson', out], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`batch failed (${r.status}): ${r.stderr}`)
  const [secs, kib, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number)
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  const incidents = lines.filter((l) => l.schema === 'lvscope/batch-incident@1')
  const frames = incidents.reduce((n, l) => n + (l.report?.captures ?? []).reduce((k, c) => k + c.packets, 0), 0)
  return {secs, cpu: user + sys, rssMiB: kib / 1024, incidents: incidents.length, frames}
}

const o = args(process.argv.slice(2))
const dir = build(o)
const bytes = du(dir)
console.log(`archive ${dir}: ${(bytes / 1024 ** 3).toFixed(2)} GiB`)
const best = {}
for (let i = 0; i < o.repeat; i++) {
  for (const jobs of [1, 2]) {
    const r = runBatch(dir, jobs)
    console.log(`run ${i + 1} --jobs ${jobs}: ${r.secs.toFixed(1)} s, ${r.incidents} incidents, ${(r.frames / r.secs / 1e6).toFixed(2)} M frames/s, ${(bytes / 1024 ** 2 / r.secs).toFixed(0)} MiB/s, CPU ${r.cpu.toFixed(1)} s (user+sys), peak RSS ${r.rssMiB.toFixed(0)} MiB; load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`)
    if (!best[jobs] || r.secs < best[jobs].secs) best[jobs] = r
  }
}
const b1 = best[1]
const b2 = best[2]
console.log(
  JSON.stringify({
    bytes,
    incidents: b1.incidents,
    frames: b1.frames,
    jobs1: {seconds: b1.secs, cpuSeconds: b1.cpu, framesPerSec: Math.round(b1.frames / b1.secs), peakRssMiB: Math.round(b1.rssMiB)},
    jobs2: {seconds: b2.secs, cpuSeconds: b2.cpu, framesPerSec: Math.round(b2.frames / b2.secs), peakRssMiB: Math.round(b2.rssMiB), perWorkerMiB: Math.round(b2.rssMiB / 2)},
    ratio: Math.round((b1.secs / b2.secs) * 100) / 100,
  }),
)
