#!/usr/bin/env node
// `npm run bench`: throughput and peak memory of lvscope on a generated director capture, against
// the floor (a bare record walk in Node) and tshark. See bench/README.md for what each row means.
//
// Usage: node bench/run.js [--quick] [--size 1G] [--pair] [--build] [--tshark-mb 64] [--no-tshark]
//                          [--flat-mb 256] [--only row,row] [--timeout-s 1200]

import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {DATA_DIR, parseSize, sizeLabel} from './generate.js'
import {parseCount, shortFlowsBench} from './short-flows-bench.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..')
const NODE = process.execPath
const CLI = path.join(ROOT, 'bin', 'run.js')

// Targets from the issues; `min` is frames/s or a fraction of the floor, `rssMiB` the memory cap.
const TARGETS = {
  readDecodeOfFloor: 0.7,
  flows: 1.5e6,
  artifacts: 1.5e6,
  pair: 1e6,
  rssMiB: 256,
}

// ------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {size: null, quick: false, pair: false, build: false, tsharkMiB: null, tshark: true, flatMiB: null, only: null, timeoutS: 1200, repeat: 1}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    switch (a) {
      case '--quick': o.quick = true; break
      case '--size': o.size = parseSize(v()); break
      case '--pair': o.pair = true; break
      case '--build': o.build = true; break
      case '--tshark-mb': o.tsharkMiB = Number(v()); break
      case '--no-tshark': o.tshark = false; break
      case '--flat-mb': o.flatMiB = Number(v()); break
      case '--only': o.only = new Set(v().split(',')); break
      case '--timeout-s': o.timeoutS = Number(v()); break
      case '--repeat': o.repeat = Math.max(1, Number(v())); break
      // Peak RSS by number of short flows, instead of the throughput rows (short-flows-bench.js).
      case '--short-flows': o.shortFlows = (argv[i + 1] && !argv[i + 1].startsWith('--') ? v() : '200k,2M,4M').split(',').map(parseCount); break
      case '--batch': o.batch = true; break
      case '-h':
      case '--help':
        process.stdout.write('usage: node bench/run.js [--quick] [--size 1G] [--pair] [--build] [--tshark-mb 64] [--no-tshark] [--flat-mb 256] [--only floor,info,read,decode,flows,artifacts,analyze,correlate,report,tshark] [--timeout-s 1200] [--repeat N] [--short-flows 200k,2M,4M]\n')
        process.exit(0)
        break
      default: throw new Error(`unknown option ${a}`)
    }
  }
  if (o.size === null) o.size = o.quick ? parseSize('200M') : parseSize('1G')
  if (o.tsharkMiB === null) o.tsharkMiB = o.quick ? 32 : 64
  // The flatness check compares peak RSS on a prefix with the whole file.
  if (o.flatMiB === null) o.flatMiB = Math.min(256, Math.floor(o.size / 4 / 2 ** 20))
  return o
}

// ------------------------------------------------------------------------------------------------
// Running a child and measuring it

const GNU_TIME = (() => {
  // GNU time reports the child's ru_maxrss (= its VmHWM) exactly; fall back to polling /proc if absent
  // (or when LVSCOPE_BENCH_RSS=poll, to exercise that path).
  if (process.env.LVSCOPE_BENCH_RSS === 'poll') return null
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], {encoding: 'utf8'})
    return r.status === 0 && /^\d+\s*$/m.test(r.stderr) ? '/usr/bin/time' : null
  } catch {
    return null
  }
})()

function vmHwmKiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/**
 * Runs cmd args; returns {code, wall, rssKiB, rssMethod, stdout, stderrTail}. stdout goes to /dev/null
 * unless `capture` (small outputs only).
 */
