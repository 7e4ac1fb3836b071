/**
 * Cost of the app-layer tracker, measured outside vitest (not a test): nanoseconds per segment on
 * the hot paths and heap bytes per live AppStream (a standalone stream: its own tracker objects and a
 * one-record pool; a connection in the ledger's pool costs only its record, records.ts). Run (from the repo root):
 *
 *   npx tsc --outDir /tmp/app-perf --module nodenext --moduleResolution nodenext --target es2022 \
 *     --types node --skipLibCheck --rootDir . test/decode/app/perf.ts
 *   echo '{"type":"module"}' > /tmp/app-perf/package.json
 *   node --expose-gc /tmp/app-perf/test/decode/app/perf.js [segments|memory|gc]
 *
 * `gc` runs only the 1 M-segment loops; add `--trace-gc` to see whether they collect anything.
 * For a baseline, compile the same file against an older `src/` (`git archive <rev> src`).
 */
import {AppStream, Dir} from '../../../src/decode/app/stream.js'
import {ascii, Conn, cstr, myPacket, myQuery, pgMsg, pgStartup} from './build.js'

const SEGMENTS = Number(process.env.LVS_PERF_SEGMENTS ?? 1_000_000)
const MSS = 1448
/**
 * LVS_PERF_INT_TIME=1: integer times. A fractional time, like a sequence number past 2^30, is a
 * heap number that the *caller* must box for every call it does not inline: this tells that apart
 * from allocations of the tracker itself (with LVS_PERF_SEGMENTS=500000 the sequence numbers stay
 * below 2^30 too).
 */
const INT_TIME = process.env.LVS_PERF_INT_TIME === '1'

function now(): number {
  return Number(process.hrtime.bigint())
}

function gc(): void {
  const g = (globalThis as {gc?: () => void}).gc
  if (!g) throw new Error('run node with --expose-gc')
  for (let i = 0; i < 4; i++) g()
}

const u8 = (b: number[]) => Uint8Array.from(b)
const GREETING = u8(myPacket(0, [0x0a, ...ascii('8.0.36'), 0, 7, 0, 0, 0, ...Array(8).fill(0x41), 0, 0xff, 0xf7, 0x21, 2, 0, 0xff, 0xdf, 21, ...Array(10).fill(0), ...Array(13).fill(0x42), ...cstr('caching_sha2_password')]))
const LOGIN = u8(myPacket(1, [0x0d, 0xa6, 0x03, 0x00, 0, 0, 0, 1, 0x21, ...Array(23).fill(0), ...cstr('app'), 0, ...cstr('shop')]))
const OK = u8(myPacket(2, [0, 0, 0, 2, 0, 0, 0]))
const EOF = (seq: number) => myPacket(seq, [0xfe, 0, 0, 2, 0])
const SELECT = u8(myQuery('SELECT id, payload FROM orders WHERE created > NOW() - INTERVAL 1 DAY'))
const COLUMNS = u8([...myPacket(1, [1]), ...myPacket(2, [3, ...ascii('def'), 0, 0, 0, 1, 0x78, 0, 0x0c, 0x3f, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]), ...EOF(3)])
const ROW_END = u8([...myPacket(4, [2, 0x34, 0x32]), ...EOF(5)])

const PG_STARTUP = u8(pgStartup({user: 'app', database: 'shop', application_name: 'psql'}))
const PG_READY = u8([...pgMsg('R', [0, 0, 0, 0]), ...pgMsg('S', [...cstr('server_version'), ...cstr('16.2')]), ...pgMsg('K', [0, 0, 0x30, 0x39, 1, 2, 3, 4]), ...pgMsg('Z', ascii('I'))])
const PG_SELECT = u8(pgMsg('Q', cstr('SELECT 42')))
const PG_RESULT = u8([...pgMsg('T', [0, 1, ...cstr('x'), 0, 0, 0, 0, 0, 0, 0, 0, 0, 23, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0]), ...pgMsg('D', [0, 1, 0, 0, 0, 2, 0x34, 0x32]), ...pgMsg('C', cstr('SELECT 1')), ...pgMsg('Z', ascii('I'))])
const PG_BLOB = u8(pgMsg('Q', cstr('SELECT blob FROM big')))
/** DataRow header claiming ~2 GB, one column of ~2 GB: what follows is body we never keep. */
const PG_HUGE_ROW = u8([0x44, 0x7f, 0xff, 0xff, 0xff, 0, 1, 0x7f, 0xff, 0xff, 0xf5])

/** A MySQL connection logged in, with SELECT sent and the column definitions answered: rows come next. */
function mysqlInRows(app: AppStream): Conn {
  const c = new Conn(app)
  c.send(Dir.ServerToClient, GREETING)
  c.send(Dir.ClientToServer, LOGIN)
  c.send(Dir.ServerToClient, OK)
  c.send(Dir.ClientToServer, SELECT)
  c.send(Dir.ServerToClient, COLUMNS)
  return c
}

/** One query and its small answer after the login: the common short-lived connection. */
function mysqlOneQuery(app: AppStream): void {
  mysqlInRows(app).send(Dir.ServerToClient, ROW_END)
}

function pgOneQuery(app: AppStream): void {
  const c = new Conn(app)
  c.send(Dir.ClientToServer, PG_STARTUP)
  c.send(Dir.ServerToClient, PG_READY)
  c.send(Dir.ClientToServer, PG_SELECT)
  c.send(Dir.ServerToClient, PG_RESULT)
}

