import {describe, expect, it} from 'vitest'
import {AppStream, Dir} from '../../../src/decode/app/stream.js'
import {ascii, Conn, cstr, hex, pgError, pgMsg, pgStartup} from './build.js'

const C = Dir.ClientToServer
const S = Dir.ServerToClient

/*
 * A real psql 15.18 session on loopback against a throwaway PostgreSQL 15.18 (no SSL configured, so
 * psql's SSLRequest was answered 'N'):
 *   PGAPPNAME=lvtest psql -h 127.0.0.1 -p 15432 -U postgres -d postgres -c 'select 1' -c 'select * from nosuch'
 * Oracle: tshark -d tcp.port==15432,pgsql -T fields -e pgsql.query -e pgsql.code -e pgsql.message
 *   -e pgsql.severity -e pgsql.pid -e pgsql.parameter_value  → startup params postgres,postgres,lvtest;
 *   pid 8036; server_version "15.18 (Debian 15.18-0+deb12u1)"; queries "select 1", "select * from nosuch";
 *   frame 13: ERROR 42P01 relation "nosuch" does not exist.
 */
const REAL: [number, Dir, number, string][] = [
  [4, C, 1949982153, '0000000804d2162f'],
  [6, S, 2609648013, '4e'],
  [8, C, 1949982161, '00000041000300007573657200706f73746772657300646174616261736500706f737467726573006170706c69636174696f6e5f6e616d65006c76746573740000'],
  [9, S, 2609648014, '520000000800000000530000001c6170706c69636174696f6e5f6e616d65006c7674657374005300000019636c69656e745f656e636f64696e670055544638005300000017446174655374796c650049534f2c204d445900530000002664656661756c745f7472616e73616374696f6e5f726561645f6f6e6c79006f6666005300000017696e5f686f745f7374616e646279006f6666005300000019696e74656765725f6461746574696d6573006f6e00530000001b496e74657276616c5374796c6500706f73746772657300530000001469735f737570657275736572006f6e0053000000197365727665725f656e636f64696e6700555446380053000000327365727665725f76657273696f6e0031352e3138202844656269616e2031352e31382d302b646562313275312900530000002373657373696f6e5f617574686f72697a6174696f6e00706f7374677265730053000000237374616e646172645f636f6e666f726d696e675f737472696e6773006f6e00530000001554696d655a6f6e65004574632f555443004b0000000c00001f64525c0a195a0000000549'],
  [10, C, 1949982226, '510000000d73656c656374203100'],
  [11, S, 2609648430, '540000002100013f636f6c756d6e3f00000000000000000000170004ffffffff0000440000000b00010000000131430000000d53454c4543542031005a0000000549'],
  [12, C, 1949982240, '510000001973656c656374202a2066726f6d206e6f7375636800'],
  [13, S, 2609648496, '4500000069534552524f5200564552524f5200433432503031004d72656c6174696f6e20226e6f737563682220646f6573206e6f7420657869737400503135004670617273655f72656c6174696f6e2e63004c3133393200527061727365724f70656e5461626c650000'],
  [14, S, 2609648602, '5a0000000549'],
  [16, C, 1949982266, '5800000004'],
]

function replayReal(app: AppStream, upToFrame: number, syn = true): void {
  if (syn) {
    app.syn(C, 1949982153 - 1)
    app.syn(S, 2609648013 - 1)
  }
  for (const [frame, dir, seq, payload] of REAL) {
    if (frame > upToFrame) break
    const b = hex(payload)
    app.segment(dir, b, 0, b.length, seq, frame, frame)
  }
}

describe('PostgreSQL on a real loopback capture', () => {
  it('reads startup, parameters, the last query and the ErrorResponse', () => {
    const app = new AppStream(15432)
    replayReal(app, 13)
    const s = app.snapshot()
    expect(s).toMatchObject({
      protocol: 'postgresql',
      opaque: null,
      user: 'postgres',
      database: 'postgres',
      application: 'lvtest',
      serverVersion: '15.18 (Debian 15.18-0+deb12u1)',
      sessionId: 8036,
      lastCommand: {kind: 'Query', text: 'select * from nosuch', frame: 12},
      lastError: {code: '42P01', sqlState: '42P01', severity: 'ERROR', message: 'relation "nosuch" does not exist', frame: 13},
      // the ErrorResponse came, ReadyForQuery (frame 14) not yet
      awaiting: 'rest',
    })
    replayReal(app, 16)
    expect(app.snapshot()).toMatchObject({lastCommand: {kind: 'Terminate'}, awaiting: 'none', duplicates: 8})
  })

  it('is found by content even on an unusual port', () => {
    const app = new AppStream(40000)
    replayReal(app, 10)
    expect(app.snapshot()).toMatchObject({protocol: 'postgresql', lastCommand: {text: 'select 1'}, awaiting: 'reply'})
  })
})