function measure(cmd, args, {capture = false, timeoutS}) {
  return new Promise((resolve) => {
    const rssFile = path.join(os.tmpdir(), `lvscope-bench-rss-${process.pid}-${Date.now()}`)
    const useTime = GNU_TIME !== null
    const argv = useTime ? ['-f', '%M', '-o', rssFile, cmd, ...args] : args
    const exe = useTime ? GNU_TIME : cmd
    const devnull = fs.openSync('/dev/null', 'w')
    const t0 = process.hrtime.bigint()
    const child = spawn(exe, argv, {cwd: ROOT, stdio: ['ignore', capture ? 'pipe' : devnull, 'pipe']})
    fs.closeSync(devnull)
    let out = ''
    let err = ''
    if (capture) child.stdout.on('data', (d) => { if (out.length < 64 << 20) out += d })
    child.stderr.on('data', (d) => { err = (err + d).slice(-4000) })
    let hwm = 0
    const poll = useTime ? null : setInterval(() => { hwm = Math.max(hwm, vmHwmKiB(child.pid)) }, 20)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutS * 1000)
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9
      clearTimeout(timer)
      if (poll) clearInterval(poll)
      let rssKiB = hwm
      if (useTime) {
        try {
          const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n')
          rssKiB = Number(lines[lines.length - 1]) || 0
          fs.rmSync(rssFile, {force: true})
        } catch {
          rssKiB = 0
        }
      }
      resolve({code: timedOut ? 'timeout' : signal ? signal : code, wall, rssKiB, rssMethod: useTime ? 'GNU time %M' : 'VmHWM poll 20 ms', stdout: out, stderrTail: err})
    })
  })
}

/**
 * Runs a measurement `n` times (a shared 2-core machine is noisy): keeps the fastest run, with the
 * highest peak RSS seen in any run; stops at the first failure.
 */
async function measureBest(n, cmd, args, opts) {
  let best = null
  let rss = 0
  for (let i = 0; i < n; i++) {
    const m = await measure(cmd, args, opts)
    rss = Math.max(rss, m.rssKiB)
    if (m.code !== 0) return {...m, rssKiB: rss}
    if (!best || m.wall < best.wall) best = m
  }
  return {...best, rssKiB: rss}
}

// ------------------------------------------------------------------------------------------------
// Files

