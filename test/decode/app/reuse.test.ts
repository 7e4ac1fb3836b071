/**
 * The cheap-per-flow machinery: `reset()` must make a used stream indistinguishable from a new
 * one, buffers must not exist before they are needed, and the shortcuts (skipping the inside of a
 * message, keeping only the bytes a message handler reads, the shared scratch) must not change
 * what is decoded however TCP cut the bytes.
 */
import fc from 'fast-check'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {describe, expect, it} from 'vitest'
import {AppRecords, BYTES, WORDS} from '../../../src/decode/app/records.js'
import {AppConnections, AppStream, Dir} from '../../../src/decode/app/stream.js'
import {ascii, Conn, cstr, myErr, myPacket, myQuery, pgError, pgMsg, pgStartup} from './build.js'

const C = Dir.ClientToServer
const S = Dir.ServerToClient

type Msg = [Dir, Uint8Array]

// ---- message generators: well-formed framing, contents from real layouts and random bytes ----

const bytes = (max: number) => fc.uint8Array({maxLength: max})
/** A body far larger than anything kept, cheap to generate. */
const big = fc.tuple(fc.integer({min: 600, max: 40_000}), fc.integer({min: 0, max: 255})).map(([n, b]) => new Uint8Array(n).fill(b))
const sql = fc.string({maxLength: 300})
const u8 = (a: number[]) => Uint8Array.from(a)

const MY_GREETING = u8(myPacket(0, [0x0a, ...ascii('8.0.36'), 0, 9, 0, 0, 0, ...Array(8).fill(0x41), 0, 0xff, 0xf7, 0x21, 2, 0, 0xff, 0xdf, 21, ...Array(10).fill(0), ...Array(13).fill(0x42), 0]))
const MY_LOGIN = u8(myPacket(1, [0x0d, 0xa6, 0x03, 0x00, 0, 0, 0, 1, 0x21, ...Array(23).fill(0), ...cstr('app'), 0, ...cstr('shop')]))

const myServer: fc.Arbitrary<Msg> = fc.oneof(
  fc.constantFrom<number[]>([0, 0, 0, 2, 0, 0, 0], [0, 0, 0, 8, 0, 0, 0], [0xfe, 0, 0, 2, 0], [0xfe, 0, 0, 8, 0], [1], [2], [0xfb]),
  fc.tuple(fc.integer({min: 1, max: 9}), fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 3})).map(([id, cols, params]) => [0, id, 0, 0, 0, cols, 0, params, 0, 0, 0, 0]),
  fc.tuple(fc.integer({min: 1000, max: 1300}), sql).map(([code, m]) => myErr(1, code, '42S02', m).slice(4)),
  fc.tuple(fc.integer({min: 0, max: 250}), bytes(300)).map(([l, b]) => [l, ...b]),
  bytes(600).map((b) => [...b]),
  big.map((b) => [...b]),
).chain((body) => fc.integer({min: 0, max: 9}).map((seq): Msg => [S, u8(myPacket(seq, body))]))

const myClient: fc.Arbitrary<Msg> = fc.oneof(
  sql.map((q): Msg => [C, u8(myQuery(q))]),
  sql.map((q): Msg => [C, u8(myPacket(0, [0x16, ...ascii(q)]))]),
  fc.integer({min: 1, max: 9}).map((id): Msg => [C, u8(myPacket(0, [0x17, id, 0, 0, 0, 0, 1, 0, 0, 0]))]),
  fc.constantFrom<Msg>([C, u8(myPacket(0, [0x0e]))], [C, u8(myPacket(0, [0x02, ...ascii('db2')]))], [C, MY_LOGIN]),
  big.map((b): Msg => [C, u8(myPacket(0, [0x03, ...b]))]),
  fc.tuple(fc.integer({min: 0, max: 3}), bytes(400)).map(([seq, b]): Msg => [C, u8(myPacket(seq, b))]),
)

