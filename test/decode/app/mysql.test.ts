import {describe, expect, it} from 'vitest'
import {AppStream, Dir} from '../../../src/decode/app/stream.js'
import {ascii, Conn, hex, myErr, myPacket, myQuery} from './build.js'

const C = Dir.ClientToServer
const S = Dir.ServerToClient

/*
 * One real exchange, recorded on loopback against a throwaway mariadbd 10.11.19:
 *   tcpdump -i lo -w my_basic.pcap 'tcp port 13306' &
 *   mariadb -h127.0.0.1 -P13306 -uroot --skip-ssl -e 'select 1; select * from nosuch.t'
 * payloads via: tshark -r my_basic.pcap -T fields -e frame.number -e tcp.srcport -e tcp.seq_raw -e tcp.payload
 * tshark's dissection of the same file (-d tcp.port==13306,mysql) is the oracle for the expectations:
 *   frame 4 version 5.5.5-10.11.19-MariaDB-0+deb12u1 thread_id 4; frame 6 user root;
 *   frame 9 query "select 1"; frame 11 query "select * from nosuch.t";
 *   frame 12 error 1146 42S02 "Table 'nosuch.t' doesn't exist".
 */
const CLIENT_ISN = 1445983695 - 1
const SERVER_ISN = 4006612914 - 1
const REAL: [number, Dir, number, string][] = [
  [4, S, 4006612914, '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310004000000217d75552969585b00fef7080200ff81150000000000001d000000406f2e355d567672573f7241006d7973716c5f6e61746976655f70617373776f726400'],
  [6, C, 1445983695, 'bb00000184a2bf000000100021000000000000000000000000000000000000001d000000726f6f7400006d7973716c5f6e61746976655f70617373776f7264007e035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d617269616462045f70696404373735310f5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d65056d7973716c0c5f7365727665725f686f7374093132372e302e302e31'],
  [8, S, 4006613018, '0700000200000002000000'],
  [9, C, 1445983886, '090000000373656c6563742031'],
  [10, S, 4006613029, '0200000101011800000203646566000000013100000c3f000100000003810000000005000003fe0000020002000004013105000005fe00000200'],
  [11, C, 1445983899, '170000000373656c656374202a2066726f6d206e6f737563682e74'],
  [12, S, 4006613087, '27000001ff7a042334325330325461626c6520276e6f737563682e742720646f65736e2774206578697374'],
  [13, C, 1445983926, '0100000001'],
]

function replayReal(app: AppStream, upToFrame: number): void {
  app.syn(C, CLIENT_ISN)
  app.syn(S, SERVER_ISN)
  for (const [frame, dir, seq, payload] of REAL) {
    if (frame > upToFrame) break
    const b = hex(payload)
    app.segment(dir, b, 0, b.length, seq, frame, frame / 100)
  }
}

describe('MySQL on a real loopback capture', () => {
  it('finds the protocol, server, user, last query and the error packet', () => {
    const app = new AppStream(13306)
    replayReal(app, 12)
    const s = app.snapshot()
    expect(s.protocol).toBe('mysql')
    expect(s.serverVersion).toBe('5.5.5-10.11.19-MariaDB-0+deb12u1')
    expect(s.sessionId).toBe(4)
    expect(s.user).toBe('root')
    expect(s.lastCommand).toMatchObject({kind: 'COM_QUERY', text: 'select * from nosuch.t', frame: 11, complete: true})
    expect(s.lastError).toEqual({
      code: '1146',
      sqlState: '42S02',
      severity: null,
      message: "Table 'nosuch.t' doesn't exist",
      frame: 12,
      time: 0.12,
    })
    expect(s.commands).toBe(3) // handshake response + two queries
    expect(s.awaiting).toBe('none')
  })

  it('tracks whether the query is still waiting for its answer', () => {
    const app = new AppStream(13306)
    replayReal(app, 9)
    expect(app.snapshot()).toMatchObject({awaiting: 'reply', lastCommand: {text: 'select 1'}})
    const b = hex(REAL[4][3])
    // the result set (5 packets in one segment) ends with EOF: answered
    app.segment(S, b, 0, b.length, REAL[4][2], 10, 0.1)
    expect(app.snapshot().awaiting).toBe('none')
    // only the column-count packet of a result: the rest is outstanding
    const app2 = new AppStream(13306)
    replayReal(app2, 9)
    app2.segment(S, b, 0, 5, REAL[4][2], 10, 0.1)
    expect(app2.snapshot().awaiting).toBe('rest')
  })

  it('ends with COM_QUIT and no outstanding reply', () => {
    const app = new AppStream(13306)
    replayReal(app, 13)
    expect(app.snapshot()).toMatchObject({lastCommand: {kind: 'COM_QUIT', text: null}, awaiting: 'none'})
  })

  it('parses a retransmitted or DR-duplicated segment once', () => {
    const app = new AppStream(13306)
    replayReal(app, 12)
    const q = hex(REAL[5][3])
    app.segment(C, q, 0, q.length, REAL[5][2], 99, 9)
    const s = app.snapshot()
    expect(s.commands).toBe(3)
    expect(s.duplicates).toBe(1)
    expect(s.lastCommand?.frame).toBe(11)
  })

  it('does not retain the packet buffer', () => {
    const app = new AppStream(13306)
    replayReal(app, 11)
    const before = app.snapshot().lastCommand?.text
    // Overwrite the bytes the segments came from: the kept state must not change.
    for (const r of REAL) hex(r[3]).fill(0x41)
    expect(app.snapshot().lastCommand?.text).toBe(before)
  })
})

