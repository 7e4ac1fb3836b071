import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {AppStream, Dir} from '../../../src/decode/app/stream.js'
import {escapeTerminal} from '../../../src/util/escape.js'
import {Conn, cstr, myPacket, myQuery, pgMsg, pgStartup} from './build.js'

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

function allText(s: ReturnType<AppStream['snapshot']>): string[] {
  return [s.serverVersion, s.user, s.database, s.application, s.lastCommand?.text, s.lastCommand?.statement, s.lastError?.message, s.lastError?.code, s.lastError?.sqlState, s.lastError?.severity].filter(
    (x): x is string => typeof x === 'string',
  )
}

describe('garbage in', () => {
  // The decoders keep protocol text as sent; each renderer escapes it once for its output (src/util/escape.ts for
  // the terminal), so what reaches a terminal is checked after that escaper.
  it('never throws, and everything it prints is short and, once escaped for the terminal, free of control characters', () => {
    const seg = fc.record({
      dir: fc.constantFrom(Dir.ClientToServer, Dir.ServerToClient),
      bytes: fc.uint8Array({minLength: 0, maxLength: 300}),
      jump: fc.integer({min: -400, max: 400}),
    })
    fc.assert(
      fc.property(fc.constantFrom(3306, 5432, 80, 6432), fc.boolean(), fc.array(seg, {maxLength: 30}), (port, syn, segs) => {
        const app = new AppStream(port)
        const next = [100, 9000]
        if (syn) {
          app.syn(Dir.ClientToServer, 99)
          app.syn(Dir.ServerToClient, 8999)
        }
        let frame = 0
        for (const g of segs) {
          const seq = (next[g.dir] + (g.jump % 3 === 0 ? g.jump : 0)) >>> 0
          app.segment(g.dir, g.bytes, 0, g.bytes.length, seq, ++frame, frame)
          next[g.dir] = (seq + g.bytes.length) >>> 0
        }
        const s = app.snapshot()
        for (const t of allText(s)) {
          expect(t.length).toBeLessThanOrEqual(200)
          expect(escapeTerminal(t)).not.toMatch(CONTROL)
        }
      }),
      {numRuns: 3000},
    )
  })

  it('survives protocol-shaped garbage: valid headers with random bodies', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({min: 0, max: 255}), fc.uint8Array({maxLength: 80})), {maxLength: 20}), (msgs) => {
        for (const port of [3306, 5432]) {
          const app = new AppStream(port)
          const c = new Conn(app)
          if (port === 5432) c.send(Dir.ClientToServer, pgStartup({user: 'u'}))
          else c.send(Dir.ServerToClient, [7, 0, 0, 0, 0x0a, 0x35, 0x2e, 0x37, 0, 1, 0])
          for (const [k, body] of msgs) {
            const dir = k & 1 ? Dir.ServerToClient : Dir.ClientToServer
            const bytes = port === 5432 ? pgMsg(String.fromCharCode(k & 0x7f), [...body]) : [body.length, 0, 0, k, ...body]
            c.send(dir, bytes)
          }
          app.snapshot()
        }
      }),
      {numRuns: 2000},
    )
  })
})

describe('hostile lengths', () => {
  it('a 1 GiB PostgreSQL message and a 16 MiB MySQL packet cost counters, not memory', () => {
    const chunk = new Uint8Array(65536).fill(0x41)
    for (const port of [5432, 3306]) {
      const app = new AppStream(port)
      const c = new Conn(app)
      if (port === 5432) {
        c.send(Dir.ClientToServer, pgStartup({user: 'u'}))
        c.send(Dir.ClientToServer, [0x51, 0x3f, 0xff, 0xff, 0xff, 0x73, 0x65, 0x6c])
      } else {
        c.send(Dir.ServerToClient, [7, 0, 0, 0, 0x0a, 0x35, 0x2e, 0x37, 0, 1, 0])
        c.send(Dir.ClientToServer, myPacket(1, [0, 2, 0, 0, 0, 0, 0, 1, 33, ...Array(23).fill(0), 0x75, 0, 0]))
        c.send(Dir.ServerToClient, [7, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0])
        c.send(Dir.ClientToServer, [0xff, 0xff, 0xff, 0x00, 0x03, 0x73, 0x65, 0x6c])
      }
      const before = process.memoryUsage().arrayBuffers
      for (let k = 0; k < 200; k++) c.send(Dir.ClientToServer, chunk) // 12.5 MiB into one message
      const grown = process.memoryUsage().arrayBuffers - before
      expect(grown).toBeLessThan(1 << 20)
      const s = app.snapshot()
      expect(s.lastCommand?.complete).toBe(false)
      expect(s.lastCommand?.text?.startsWith('selAAAA')).toBe(true)
      expect(s.lastCommand?.text?.length).toBeLessThanOrEqual(200)
    }
  })

  it('a PostgreSQL length below 4 is malformed, and the framer waits for a real message', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(Dir.ClientToServer, pgStartup({user: 'u'}))
    c.send(Dir.ClientToServer, [0x51, 0, 0, 0, 2])
    c.send(Dir.ClientToServer, pgMsg('Q', cstr('select 1')))
    const s = app.snapshot()
    expect(s.malformed).toBe(1)
    expect(s.lastCommand?.text).toBe('select 1')
  })

  it('a MySQL stream that is not MySQL on 3306 is given up after a few segments', () => {
    const app = new AppStream(3306)
    const c = new Conn(app)
    for (let k = 0; k < 10; k++) c.send(Dir.ClientToServer, [...Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')])
    c.send(Dir.ClientToServer, myQuery('select 1'))
    expect(app.snapshot().protocol).toBeNull()
  })
})

describe('sequence handling', () => {
  it('an overlapping retransmission contributes only its new bytes', () => {
    const app = new AppStream(5432)
    const c = new Conn(app)
    c.send(Dir.ClientToServer, pgStartup({user: 'u'}))
    const q1 = pgMsg('Q', cstr('select 1'))
    const q2 = pgMsg('Q', cstr('select 2'))
    const s1 = c.send(Dir.ClientToServer, q1)
    // retransmission that re-sends q1 and carries q2 as well (coalesced)
    c.replay(Dir.ClientToServer, s1, [...q1, ...q2])
    const s = app.snapshot()
    expect(s.commands).toBe(3)
    expect(s.lastCommand?.text).toBe('select 2')
  })

  it('keeps working across the 32-bit sequence wrap', () => {
    const app = new AppStream(5432)
    const c = new Conn(app, false)
    c.seq[0] = 0xfffffff0
    app.syn(Dir.ClientToServer, 0xffffffef)
    c.send(Dir.ClientToServer, pgStartup({user: 'u'}))
    c.send(Dir.ClientToServer, pgMsg('Q', cstr('select after wrap')))
    expect(app.snapshot()).toMatchObject({lastCommand: {text: 'select after wrap'}, gaps: 0, duplicates: 0})
  })
})