const PG_TYPES_FRONT = 'BCDEFHPQScdfp'
const PG_TYPES_BACK = 'RKSZECTDIN1'
const pgServer: fc.Arbitrary<Msg> = fc.oneof(
  fc.constantFrom<Msg>([S, u8(pgMsg('Z', ascii('I')))], [S, u8(pgMsg('K', [0, 0, 0x30, 0x39, 1, 2, 3, 4]))], [S, u8(pgMsg('S', [...cstr('server_version'), ...cstr('16.2')]))]),
  fc.tuple(fc.constantFrom('ERROR', 'FATAL'), sql).map(([sev, m]): Msg => [S, u8(pgError({S: sev, V: sev, C: '42P01', M: m}))]),
  fc.tuple(fc.constantFrom(...PG_TYPES_BACK), fc.oneof(bytes(600), big)).map(([t, b]): Msg => [S, u8(pgMsg(t, [...b]))]),
)
const pgClient: fc.Arbitrary<Msg> = fc.oneof(
  sql.map((q): Msg => [C, u8(pgMsg('Q', cstr(q)))]),
  fc.tuple(fc.constantFrom('', 's1', 's2'), sql).map(([n, q]): Msg => [C, u8(pgMsg('P', [...cstr(n), ...cstr(q), 0, 0]))]),
  fc.constantFrom('', 's1', 's2').map((n): Msg => [C, u8(pgMsg('B', [...cstr(''), ...cstr(n), 0, 0, 0, 0, 0, 0]))]),
  fc.constantFrom<Msg>([C, u8(pgMsg('E', [0, 0, 0, 0, 0]))], [C, u8(pgMsg('S', []))]),
  fc.tuple(fc.constantFrom(...PG_TYPES_FRONT), fc.oneof(bytes(600), big)).map(([t, b]): Msg => [C, u8(pgMsg(t, [...b]))]),
)

/** A conversation that starts with its greeting / startup, then well-framed messages both ways. */
const conversation: fc.Arbitrary<{port: number; msgs: Msg[]}> = fc.oneof(
  fc.array(fc.oneof(myServer, myClient), {maxLength: 25}).map((m) => ({port: 3306, msgs: [[S, MY_GREETING] as Msg, ...m]})),
  fc
    .array(fc.oneof(pgServer, pgClient), {maxLength: 25})
    .map((m) => ({port: 5432, msgs: [[C, u8(pgStartup({user: 'app', database: 'shop'}))] as Msg, ...m]})),
)

/** Raw segments that need not make sense: gaps, retransmissions, garbage, other protocols. */
const garbage = fc.record({
  port: fc.constantFrom(3306, 5432, 6432, 80),
  syn: fc.boolean(),
  segs: fc.array(fc.record({dir: fc.constantFrom(C, S), bytes: bytes(300), jump: fc.integer({min: -400, max: 400})}), {maxLength: 20}),
})

function feedGarbage(app: AppStream, g: {syn: boolean; segs: {dir: Dir; bytes: Uint8Array; jump: number}[]}, snaps?: unknown[]): void {
  const next = [100, 9000]
  if (g.syn) {
    app.syn(C, 99)
    app.syn(S, 8999)
  }
  let frame = 0
  for (const s of g.segs) {
    const seq = (next[s.dir] + (s.jump % 3 === 0 ? s.jump : 0)) >>> 0
    app.segment(s.dir, s.bytes, 0, s.bytes.length, seq, ++frame, frame)
    next[s.dir] = (seq + s.bytes.length) >>> 0
    snaps?.push(app.snapshot())
  }
}

/**
 * Feed the messages, each cut into pieces of `mss` bytes, all pieces of message k with frame k and
 * time k; the first (greeting / startup, what detection looks at) always whole.
 */
function feedConversation(app: AppStream, msgs: Msg[], mss: number, snaps?: unknown[], between?: () => void): void {
  const c = new Conn(app)
  msgs.forEach(([dir, b], k) => {
    const step = k === 0 ? b.length : mss
    for (let o = 0; o < b.length; o += step) {
      c.frame = k - 1 // send() pre-increments the frame and adds dt to the time
      c.time = k
      c.send(dir, b.subarray(o, Math.min(b.length, o + step)), 0)
      between?.()
    }
    snaps?.push(app.snapshot())
  })
}