/** Feed `SEGMENTS` server segments cut from `stream` (cycled) after `prefix` put the connection in place. */
function timeSegments(label: string, app: AppStream, c: Conn, stream: Uint8Array): void {
  let seq = c.seq[Dir.ServerToClient]
  let frame = c.frame
  let off = 0
  // warm up on the same connection, then time
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      app.segment(Dir.ServerToClient, stream, off, MSS, seq, ++frame, INT_TIME ? frame : frame * 1e-4)
      seq = (seq + MSS) >>> 0
      off += MSS
      if (off + MSS > stream.length) off = 0
    }
  }
  run(100_000)
  const t0 = now()
  run(SEGMENTS)
  const ns = (now() - t0) / SEGMENTS
  const s = app.snapshot()
  console.log(`${label}: ${ns.toFixed(1)} ns/segment (awaiting=${s.awaiting}, malformed=${s.malformed}, gaps=${s.gaps})`)
}

/** Room for whole rows of `rowBytes` cycling through whole segments: a multiple of both. */
function cycle(rowBytes: number): Uint8Array {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b))
  return new Uint8Array((rowBytes * MSS) / gcd(rowBytes, MSS))
}

/** MySQL text-protocol rows of `rowBytes` (header included), one column each. */
function rowStream(rowBytes: number): Uint8Array {
  const out = cycle(rowBytes)
  for (let i = 0; i < out.length; i += rowBytes) {
    const body = rowBytes - 4
    out[i] = body & 0xff
    out[i + 1] = (body >> 8) & 0xff
    out[i + 2] = body >> 16
    out[i + 3] = 5
    out[i + 4] = body - 1 // lenenc string length of the one column (body - 1 < 251)
    out.fill(0x61, i + 5, i + rowBytes)
  }
  return out
}

/** PostgreSQL DataRows of `rowBytes` (type and length included), one column each. */
function pgRowStream(rowBytes: number): Uint8Array {
  const out = cycle(rowBytes)
  const v = new DataView(out.buffer)
  for (let i = 0; i < out.length; i += rowBytes) {
    out[i] = 0x44
    v.setUint32(i + 1, rowBytes - 1)
    v.setUint16(i + 5, 1)
    v.setUint32(i + 7, rowBytes - 11)
    out.fill(0x61, i + 11, i + rowBytes)
  }
  return out
}

function segments(): void {
  {
    const app = new AppStream(3306)
    timeSegments('mysql rows of 100 B', app, mysqlInRows(app), rowStream(100))
  }
  {
    const app = new AppStream(3306)
    timeSegments('mysql rows of 250 B', app, mysqlInRows(app), rowStream(250))
  }
  {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(Dir.ClientToServer, PG_STARTUP)
    c.send(Dir.ServerToClient, PG_READY)
    c.send(Dir.ClientToServer, PG_BLOB)
    timeSegments('postgres DataRows of 100 B', app, c, pgRowStream(100))
  }
  {
    // One huge DataRow: every segment is the inside of a message whose bytes we do not keep.
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(Dir.ClientToServer, PG_STARTUP)
    c.send(Dir.ServerToClient, PG_READY)
    c.send(Dir.ClientToServer, PG_BLOB)
    c.send(Dir.ServerToClient, PG_HUGE_ROW)
    timeSegments('postgres inside one 2 GB DataRow', app, c, new Uint8Array(MSS * 16))
  }
}

function memory(kind: 'mysql' | 'postgres' | 'idle'): void {
  const N = 20_000
  const keep: AppStream[] = []
  gc()
  const m0 = process.memoryUsage()
  const t0 = now()
  for (let i = 0; i < N; i++) {
    const app = new AppStream(kind === 'postgres' ? 5432 : 3306)
    if (kind === 'mysql') mysqlOneQuery(app)
    else if (kind === 'postgres') pgOneQuery(app)
    keep.push(app)
  }
  const ns = (now() - t0) / N
  gc()
  const m1 = process.memoryUsage()
  const heap = (m1.heapUsed - m0.heapUsed) / N
  const buffers = (m1.arrayBuffers - m0.arrayBuffers) / N
  const s = keep[N - 1].snapshot()
  console.log(
    `${kind} x${N}: heapUsed ${heap.toFixed(0)} B/stream + arrayBuffers ${buffers.toFixed(0)} B/stream = ${(heap + buffers).toFixed(0)} B/stream; ` +
      `${(ns / 1000).toFixed(2)} us/stream to build and feed (incl. the test's Conn); last cmd ${s.lastCommand?.kind ?? '-'}`,
  )
}

function reuse(): void {
  // The ledger's pattern: one AppStream per flow-table slot, reset when the slot is recycled.
  const r = (AppStream.prototype as {reset?: unknown}).reset
  if (typeof r !== 'function') return
  const N = 20_000
  const slots: AppStream[] = []
  for (let i = 0; i < 2000; i++) slots.push(new AppStream(3306))
  const t0 = now()
  for (let i = 0; i < N; i++) {
    const app = slots[i % slots.length] as AppStream & {reset(p: number): void}
    app.reset(3306)
    mysqlOneQuery(app)
  }
  console.log(`mysql reuse via reset(): ${((now() - t0) / N / 1000).toFixed(2)} us/flow (incl. the test's Conn)`)
}

const what = process.argv[2] ?? 'all'
if (what === 'segments' || what === 'gc' || what === 'all') segments()
if (what === 'memory' || what === 'all') {
  memory('idle')
  memory('mysql')
  memory('postgres')
  reuse()
}