/** `capsTop`: the capability flags' top byte on both sides (0x08 = CLIENT_QUERY_ATTRIBUTES). */
function login(c: Conn, capsTop = 0x00): void {
  // Minimal greeting (protocol 10, version, thread id 77, caps with PROTOCOL_41|SECURE_CONNECTION).
  const greeting = [0x0a, ...ascii('8.0.36'), 0, 77, 0, 0, 0, ...Array(8).fill(0x61), 0, 0x00, 0x82, 33, 2, 0, 0x00, capsTop, 21, ...Array(10).fill(0), ...Array(13).fill(0x62)]
  c.send(S, myPacket(0, greeting))
  const caps = [0x00, 0x82, 0x00, capsTop] // PROTOCOL_41 | SECURE_CONNECTION
  c.send(C, myPacket(1, [...caps, 0, 0, 0, 1, 33, ...Array(23).fill(0), ...ascii('app'), 0, 20, ...Array(20).fill(0x70)]))
  c.send(S, myPacket(2, [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]))
}

describe('MySQL command text kept', () => {
  // The shown text is cut at 200 characters; query attributes (MySQL 8.0.23+) come before the text.
  it('keeps the start of a long query sent in pieces', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    const text = `select ${Array.from({length: 120}, (_, i) => `c${i}`).join(', ')} from t`
    const q = myQuery(text)
    for (let i = 0; i < q.length; i += 100) c.send(C, q.slice(i, i + 100))
    const s = app.snapshot().lastCommand
    expect(s?.complete).toBe(true)
    expect(s?.text).toBe(`${text.slice(0, 199)}…`)
  })

  it('finds the text after query attributes longer than the kept text', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c, 0x08) // both sides announce CLIENT_QUERY_ATTRIBUTES (bit 27)
    // One string attribute "trace" of 250 bytes, then the query.
    const attrs = [0x01, 0x01, 0x00, 0x01, 0xfe, 0x00, 5, ...ascii('trace'), 250, ...Array(250).fill(0x74)]
    c.send(C, myPacket(0, [0x03, ...attrs, ...ascii('select 42')]))
    expect(app.snapshot().lastCommand).toMatchObject({kind: 'COM_QUERY', text: 'select 42', complete: true})
  })
})

