/**
 * The MySQL/PostgreSQL context of resets and stalls must not depend on where the protocol trackers ran: a scan
 * that replays the few connections needing a snapshot after the pass (the default for plain files) gives the
 * ledger a scan running the trackers inline gives, on every sample capture, on a generated director/real-server
 * pair with hundreds of database connections, in flow shards, and where one 4-tuple carries two connections.
 * The one allowed difference is `duplicates`: the replay also feeds the director's forwarded copies, which the
 * trackers drop by sequence number.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import type {AppContext} from '../../src/decode/app/stream.js'
import type {LedgerData} from '../../src/vantage/ledger.js'
import {mergeScans, scanCapture} from '../../src/vantage/scan.js'
import {REPO_ROOT} from '../helpers/cli.js'
import {ethernet, ipv4, pcapFile, tcp, TCP} from '../helpers/frames.js'
import {myPacket, myQuery} from '../decode/app/build.js'

const SAMPLES = join(REPO_ROOT, 'samples')
const CAPTURES = readdirSync(SAMPLES, {withFileTypes: true})
  .filter((d) => d.isDirectory() && d.name !== 'lab')
  .flatMap((d) => readdirSync(join(SAMPLES, d.name)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(SAMPLES, d.name, f)))

const dir = mkdtempSync(join(tmpdir(), 'lvscope-replay-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Every app context of the ledger, in order (resets, then stalls). */
function apps(l: LedgerData): (AppContext | null)[] {
  return [...l.resets.map((r) => r.context.app), ...l.stalls.map((s) => s.context.app)]
}

/** The ledger with each context's `duplicates` set aside (the one field the modes may differ in). */
function comparable(l: LedgerData): unknown {
  const strip = <T extends {context: {app: AppContext | null}}>(e: T): T => ({...e, context: {...e.context, app: e.context.app && {...e.context.app, duplicates: 0}}})
  return {...l, resets: l.resets.map(strip), stalls: l.stalls.map(strip)}
}

async function expectSameLedger(file: string, count = 1): Promise<LedgerData> {
  const scan = (apps: 'inline' | 'replay') => Promise.all(Array.from({length: count}, (_, index) => scanCapture(file, {index, count}, {apps})))
  const inline = mergeScans(await scan('inline')).ledger
  const replay = mergeScans(await scan('replay')).ledger
  expect(comparable(replay)).toEqual(comparable(inline))
  const a = apps(inline)
  const b = apps(replay)
  for (let i = 0; i < a.length; i++) if (a[i] !== null) expect(b[i]!.duplicates).toBeGreaterThanOrEqual(a[i]!.duplicates)
  return inline
}