function runGenerator(o) {
  const args = [path.join(HERE, 'generate.js'), '--size', sizeLabel(o.size)]
  if (o.pair) args.push('--pair')
  const r = spawnSync(NODE, args, {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  if (r.status !== 0) throw new Error(`generator failed (exit ${r.status})`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

/** Copies the whole records of `src` that fit in `maxBytes` to `dst` (cached beside it). */
function cutPrefix(src, dst, maxBytes) {
  const st = fs.statSync(src)
  const key = JSON.stringify({src, size: st.size, mtimeMs: st.mtimeMs, maxBytes})
  try {
    const meta = JSON.parse(fs.readFileSync(`${dst}.meta.json`, 'utf8'))
    if (meta.key === key && fs.statSync(dst).size === meta.bytes) return meta
  } catch {
    // (re)cut below
  }
  const fin = fs.openSync(src, 'r')
  const fout = fs.openSync(dst, 'w')
  const CH = 4 * 1024 * 1024
  const buf = Buffer.allocUnsafe(CH + 65536 + 16)
  let have = fs.readSync(fin, buf, 0, CH, null)
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d
  let p = 24
  let written = 0
  let frames = 0
  let done = false
  while (!done) {
    while (p + 16 <= have) {
      const len = le ? buf.readUInt32LE(p + 8) : buf.readUInt32BE(p + 8)
      if (p + 16 + len > have) break
      if (written + p + 16 + len > maxBytes) {
        done = true
        break
      }
      p += 16 + len
      frames++
    }
    fs.writeSync(fout, buf, 0, p)
    written += p
    buf.copy(buf, 0, p, have)
    have -= p
    p = 0
    if (done) break
    const n = fs.readSync(fin, buf, have, CH, null)
    if (n === 0) break
    have += n
  }
  fs.closeSync(fin)
  fs.closeSync(fout)
  const meta = {key, bytes: written, frames}
  fs.writeFileSync(`${dst}.meta.json`, JSON.stringify(meta) + '\n')
  return meta
}

// ------------------------------------------------------------------------------------------------
// Rows

const fmt = {
  int: (n) => (n === null || n === undefined ? '' : Math.round(n).toLocaleString('en-US')),
  rate: (n) => (n ? (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`) : ''),
  mb: (n) => (n ? (n / 1e6).toFixed(1) : ''),
  s: (n) => (n ? n.toFixed(2) : ''),
  mib: (kib) => (kib ? (kib / 1024).toFixed(0) : ''),
  ratio: (n) => (n ? (n >= 10 ? `${n.toFixed(0)}×` : `${n.toFixed(2)}×`) : ''),
}

function commandBuilt(name) {
  return fs.existsSync(path.join(ROOT, 'dist', 'commands', `${name}.js`))
}

/** Whether the command's --help mentions a flag (commands are being written as this runs). */
const helpCache = new Map()
function commandHasFlag(name, flag) {
  if (!helpCache.has(name)) {
    const r = spawnSync(NODE, [CLI, name, '--help'], {cwd: ROOT, encoding: 'utf8', timeout: 60_000})
    helpCache.set(name, `${r.stdout}\n${r.stderr}`)
  }
  return helpCache.get(name).includes(flag)
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (o.shortFlows) return shortFlowsBench(o.shortFlows, {timeoutS: o.timeoutS})
  const want = (k) => !o.only || o.only.has(k)
  const rows = []
  const notes = []
  const log = (s) => process.stderr.write(`${s}\n`)
  // The batch bench builds its own multi-GB archive: opt-in, and it runs alone (bench/batch.js).
  if (o.batch) {
    const r = spawnSync(NODE, [path.join(HERE, 'batch.js'), ...(o.repeat > 1 ? ['--repeat', String(o.repeat)] : [])], {cwd: ROOT, stdio: 'inherit'})
    process.exit(r.status ?? 1)
  }

  if (o.build) {
    log('building: npx tsc -p tsconfig.build.json')
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {cwd: ROOT, stdio: 'inherit'})
    if (r.status !== 0) notes.push('build failed: rows use whatever dist/ holds')
  }

  log(`generating (or reusing) a ${sizeLabel(o.size)} director capture${o.pair ? ' + real-server capture' : ''} …`)
  const gen = runGenerator(o)
  log(`  ${gen.reused ? 'reused' : `generated in ${gen.generateSeconds.toFixed(1)} s`}: ${gen.out}`)
  const dirFile = gen.out
  const rsFile = gen.rsOut

  // Warm the page cache so every row reads from memory, not from the disk the generator just wrote.
  const floorRun = async (file) => {
    // Best of 3 runs each with 1 MiB and 4 MiB reads: the floor is the fastest walk we can get.
    const best = {seconds: Infinity}
    for (const mib of [1, 4]) {
      for (let i = 0; i < 3; i++) {
        const m = await measure(NODE, [path.join(HERE, 'child', 'floor.js'), file, String(mib)], {capture: true, timeoutS: o.timeoutS})
        if (m.code !== 0) throw new Error(`floor walk failed on ${file}: ${m.stderrTail}`)
        const j = JSON.parse(m.stdout)
        if (j.seconds < best.seconds) Object.assign(best, j, {wall: m.wall, rssKiB: m.rssKiB, chunkMiB: mib})
      }
    }
    return best
  }

  const files = {director: {path: dirFile, label: `director ${sizeLabel(o.size)}`}}
  if (rsFile) files.rs = {path: rsFile, label: `real server`}
  const flatBytes = o.flatMiB * 2 ** 20
  const prefixFile = path.join(DATA_DIR, `prefix-${o.flatMiB}M-of-${path.basename(dirFile)}`)
  const tsharkFile = path.join(DATA_DIR, `prefix-${o.tsharkMiB}M-of-${path.basename(dirFile)}`)
  if (o.flatMiB > 0) {
    cutPrefix(dirFile, prefixFile, flatBytes)
    files.prefix = {path: prefixFile, label: `first ${o.flatMiB} MiB`}
  }
  cutPrefix(dirFile, tsharkFile, o.tsharkMiB * 2 ** 20)
  files.tshark = {path: tsharkFile, label: `first ${o.tsharkMiB} MiB`}

  // Frame counts and the floor for every file (the floor row reports the main file).
  log('floor (bare record walk, best of 3, also warms the page cache) …')
  for (const f of Object.values(files)) {
    f.bytes = fs.statSync(f.path).size
    f.floor = await floorRun(f.path)
    f.frames = f.floor.frames
  }
  const main = files.director
  const floorRate = main.frames / main.floor.seconds
  let tsharkRate = null
  let tsharkStartup = null

  const addRow = (r) => {
    rows.push(r)
    const rate = r.frames && r.seconds ? `${fmt.rate(r.frames / r.seconds)}frames/s` : r.status
    log(`  ${r.name} [${r.file}]: ${rate}${r.rssKiB ? `, ${fmt.mib(r.rssKiB)} MiB peak RSS` : ''}`)
  }

  addRow({name: 'floor (record walk)', key: 'floor', file: main.label, frames: main.frames, bytes: main.bytes,
    seconds: main.floor.seconds, timing: 'in-process loop', wall: main.floor.wall, rssKiB: main.floor.rssKiB,
    command: `node bench/child/floor.js ${path.relative(ROOT, main.path)} ${main.floor.chunkMiB}`})

  const haveDist = fs.existsSync(path.join(ROOT, 'dist'))
  if (!haveDist) notes.push('dist/ is missing: run `npx tsc -p tsconfig.build.json` (or pass --build) for the lvscope rows')

  // CLI start-up cost, to read the CLI rows' wall times against.
  if (haveDist && fs.existsSync(path.join(ROOT, 'dist', 'commands'))) {
    const m = await measureBest(o.repeat, NODE, [CLI, '--version'], {timeoutS: 60})
    addRow({name: 'CLI start-up (--version)', key: 'startup', file: '-', frames: 0, bytes: 0, seconds: m.wall, timing: 'wall',
      wall: m.wall, rssKiB: m.rssKiB, status: m.code === 0 ? 'ok' : `failed (exit ${m.code})`, command: 'node bin/run.js --version'})
  }

  const cliRow = async (key, name, f, argsFor, opts = {}) => {
    if (!want(key)) return
    const cmdName = argsFor[0]
    const base = {name, key, file: f.label, frames: f.frames, bytes: f.bytes, command: `node bin/run.js ${argsFor.map((a) => (a.startsWith('/') ? path.relative(ROOT, a) : a)).join(' ')}`}
    if (!commandBuilt(cmdName)) {
      addRow({...base, status: 'n/a (command not built yet)'})
      return
    }
    const args = [...argsFor]
    if (opts.json && commandHasFlag(cmdName, '--json')) args.push('--json')
    base.command = `node bin/run.js ${args.map((a) => (a.startsWith('/') ? path.relative(ROOT, a) : a)).join(' ')}${opts.capture ? '' : ' > /dev/null'}`
    const m = await measureBest(o.repeat, NODE, [CLI, ...args], {capture: !!opts.capture, timeoutS: o.timeoutS})
    if (m.code !== 0) {
      addRow({...base, wall: m.wall, rssKiB: m.rssKiB, status: `failed (exit ${m.code}): ${m.stderrTail.trim().split('\n').slice(-1)[0] ?? ''}`.slice(0, 160)})
      return
    }
    const row = {...base, seconds: m.wall, timing: 'wall', wall: m.wall, rssKiB: m.rssKiB, status: 'ok'}
    if (opts.check) opts.check(m, row)
    addRow(row)
  }

  const inProcRow = async (key, name, mode, f) => {
    if (!want(key)) return
    const base = {name, key, file: f.label, frames: f.frames, bytes: f.bytes, command: `node bench/child/decode.js ${mode} ${path.relative(ROOT, f.path)}`}
    const needed = mode === 'decode' ? ['capture/reader.js', 'decode/decode.js', 'decode/packet.js'] : ['capture/reader.js']
    if (!needed.every((m) => fs.existsSync(path.join(ROOT, 'dist', m)))) {
      addRow({...base, status: 'n/a (module not built yet)'})
      return
    }
    const m = await measureBest(o.repeat, NODE, [path.join(HERE, 'child', 'decode.js'), mode, f.path], {capture: true, timeoutS: o.timeoutS})
    if (m.code !== 0) {
      addRow({...base, wall: m.wall, rssKiB: m.rssKiB, status: `failed (exit ${m.code}): ${m.stderrTail.trim().split('\n').slice(-1)[0] ?? ''}`.slice(0, 160)})
      return
    }
    const j = JSON.parse(m.stdout.trim().split('\n').pop())
    const row = {...base, seconds: j.seconds, timing: 'in-process loop', wall: m.wall, rssKiB: m.rssKiB, status: 'ok', detail: j}
    if (j.frames !== f.frames) row.status = `frame count ${j.frames} ≠ floor ${f.frames}`
    addRow(row)
  }

  log('lvscope rows …')
  await cliRow('info', 'info', main, ['info', main.path], {
    json: true,
    capture: true,
    check: (m, row) => {
      try {
        const j = JSON.parse(m.stdout)
        const packets = (Array.isArray(j) ? j[0] : j).packets
        if (packets !== main.frames) row.status = `packets ${packets} ≠ floor ${main.frames}`
      } catch {
        row.status = 'ok (output not JSON)'
      }
    },
  })
  await inProcRow('read', 'read only (readCapture)', 'read', main)
  await inProcRow('decode', 'read+decode', 'decode', main)
  await cliRow('flows', 'flows', main, ['flows', main.path], {json: true})
  await cliRow('artifacts', 'artifacts', main, ['artifacts', main.path], {json: true})

  // Pair commands take the director and the real-server capture.
  for (const [key, name] of [['analyze', 'analyze (pair)'], ['correlate', 'correlate (pair)']]) {
    if (!want(key)) continue
    if (!files.rs) {
      const built = commandBuilt(key)
      addRow({name, key, file: 'pair', status: built ? 'skipped (run with --pair)' : 'n/a (command not built yet)'})
      continue
    }
    const pairF = {label: `director + real server`, frames: main.frames + files.rs.frames, bytes: main.bytes + files.rs.bytes}
    await cliRow(key, name, pairF, [key, main.path, files.rs.path], {json: true})
  }

  // The report stage (evidence re-read + each renderer) against analyze's whole analysis, in one process.
  if (want('report') && files.rs) {
    const base = {name: 'report stage (pair)', key: 'report', file: 'director + real server', frames: 0, bytes: 0,
      command: `node bench/child/report.js ${path.relative(ROOT, main.path)} ${path.relative(ROOT, files.rs.path)}`}
    if (!fs.existsSync(path.join(ROOT, 'dist', 'pipeline', 'analyze.js'))) addRow({...base, status: 'n/a (module not built yet)'})
    else {
      const m = await measureBest(o.repeat, NODE, [path.join(HERE, 'child', 'report.js'), main.path, files.rs.path], {capture: true, timeoutS: o.timeoutS})
      if (m.code !== 0) addRow({...base, wall: m.wall, rssKiB: m.rssKiB, status: `failed (exit ${m.code}): ${m.stderrTail.trim().split('\n').slice(-1)[0] ?? ''}`.slice(0, 160)})
      else {
        const j = JSON.parse(m.stdout.trim().split('\n').pop())
        const r = j.renderSeconds
        const share = `${(100 * j.reportShareOfAnalyze).toFixed(1)} % of analyze's ${j.analyzeSeconds.toFixed(2)} s`
        addRow({...base, seconds: j.reportSeconds, timing: 'in-process', wall: m.wall, rssKiB: m.rssKiB, status: `ok: ${share}`, detail: j})
        notes.push(`report stage: ${j.reportSeconds.toFixed(3)} s = ${share} (evidence re-read ${j.eventsSeconds.toFixed(3)} s, json ${r.json.toFixed(3)}, md ${r.md.toFixed(3)}, html ${r.html.toFixed(3)}, terminal ${r.terminal.toFixed(3)} s; ${j.findings} findings, ${j.correlationFlows} flows)`)
      }
    }
  }

  // Flatness: the same work on a prefix, to see whether peak RSS grows with the file.
  if (files.prefix) {
    await inProcRow('decode', 'read+decode', 'decode', files.prefix)
    await cliRow('flows', 'flows', files.prefix, ['flows', files.prefix.path], {json: true})
  }

  // tshark on a prefix: it is ~100× slower and its memory grows with the file.
  const tsharkVersion = (() => {
    const r = spawnSync('tshark', ['--version'], {encoding: 'utf8'})
    return r.status === 0 ? r.stdout.split('\n')[0] : null
  })()
  if (o.tshark && want('tshark')) {
    const f = files.tshark
    if (!tsharkVersion) {
      addRow({name: 'tshark (TCP analysis)', key: 'tshark', file: f.label, status: 'n/a (tshark not installed)'})
    } else {
      log(`tshark on the first ${o.tsharkMiB} MiB …`)
      // tshark's own start-up (loading every dissector) is a fixed cost worth knowing beside its rate.
      const empty = path.join(DATA_DIR, 'header-only.pcap')
      const hdr = Buffer.alloc(24)
      hdr.writeUInt32LE(0xa1b2c3d4, 0)
      hdr.writeUInt16LE(2, 4)
      hdr.writeUInt16LE(4, 6)
      hdr.writeUInt32LE(262144, 16)
      hdr.writeUInt32LE(1, 20)
      fs.writeFileSync(empty, hdr)
      const su = await measureBest(o.repeat, 'tshark', ['-r', empty, '-q', '-z', 'io,stat,0'], {timeoutS: 120})
      tsharkStartup = su.wall
      addRow({name: 'tshark start-up (header-only file)', key: 'tshark-startup', file: '-', frames: 0, bytes: 0, seconds: su.wall, timing: 'wall',
        wall: su.wall, rssKiB: su.rssKiB, status: su.code === 0 ? 'ok' : `failed (exit ${su.code})`, command: 'tshark -r bench/data/header-only.pcap -q -z io,stat,0'})
      const variants = [
        ['tshark (TCP analysis)', 'tshark', ['-r', f.path, '-q', '-z', 'io,stat,0']],
        ['tshark (no seq analysis)', 'tshark-noseq', ['-r', f.path, '-q', '-o', 'tcp.analyze_sequence_numbers:FALSE', '-z', 'io,stat,0']],
      ]
      for (const [name, key, args] of variants) {
        const m = await measureBest(o.repeat, 'tshark', args, {capture: true, timeoutS: o.timeoutS})
        const row = {name, key, file: f.label, frames: f.frames, bytes: f.bytes, seconds: m.wall, timing: 'wall', wall: m.wall,
          rssKiB: m.rssKiB, status: m.code === 0 ? 'ok' : `failed (exit ${m.code})`, command: `tshark ${args.map((a) => (a.startsWith('/') ? path.relative(ROOT, a) : a)).join(' ')}`}
        // io,stat,0 prints the frame count: check tshark saw every record.
        const mm = /\|\s*[\d.]+\s*<>\s*(?:[\d.]+|Dur)\s*\|\s*(\d+)\s*\|/.exec(m.stdout)
        if (!mm && m.code === 0) row.status = 'ok (frame count not parsed)'
        else if (mm && Number(mm[1]) !== f.frames) row.status = `tshark counted ${mm[1]} frames ≠ ${f.frames}`
        addRow(row)
        if (key === 'tshark' && m.code === 0) tsharkRate = f.frames / m.wall
      }
    }
  }

  // ---- ratios, targets, table ----
  for (const r of rows) {
    if (!r.frames || !r.seconds || !(r.status === undefined || r.status === 'ok' || r.status.startsWith('ok'))) continue
    r.framesPerSec = r.frames / r.seconds
    r.mbPerSec = r.bytes / 1e6 / r.seconds
    r.ofFloor = r.framesPerSec / floorRate
    if (tsharkRate) r.vsTshark = r.framesPerSec / tsharkRate
  }
  const rssOk = (r) => (r.rssKiB ? r.rssKiB / 1024 <= TARGETS.rssMiB : null)
  for (const r of rows) {
    let t = null
    let ok = null
    if (r.key === 'decode' && r.file === main.label) {
      t = `≥ ${TARGETS.readDecodeOfFloor * 100}% of floor`
      ok = r.ofFloor ? r.ofFloor >= TARGETS.readDecodeOfFloor : null
    } else if ((r.key === 'flows' || r.key === 'artifacts') && r.file === main.label) {
      t = `≥ ${TARGETS[r.key] / 1e6} M frames/s`
      ok = r.framesPerSec ? r.framesPerSec >= TARGETS[r.key] : null
    } else if (r.key === 'analyze' || r.key === 'correlate') {
      t = `≥ ${TARGETS.pair / 1e6} M frames/s`
      ok = r.framesPerSec ? r.framesPerSec >= TARGETS.pair : null
    }
    if (['decode', 'flows', 'artifacts', 'analyze', 'correlate', 'read', 'info'].includes(r.key) && r.rssKiB) {
      t = t ? `${t}; RSS ≤ ${TARGETS.rssMiB} MiB` : `RSS ≤ ${TARGETS.rssMiB} MiB`
      const rok = rssOk(r)
      ok = ok === null ? rok : ok && rok
    }
    r.target = t
    r.meets = ok
  }

  const Table = await loadTable()
  const head = ['row', 'file', 'frames', 'time s', 'frames/s', 'MB/s', 'peak RSS MiB', '× floor', '× tshark', 'target', 'met']
  const table = Table ? new Table({head, style: {head: [], border: []}}) : null
  const lines = []
  for (const r of rows) {
    const cells = [
      r.name,
      r.file,
      fmt.int(r.frames || null),
      r.seconds ? `${fmt.s(r.seconds)}${r.timing === 'wall' ? '' : '*'}` : '',
      r.framesPerSec ? fmt.rate(r.framesPerSec) : r.status && r.status !== 'ok' ? r.status : '',
      r.mbPerSec ? r.mbPerSec.toFixed(0) : '',
      fmt.mib(r.rssKiB),
      r.ofFloor ? `${(r.ofFloor * 100).toFixed(r.ofFloor < 0.01 ? 2 : 0)}%` : '',
      fmt.ratio(r.vsTshark),
      r.target ?? '',
      r.meets === null || r.meets === undefined ? '' : r.meets ? 'yes' : 'NO',
    ]
    if (table) table.push(cells)
    else lines.push(cells.join(' | '))
  }
  const out = []
  out.push('')
  out.push(`lvscope bench — ${main.label} (${fmt.int(main.frames)} frames, ${fmt.mb(main.bytes)} MB), node ${process.version}, ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`)
  out.push(table ? table.toString() : [head.join(' | '), ...lines].join('\n'))
  out.push(`* in-process loop time (reported by the child); other times are wall time of the whole process, start-up included.${o.repeat > 1 ? ` Best of ${o.repeat} runs per row (peak RSS: highest of them).` : ''}`)
  out.push(`Peak RSS: ${GNU_TIME ? 'GNU time %M (ru_maxrss of the child)' : 'VmHWM polled every 20 ms from /proc/<pid>/status'}. MB = 10^6 bytes. Page cache warm (floor ran first).`)
  if (tsharkRate) {
    out.push(`tshark ran on the first ${o.tsharkMiB} MiB only (${fmt.int(files.tshark.frames)} frames, cut at a record boundary); × tshark = frames/s ÷ tshark-with-TCP-analysis frames/s.`)
    const t = rows.find((r) => r.key === 'tshark')
    if (tsharkStartup && t && t.wall > tsharkStartup) out.push(`tshark with TCP analysis net of its ${tsharkStartup.toFixed(2)} s start-up: ${fmt.rate(t.frames / (t.wall - tsharkStartup))}frames/s.`)
  }
  const flat = rows.filter((r) => (r.key === 'decode' || r.key === 'flows') && r.rssKiB && r.status === 'ok')
  for (const k of ['decode', 'flows']) {
    const a = flat.find((r) => r.key === k && r.file === files.prefix?.label)
    const b = flat.find((r) => r.key === k && r.file === main.label)
    if (a && b) out.push(`Flatness ${k}: peak RSS ${fmt.mib(a.rssKiB)} MiB on ${a.file} vs ${fmt.mib(b.rssKiB)} MiB on the whole ${sizeLabel(o.size)} (${((b.rssKiB / a.rssKiB - 1) * 100).toFixed(0)}% growth for ${(main.bytes / files.prefix.bytes).toFixed(1)}× the data).`)
  }
  for (const n of notes) out.push(`Note: ${n}`)
  process.stdout.write(out.join('\n') + '\n')

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? null,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    tshark: tsharkVersion,
    rssMethod: GNU_TIME ? 'GNU time %M' : 'VmHWM poll',
    repeat: o.repeat,
    targets: TARGETS,
    files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, {path: path.relative(ROOT, f.path), label: f.label, bytes: f.bytes, frames: f.frames}])),
    generator: {reused: gen.reused, captureSeconds: gen.captureSeconds, stats: gen.stats},
    floorFramesPerSec: floorRate,
    tsharkFramesPerSec: tsharkRate,
    tsharkStartupSeconds: tsharkStartup,
    rows: rows.map(({detail, ...r}) => ({...r, ...(detail ? {detail} : {})})),
    notes,
  }
  fs.writeFileSync(path.join(HERE, 'results.json'), JSON.stringify(results, null, 2) + '\n')
  log(`wrote ${path.relative(ROOT, path.join(HERE, 'results.json'))}`)
}

async function loadTable() {
  try {
    return (await import('cli-table3')).default
  } catch {
    return null
  }
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e}\n`)
  process.exit(1)
})
