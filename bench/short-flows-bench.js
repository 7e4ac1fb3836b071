// `npm run bench -- --short-flows [200k,2M,4M]`: peak memory of flows, artifacts and analyze on captures of many
// short connections (bench/short-flows.js: SYN, SYN-ACK, RST each), by number of flows. Memory should follow the
// live flows, so each command's peak RSS should stay flat as the count grows. Needs GNU time (/usr/bin/time).

import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DATA_DIR} from './generate.js'
import {generateShortFlows} from './short-flows.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const CLI = path.join(ROOT, 'bin', 'run.js')
const COMMANDS = [
  ['flows', '--json'],
  ['artifacts', '--json'],
  ['analyze', '--format', 'json'],
]

export function parseCount(s) {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim())
  if (!m) throw new Error(`bad flow count: ${s} (use e.g. 200k, 2M)`)
  return Math.round(Number(m[1]) * {'': 1, k: 1e3, m: 1e6}[m[2].toLowerCase()])
}

function captureFor(n, log) {
  const file = path.join(DATA_DIR, `short-${n}.pcap`)
  const bytes = 24 + n * 3 * 70
  if (fs.existsSync(file) && fs.statSync(file).size === bytes) return file
  log(`generating ${file} …`)
  generateShortFlows({flows: n, out: file})
  return file
}

/** One command under GNU time: wall seconds, peak RSS (KiB), stdout bytes. */
function run(args, timeoutS) {
  const out = path.join(os.tmpdir(), `lvscope-short-${process.pid}.out`)
  const fd = fs.openSync(out, 'w')
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, ...args], {cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', timeout: timeoutS * 1000})
  fs.closeSync(fd)
  const bytes = fs.statSync(out).size
  fs.rmSync(out, {force: true})
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? ''
  const [wall, kib] = last.split(' ').map(Number)
  return {code: r.status, wall, rssKiB: kib, bytes}
}

export async function shortFlowsBench(counts, {timeoutS = 1200, log = (s) => process.stderr.write(`${s}\n`)} = {}) {
  const rows = []
  for (const n of counts) {
    const file = captureFor(n, log)
    for (const [cmd, ...flags] of COMMANDS) {
      log(`${cmd} on ${n} flows …`)
      const m = run([cmd, ...flags, file], timeoutS)
      rows.push({flows: n, command: `${cmd} ${flags.join(' ')}`, ...m})
    }
  }
  const lines = ['| flows | command | exit | wall s | peak RSS MiB | output MB |', '| --- | --- | --- | --- | --- | --- |']
  for (const r of rows) lines.push(`| ${r.flows} | \`${r.command}\` | ${r.code} | ${r.wall?.toFixed(1)} | ${(r.rssKiB / 1024).toFixed(0)} | ${(r.bytes / 1e6).toFixed(1)} |`)
  process.stdout.write(`${lines.join('\n')}\n`)
  fs.writeFileSync(path.join(HERE, 'results-short.json'), `${JSON.stringify({date: new Date().toISOString(), rows}, null, 2)}\n`)
}