describe('protocol context by replay', () => {
  let snapshots = 0

  for (const file of CAPTURES) {
    it(`equals the inline trackers: ${file.slice(SAMPLES.length + 1)}`, async () => {
      const l = await expectSameLedger(file)
      snapshots += apps(l).filter((a) => a !== null && a.protocol !== null).length
    })
  }

  it('compared real protocol snapshots on the samples', () => {
    // Resets and stalls of MySQL and PostgreSQL connections across the incident samples (22 when written).
    expect(snapshots).toBeGreaterThanOrEqual(7)
  })

  it('equals the inline trackers on a generated pair with hundreds of connections, whole and in 2 shards', async () => {
    const d = join(dir, 'd.pcap')
    const rs = join(dir, 'rs.pcap')
    execFileSync(process.execPath, [join(REPO_ROOT, 'bench', 'generate.js'), '--size', '32M', '--flows', '2000', '--idle-timeout', '1', '--pair', '--out', d, '--rs-out', rs, '--quiet'])
    let withCommand = 0
    for (const f of [d, rs]) {
      const l = await expectSameLedger(f)
      withCommand += apps(l).filter((a) => a?.lastCommand != null).length
      await expectSameLedger(f, 2)
    }
    expect(withCommand).toBeGreaterThanOrEqual(5)
  })

  /** One MySQL connection's frames through `send`: handshake, login, `sql`; returns the next client and server seq. */
  function mysqlConnection(send: (fromClient: boolean, seq: number, ack: number, flags: number, payload?: number[]) => void, isnC: number, isnS: number, sql: string): [number, number] {
    const greeting = myPacket(0, [0x0a, ...Buffer.from('8.0.36'), 0, 7, 0, 0, 0, ...Array(8).fill(0x41), 0, 0xff, 0xf7, 0x21, 2, 0, 0xff, 0xdf, 21, ...Array(10).fill(0), ...Array(13).fill(0x42), ...Buffer.from('caching_sha2_password\0')])
    const login = myPacket(1, [0x0d, 0xa6, 0x03, 0x00, 0, 0, 0, 1, 0x21, ...Array(23).fill(0), ...Buffer.from('app\0'), 0, ...Buffer.from('shop\0')])
    const ok = myPacket(2, [0, 0, 0, 2, 0, 0, 0])
    let c = isnC + 1
    let s = isnS + 1
    send(true, isnC, 0, TCP.SYN)
    send(false, isnS, c, TCP.SYN | TCP.ACK)
    send(true, c, s, TCP.ACK)
    send(false, s, c, TCP.PSH | TCP.ACK, greeting)
    s += greeting.length
    send(true, c, s, TCP.PSH | TCP.ACK, login)
    c += login.length
    send(false, s, c, TCP.PSH | TCP.ACK, ok)
    s += ok.length
    const q = myQuery(sql)
    send(true, c, s, TCP.PSH | TCP.ACK, q)
    return [c + q.length, s]
  }

  it('takes the snapshot from the connection that reset, when an earlier one used the same 4-tuple', async () => {
    const C = {mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 40000}
    const S = {mac: '02:00:00:00:00:02', ip: '10.0.0.100', port: 3306}
    const frames: Uint8Array[] = []
    const send = (fromClient: boolean, seq: number, ack: number, flags: number, payload: number[] = []): void => {
      const [a, b] = fromClient ? [C, S] : [S, C]
      frames.push(ethernet({src: a.mac, dst: b.mac, type: 0x0800}, ipv4({src: a.ip, dst: b.ip, proto: 6}, tcp({sport: a.port, dport: b.port, seq, ack, flags}, payload))))
    }
    const [c1, s1] = mysqlConnection(send, 1000, 5000, 'SELECT 1 /* first connection */')
    send(true, c1, s1, TCP.FIN | TCP.ACK)
    send(false, s1, c1 + 1, TCP.FIN | TCP.ACK)
    send(true, c1 + 1, s1 + 1, TCP.ACK)
    const [c2, s2] = mysqlConnection(send, 900_000, 700_000, 'SELECT 2 /* second connection */')
    send(false, s2, c2, TCP.RST | TCP.ACK)
    const file = join(dir, 'reuse.pcap')
    writeFileSync(file, pcapFile(1, frames))

    const l = await expectSameLedger(file)
    expect(l.resets).toHaveLength(1)
    const replayed = (await scanCapture(file, {index: 0, count: 1}, {apps: 'replay'})).ledger.resets[0].context.app
    expect(replayed?.protocol).toBe('mysql')
    expect(replayed?.lastCommand?.text).toContain('second connection')
  })

  it('scans a NAT director capture inline: its copies are on another 4-tuple, where a replay would feed them', async () => {
    // Client → VIP reaches the director, which sends it on to the real server's address (and back).
    const client = {mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 40000}
    const director = '02:00:00:00:00:0d'
    const rs = {mac: '02:00:00:00:00:21', ip: '10.0.0.21', port: 3306}
    const vip = '10.0.0.100'
    const frames: Uint8Array[] = []
    const frame = (srcMac: string, dstMac: string, src: string, dst: string, ttl: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: number[]) =>
      ethernet({src: srcMac, dst: dstMac, type: 0x0800}, ipv4({src, dst, proto: 6, ttl, id: frames.length}, tcp({sport, dport, seq, ack, flags}, payload)))
    const send = (fromClient: boolean, seq: number, ack: number, flags: number, payload: number[] = []): void => {
      if (fromClient) {
        const id = frames.length
        frames.push(frame(client.mac, director, client.ip, vip, 64, client.port, rs.port, seq, ack, flags, payload))
        const copy = frame(director, rs.mac, client.ip, rs.ip, 63, client.port, rs.port, seq, ack, flags, payload)
        copy.set(frames[id].subarray(18, 20), 18) // the same IP ID: a forwarded copy
        frames.push(copy)
      } else {
        frames.push(frame(rs.mac, director, rs.ip, client.ip, 64, rs.port, client.port, seq, ack, flags, payload))
        frames.push(frame(director, client.mac, vip, client.ip, 63, rs.port, client.port, seq, ack, flags, payload))
      }
    }
    const [c, s] = mysqlConnection(send, 1000, 5000, 'SELECT 42')
    send(false, s, c, TCP.RST | TCP.ACK)
    const file = join(dir, 'nat.pcap')
    writeFileSync(file, pcapFile(1, frames))

    const inline = await scanCapture(file, {index: 0, count: 1}, {apps: 'inline'})
    const byDefault = await scanCapture(file)
    expect(inline.artifacts.forwarding).toBe('NAT')
    expect(byDefault.ledger).toEqual(inline.ledger)
    expect(apps(inline.ledger).some((a) => a !== null)).toBe(true)
  })
})