describe('MySQL framing built in the test', () => {
  it('reassembles a COM_QUERY split across three segments, and shows the part sent so far', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    const q = myQuery('SELECT id, name FROM customers WHERE region = \'north\' ORDER BY name')
    c.send(C, q.slice(0, 2))
    c.send(C, q.slice(2, 20))
    const partial = app.snapshot().lastCommand
    expect(partial).toMatchObject({kind: 'COM_QUERY', complete: false, text: 'SELECT id, name…'})
    c.send(C, q.slice(20))
    const s = app.snapshot()
    expect(s.lastCommand).toMatchObject({complete: true, text: "SELECT id, name FROM customers WHERE region = 'north' ORDER BY name"})
    expect(s.commands).toBe(2) // login + this query, not counted twice
    expect(s.user).toBe('app')
    expect(s.serverVersion).toBe('8.0.36')
  })

  it('reads several packets from one segment', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    c.send(C, [...myQuery('set autocommit=0'), ...myPacket(0, [0x0e]), ...myQuery('commit')])
    const s = app.snapshot()
    expect(s.commands).toBe(4)
    expect(s.lastCommand).toMatchObject({kind: 'COM_QUERY', text: 'commit'})
  })

  it('names commands: ping, init db, field list, prepare/execute with the prepared text', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    c.send(C, myPacket(0, [0x0e]))
    expect(app.snapshot().lastCommand?.kind).toBe('COM_PING')
    c.send(S, myPacket(1, [0, 0, 0, 2, 0, 0, 0]))
    c.send(C, myPacket(0, [0x02, ...ascii('shop')]))
    expect(app.snapshot()).toMatchObject({lastCommand: {kind: 'COM_INIT_DB', text: 'shop'}, database: 'shop'})
    c.send(S, myPacket(1, [0, 0, 0, 2, 0, 0, 0]))
    c.send(C, myPacket(0, [0x04, ...ascii('orders'), 0]))
    expect(app.snapshot().lastCommand).toMatchObject({kind: 'COM_FIELD_LIST', text: 'orders'})
    c.send(S, myPacket(1, [0xfe, 0, 0, 2, 0]))
    c.send(C, myPacket(0, [0x16, ...ascii('select * from orders where id = ?')]))
    // PREPARE_OK: stmt id 7, 0 columns, 1 param; then 1 param definition and an EOF
    c.send(S, [...myPacket(1, [0x00, 7, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]), ...myPacket(2, [0x03, ...ascii('def')]), ...myPacket(3, [0xfe, 0, 0, 2, 0])])
    expect(app.snapshot().awaiting).toBe('none')
    c.send(C, myPacket(0, [0x17, 7, 0, 0, 0, 0, 1, 0, 0, 0]))
    expect(app.snapshot().lastCommand).toMatchObject({kind: 'COM_STMT_EXECUTE', statement: '7', textFromPrepare: true, text: 'select * from orders where id = ?'})
  })

  it('recognises the SSL request and stops decoding', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    const greeting = [0x0a, ...ascii('10.6.5-MariaDB'), 0, 9, 0, 0, 0, ...Array(8).fill(1), 0, 0x00, 0xaa, 8, 2, 0, 0, 0, 21, ...Array(10).fill(0), ...Array(13).fill(2)]
    c.send(S, myPacket(0, greeting))
    c.send(C, myPacket(1, [0x00, 0xaa, 0x00, 0x00, 0, 0, 0, 1, 33, ...Array(23).fill(0)])) // CLIENT_SSL, 32 bytes
    c.send(C, [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) // ClientHello
    c.send(S, myErr(1, 1045, '28000', 'Access denied')) // would be parsed if decoding went on
    const s = app.snapshot()
    expect(s.opaque).toBe('tls')
    expect(s.lastCommand?.kind).toBe('SSLRequest')
    expect(s.lastError).toBeNull()
  })

  it('keeps an ERR sent instead of the greeting (too many connections)', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    c.send(S, myPacket(0, [0xff, 0x10, 0x04, ...ascii('Too many connections')]))
    expect(app.snapshot()).toMatchObject({protocol: 'mysql', lastError: {code: '1040', sqlState: null, message: 'Too many connections'}})
  })

  it('picks up a connection whose start was not captured (port hint), and resyncs after a gap', () => {
    const app = new AppStream(3306)
    const c = new Conn(app, false)
    c.send(S, myPacket(5, [0x01, 0x02])) // tail of some answer: not a start, ignored
    c.send(C, myQuery('select 1'))
    expect(app.snapshot()).toMatchObject({protocol: 'mysql', lastCommand: {text: 'select 1'}})
    c.send(S, myPacket(1, [0x00, 0, 0, 2, 0, 0, 0]))
    c.lose(C, 40) // capture dropped bytes
    c.send(C, [0x55, 0x66, 0x77]) // middle of something: not a message start, dropped
    c.send(C, myQuery('select 2'))
    const s = app.snapshot()
    expect(s.lastCommand?.text).toBe('select 2')
    expect(s.gaps).toBe(1)
    expect(s.resyncs).toBeGreaterThanOrEqual(2)
  })

  it('shortens long queries to 200 characters and keeps control bytes as sent (each renderer escapes them once)', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    c.send(C, myQuery(`select '\x1b[31mred' /* ${'x'.repeat(5000)} */`))
    const t = app.snapshot().lastCommand?.text ?? ''
    expect(t.length).toBe(200)
    expect(t.endsWith('…')).toBe(true)
    expect(t).toContain('\x1b[31mred')
    expect(t).not.toContain('\\x1b')
  })

  it('does not take a result row for an error and follows multi-results', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    login(c)
    c.send(C, myQuery('call p()'))
    // OK with SERVER_MORE_RESULTS_EXISTS, then a one-column result set, then the final OK
    c.send(S, myPacket(1, [0x00, 0, 0, 0x0a, 0, 0, 0]))
    expect(app.snapshot().awaiting).toBe('rest')
    c.send(S, [...myPacket(2, [1]), ...myPacket(3, [3, ...ascii('def')]), ...myPacket(4, [0xfe, 0, 0, 2, 0]), ...myPacket(5, [2, 0xff, 0xff]), ...myPacket(6, [0xfe, 0, 0, 2, 0])])
    const s = app.snapshot()
    expect(s.awaiting).toBe('none')
    expect(s.lastError).toBeNull()
  })
})
