/**
 * The symptom texts are checked against the real clients installed here: a tiny fake server on
 * 127.0.0.1 logs the client in, then breaks the connection (RST on the first query, or FIN right
 * after login), and whatever `mariadb` / `psql` prints must be exactly the text `userSymptoms`
 * gives. Skipped when a client is not installed.
 */
import {execFile, execFileSync} from 'node:child_process'
import {createServer, type Server, type Socket} from 'node:net'
import {afterAll, describe, expect, it} from 'vitest'
import {PSQL_CLOSED, userSymptoms, type BreakKind} from '../../../src/decode/app/symptom.js'

function has(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

type Behaviour = 'rst-on-query' | 'fin-after-login'
const servers: Server[] = []
afterAll(() => servers.forEach((s) => s.close()))

async function listen(onConn: (sock: Socket) => void): Promise<number> {
  const srv = createServer(onConn)
  servers.push(srv)
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const a = srv.address()
  return typeof a === 'object' && a ? a.port : 0
}

function myPacket(seq: number, body: number[]): Buffer {
  return Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16, seq, ...body])
}

/** Just enough of a MySQL server to log a client in (any password) and then break. */
function fakeMysql(b: Behaviour) {
  return (sock: Socket) => {
    const caps = 0x0200 | 0x8000 | 0x2000 | 0x0001 | 0x0004 // PROTOCOL_41, SECURE_CONNECTION, TRANSACTIONS, LONG_PASSWORD, LONG_FLAG
    const greeting = [0x0a, ...Buffer.from('5.7.99-fake\0'), 7, 0, 0, 0, ...Buffer.from('abcdefgh'), 0,
      caps & 0xff, caps >> 8, 33, 2, 0, 0x08, 0x00 /* PLUGIN_AUTH high */, 21, ...Array(10).fill(0), ...Buffer.from('ijklmnopqrst\0'), ...Buffer.from('mysql_native_password\0')]
    sock.write(myPacket(0, greeting))
    let loggedIn = false
    sock.on('data', () => {
      if (!loggedIn) {
        loggedIn = true
        sock.write(myPacket(2, [0, 0, 0, 2, 0, 0, 0]))
        if (b === 'fin-after-login') sock.end()
      } else if (b === 'rst-on-query') sock.resetAndDestroy()
    })
    sock.on('error', () => {})
  }
}

/** Just enough of a PostgreSQL server: refuse SSL, accept the startup, then break. */
function fakePostgres(b: Behaviour) {
  return (sock: Socket) => {
    let buf = Buffer.alloc(0)
    let started = false
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!started) {
        if (buf.length < 8) return
        const len = buf.readUInt32BE(0)
        if (buf.length < len) return
        const code = buf.readUInt32BE(4)
        buf = buf.subarray(len)
        if (code === 80877103 || code === 80877104) {
          sock.write('N')
          return
        }
        started = true
        sock.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]))
        if (b === 'fin-after-login') sock.end()
      } else if (b === 'rst-on-query') sock.resetAndDestroy()
    })
    sock.on('error', () => {})
  }
}

function run(cmd: string, args: string[]): Promise<{code: number; out: string}> {
  return new Promise((resolve) => {
    execFile(cmd, args, {timeout: 20_000, env: {...process.env, PGPASSWORD: 'x', PAGER: 'cat'}}, (err, stdout, stderr) => {
      const code = err && typeof (err as {code?: unknown}).code === 'number' ? ((err as {code: number}).code) : 0
      resolve({code, out: stdout + stderr})
    })
  })
}

describe.skipIf(!has('mariadb'))('MariaDB client, for real', () => {
  for (const [b, kind] of [['rst-on-query', 'reset-during-query'], ['fin-after-login', 'server-closed']] as [Behaviour, BreakKind][]) {
    it(`${b}: prints the ${kind} text`, async () => {
      const port = await listen(fakeMysql(b))
      const r = await run('mariadb', ['-h127.0.0.1', `-P${port}`, '-uroot', '--skip-ssl', '-e', 'select 1'])
      const want = userSymptoms({protocol: 'mysql', kind}).find((s) => s.client === 'mariadb')
      expect(want).toBeDefined()
      // With -e the client first echoes the failed statement between dashed lines; the error is last.
      expect(r.out.trim().split('\n').at(-1)).toBe(want?.text.replace('%line', '1'))
      expect(r.code).toBe(1)
    })
  }
})

describe.skipIf(!has('psql'))('psql, for real', () => {
  for (const [b, kind] of [['rst-on-query', 'reset-during-query'], ['fin-after-login', 'server-closed']] as [Behaviour, BreakKind][]) {
    it(`${b}: prints the ${kind} text`, async () => {
      const port = await listen(fakePostgres(b))
      const r = await run('psql', ['-X', `host=127.0.0.1 port=${port} user=u dbname=d sslmode=prefer`, '-c', 'select 1'])
      const want = userSymptoms({protocol: 'postgresql', kind})[0]
      expect(r.out.trim()).toBe(want.text)
      expect(r.code).toBe(2)
    })
  }
})

describe('composition', () => {
  it('puts a FATAL the server sent before the generic psql text', () => {
    const s = userSymptoms({
      protocol: 'postgresql',
      kind: 'server-closed',
      serverError: {code: '57P01', sqlState: '57P01', severity: 'FATAL', message: 'terminating connection due to administrator command'},
    })[0]
    expect(s.text).toBe(`FATAL:  terminating connection due to administrator command\n${PSQL_CLOSED}\nconnection to server was lost`)
  })

  it('puts a MySQL ERR sent before the close first, in the client format', () => {
    const s = userSymptoms({
      protocol: 'mysql',
      kind: 'server-closed',
      interactive: true,
      serverError: {code: '4031', sqlState: 'HY000', severity: null, message: 'The client was disconnected by the server because of inactivity.'},
    })[0]
    expect(s.text).toBe('ERROR 4031 (HY000): The client was disconnected by the server because of inactivity.')
  })
})