describe('PostgreSQL framing built in the test', () => {
  it("stops at TLS when SSLRequest is answered 'S'", () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(C, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
    c.send(S, ascii('S'))
    c.send(C, [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])
    expect(app.snapshot()).toMatchObject({protocol: 'postgresql', opaque: 'tls', lastCommand: {kind: 'SSLRequest'}})
  })

  it('GSSENCRequest refused, then a normal startup', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(C, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30])
    c.send(S, ascii('N'))
    c.send(C, pgStartup({user: 'web', database: 'shop'}))
    expect(app.snapshot()).toMatchObject({opaque: null, user: 'web', database: 'shop', lastCommand: {kind: 'StartupMessage'}})
  })

  it('extended protocol: Parse names the query; a later Bind of the named statement recalls it', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(C, pgStartup({user: 'web'}))
    c.send(S, [...pgMsg('R', [0, 0, 0, 0]), ...pgMsg('Z', ascii('I'))])
    const parse = pgMsg('P', [...cstr('s1'), ...cstr('update stock set n = n - 1 where id = $1'), 0, 0])
    const bind = pgMsg('B', [...cstr(''), ...cstr('s1'), 0, 0, 0, 1, 0, 0, 0, 1, 0x35, 0, 0])
    const exec = pgMsg('E', [...cstr(''), 0, 0, 0, 0])
    c.send(C, [...parse, ...bind, ...pgMsg('D', [0x50, 0]), ...exec, ...pgMsg('S', [])])
    expect(app.snapshot().lastCommand).toMatchObject({kind: 'Parse', statement: 's1', text: 'update stock set n = n - 1 where id = $1'})
    c.send(S, [...pgMsg('1', []), ...pgMsg('2', []), ...pgMsg('C', cstr('UPDATE 1')), ...pgMsg('Z', ascii('I'))])
    expect(app.snapshot().awaiting).toBe('none')
    c.send(C, [...bind, ...exec, ...pgMsg('S', [])])
    const s = app.snapshot()
    expect(s.lastCommand).toMatchObject({kind: 'Bind', statement: 's1', textFromPrepare: true, text: 'update stock set n = n - 1 where id = $1'})
    expect(s.awaiting).toBe('reply')
  })

  it('keeps a FATAL ErrorResponse with the non-localized severity', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(C, pgStartup({user: 'web'}))
    c.send(S, [...pgMsg('R', [0, 0, 0, 0]), ...pgMsg('Z', ascii('I'))])
    c.send(C, pgMsg('Q', cstr('select pg_sleep(60)')))
    c.send(S, pgError({S: 'FATAL', V: 'FATAL', C: '57P01', M: 'terminating connection due to administrator command'}))
    expect(app.snapshot().lastError).toMatchObject({severity: 'FATAL', code: '57P01', message: 'terminating connection due to administrator command'})
  })

  it('never keeps the password, and names a CancelRequest by PID', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(C, pgStartup({user: 'web'}))
    c.send(S, pgMsg('R', [0, 0, 0, 3]))
    c.send(C, pgMsg('p', cstr('hunter2')))
    const s = app.snapshot()
    expect(s.lastCommand).toMatchObject({kind: 'PasswordMessage', text: null})
    expect(JSON.stringify(s)).not.toContain('hunter2')
    const cancel = new AppStream(5432)
    new Conn(cancel).send(C, [0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x1f, 0x64, 1, 2, 3, 4])
    expect(cancel.snapshot().lastCommand).toMatchObject({kind: 'CancelRequest', text: '8036'})
  })

  it('picks up a mid-connection capture on 5432 and splits a Query over segments', () => {
    const app = new AppStream(5432)
    const c = new Conn(app, false)
    const q = pgMsg('Q', cstr('select count(*) from orders'))
    c.send(C, q.slice(0, 3))
    expect(app.snapshot().protocol).toBeNull() // 3 bytes prove nothing yet
    const app2 = new AppStream(5432)
    const c2 = new Conn(app2, false)
    c2.send(C, q.slice(0, 12))
    expect(app2.snapshot().lastCommand).toMatchObject({complete: false, text: 'select…'})
    c2.send(C, q.slice(12))
    expect(app2.snapshot()).toMatchObject({protocol: 'postgresql', lastCommand: {complete: true, text: 'select count(*) from orders'}, commands: 1})
  })
})