/** Another connection, busy in both directions between our segments (as in a real capture). */
function decoy(): () => void {
  const app = new AppStream(3306)
  const c = new Conn(app)
  c.send(S, MY_GREETING)
  c.send(C, MY_LOGIN)
  c.send(S, myPacket(2, [0, 0, 0, 2, 0, 0, 0]))
  const q = u8(myQuery(`SELECT '${'decoy '.repeat(80)}'`))
  const e = u8(myErr(1, 1051, '42S02', `Unknown table '${'decoy'.repeat(80)}'`))
  return () => {
    c.send(C, q)
    c.send(S, e)
  }
}

describe('reset()', () => {
  it('a used stream, reset, decodes anything exactly like a new one (snapshot after every segment)', () => {
    const history = fc.oneof(
      conversation.map((c) => ({kind: 'conv' as const, ...c})),
      garbage.map((g) => ({kind: 'garbage' as const, ...g})),
    )
    fc.assert(
      fc.property(fc.array(history, {minLength: 1, maxLength: 3}), history, fc.constantFrom(1, 5, 1448, 1 << 20), (before, after, mss) => {
        const reused = new AppStream(before[0].port)
        for (const h of before) {
          if (h.kind === 'conv') feedConversation(reused, h.msgs, mss)
          else feedGarbage(reused, h)
          reused.snapshot()
          reused.reset(h.port)
        }
        reused.reset(after.port)
        const fresh = new AppStream(after.port)
        const got: unknown[] = []
        const want: unknown[] = []
        if (after.kind === 'conv') {
          feedConversation(reused, after.msgs, mss, got)
          feedConversation(fresh, after.msgs, mss, want)
        } else {
          feedGarbage(reused, after, got)
          feedGarbage(fresh, after, want)
        }
        expect(got).toEqual(want)
        expect(reused.protocol).toBe(fresh.protocol)
      }),
      {numRuns: 400},
    )
  })

  it('forgets prepared statements, login state and counters of the previous connection', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    c.send(S, MY_GREETING)
    c.send(C, MY_LOGIN)
    c.send(S, myPacket(2, [0, 0, 0, 2, 0, 0, 0]))
    c.send(C, myPacket(0, [0x16, ...ascii('SELECT secret FROM t WHERE id = ?')]))
    c.send(S, myPacket(1, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    c.send(S, myErr(1, 1064, '42000', 'syntax'))
    expect(app.snapshot()).toMatchObject({protocol: 'mysql', user: 'app', errors: 1, commands: 2})

    // Next connection in the same slot: picked up mid-stream, executes statement 1 without preparing it.
    app.reset(3307)
    const d = new Conn(app, false)
    d.send(C, myPacket(0, [0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0]))
    const s = app.snapshot()
    expect(s).toMatchObject({protocol: 'mysql', user: null, serverVersion: null, errors: 0, commands: 1, lastError: null})
    expect(s.lastCommand).toMatchObject({kind: 'COM_STMT_EXECUTE', statement: '1', text: null, textFromPrepare: false})
  })

  it('takes the new server port as the protocol hint', () => {
    const app = new AppStream(5432)
    app.reset(3306)
    new Conn(app, false).send(C, myQuery('select 1'))
    expect(app.snapshot()).toMatchObject({protocol: 'mysql', lastCommand: {text: 'select 1'}})
  })
})

describe('reopening a record puts back every word', () => {
  // Catches a field added to the layout but forgotten by the resets: every word of a used record is
  // dirtied, and the record a new connection gets must equal a fresh pool's.
  it('stream, state, sessions, framers and slot lengths', () => {
    const recordsOf = (p: AppConnections) => (p as unknown as {r: AppRecords}).r
    const words = (p: AppConnections, rec: number) => [...recordsOf(p).nums.subarray(rec * WORDS, (rec + 1) * WORDS)]
    for (const port of [3306, 5432, 80]) {
      const fresh = new AppConnections()
      const want = words(fresh, fresh.open(port))
      const used = new AppConnections()
      const a = used.open(port)
      recordsOf(used).nums.fill(77, a * WORDS, (a + 1) * WORDS)
      used.close(a)
      const b = used.open(port)
      expect(b).toBe(a)
      expect(words(used, b)).toEqual(want)
    }
  })
})

describe('shortcuts do not change what is decoded', () => {
  it('however the messages are cut into segments (1 byte … whole), the result is the same', () => {
    fc.assert(
      fc.property(conversation, fc.constantFrom(1, 3, 7, 100, 536, 1448), ({port, msgs}, mss) => {
        const whole = new AppStream(port)
        const cut = new AppStream(port)
        const want: unknown[] = []
        const got: unknown[] = []
        feedConversation(whole, msgs, 1 << 30, want)
        feedConversation(cut, msgs, mss, got, decoy())
        expect(got).toEqual(want)
      }),
      {numRuns: 300},
    )
  })
})

const OK = u8(myPacket(2, [0, 0, 0, 2, 0, 0, 0]))

describe('allocation', () => {
  const N = 5000
  setFlagsFromString('--expose-gc')
  const collect = runInNewContext('gc') as () => void
  /**
   * Collect the garbage of earlier tests so it is not freed during a measurement (array buffers
   * are released by a background sweeper: give it a moment, then collect again).
   */
  const gc = () => {
    collect()
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
    collect()
  }

  it('a connection costs one fixed record, whatever it carried', () => {
    const pool = new AppConnections()
    gc()
    const a0 = process.memoryUsage().arrayBuffers
    const recs: number[] = []
    for (let i = 0; i < N; i++) recs.push(pool.open(3306))
    gc()
    const idle = (process.memoryUsage().arrayBuffers - a0) / N
    const q = u8(myQuery(`SELECT ${'x, '.repeat(300)}1`))
    for (const rec of recs) {
      // Segments of the pool's connections, fed as a capture interleaves them.
      pool.segment(rec, S, MY_GREETING, 0, MY_GREETING.length, 1000, 1, 1)
      pool.segment(rec, C, MY_LOGIN, 0, MY_LOGIN.length, 2000, 2, 2)
      pool.segment(rec, S, OK, 0, OK.length, 1000 + MY_GREETING.length, 3, 3)
      pool.segment(rec, C, q, 0, 500, 2000 + MY_LOGIN.length, 4, 4)
      pool.segment(rec, C, q, 500, q.length - 500, 2000 + MY_LOGIN.length + 500, 5, 5)
    }
    gc()
    const used = (process.memoryUsage().arrayBuffers - a0) / N
    const record = WORDS * 8 + BYTES
    // Records grow by doubling: at most twice what the open connections need, and traffic adds nothing.
    expect(idle).toBeLessThanOrEqual(2 * record)
    expect(used).toBeLessThan(idle + 8)
    expect(pool.snapshot(recs[N - 1]).lastCommand?.text).toBe(`SELECT ${'x, '.repeat(300)}`.slice(0, 199) + '…')
  })

  it('reset() reuses what a stream allocated: a thousand recycled connections retain nothing more', () => {
    const app = new AppStream(3306)
    const ok = u8(myPacket(2, [0, 0, 0, 2, 0, 0, 0]))
    // a query and an error split over segments, so the framers need their own buffers
    const q = u8(myQuery(`SELECT ${'x, '.repeat(100)}1`))
    const err = u8(myErr(1, 1146, '42S02', `Table '${'t'.repeat(200)}' doesn't exist`))
    const run = () => {
      const c = new Conn(app)
      c.send(S, MY_GREETING)
      c.send(C, MY_LOGIN)
      c.send(S, ok)
      c.send(C, q.subarray(0, 100))
      c.send(C, q.subarray(100))
      c.send(S, err.subarray(0, 3))
      c.send(S, err.subarray(3))
    }
    run()
    gc()
    const a0 = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 1000; i++) {
      app.reset(3306)
      run()
    }
    // Each run needs 2 framer buffers and 2 slots over 64 bytes (≈ 1.3 kB): retaining them would show.
    expect(process.memoryUsage().arrayBuffers - a0).toBeLessThan(1000 * 64)
    expect(app.snapshot().lastError?.code).toBe('1146')
  })
})
