import {describe, expect, it} from 'vitest'

import {diagnose} from '../../src/diagnose/index.js'
import {TCP} from '../helpers/frames.js'
import {BASE_EPOCH, CaptureBuilder, HOSTS} from '../helpers/lvs.js'
import {incident} from './incident.js'

/** A MySQL COM_QUERY packet: 3-byte length, sequence id 0, command 0x03, "select 1". */
const Q = [9, 0, 0, 0, 0x03, 0x73, 0x65, 0x6c, 0x65, 0x63, 0x74, 0x20, 0x31]

/** Handshake and one query through the director, then whatever the test adds. */
function session(sport: number, rs = 0): CaptureBuilder {
  return new CaptureBuilder()
    .client(0, {sport, seq: 100, flags: TCP.SYN, id: 1}, rs)
    .client(0.001, {sport, seq: 101, ack: 5001, id: 2}, rs)
    .client(0.002, {sport, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 3}, rs)
    .client(0.004, {sport, seq: 114, ack: 5100, id: 4}, rs)
}

describe('reset attribution (M3, M9)', () => {
  it('idle expiry: silence beyond the tcp timeout, trigger not forwarded, director RST → ipvs-idle-timeout', async () => {
    const b = session(41000)
    b.client(12.004, {sport: 41000, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 5}, null).directorRst(12.00405, 41000, 5100)
    const {findings} = diagnose(await incident([{b, role: 'director'}]))
    expect(findings).toHaveLength(1)
    const f = findings[0]
    expect(f).toMatchObject({kind: 'reset', sender: 'director', cause: 'ipvs-idle-timeout', confidence: 'high'})
    expect(f.flow).toEqual({client: `${HOSTS.client.ip}:41000`, service: `${HOSTS.vip}:${HOSTS.port}`})
    expect(f.epoch).toBeCloseTo(BASE_EPOCH + 12.00405, 5)
    expect(f.evidence.map((e) => e.frame)).toEqual([10, 7, 9])
    expect(f.recommendation).toMatch(/ipvsadm --set 24 4 30/)
    expect(f.application?.lastCommand).toBe('COM_QUERY select 1')
    expect(f.application?.symptom).toMatch(/ERROR 2013 \(HY000\): Lost connection to server during query/)
  })

  it('the same silence below the timeout means the entry was removed, not aged out', async () => {
    const b = session(41001)
    b.client(5.004, {sport: 41001, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 5}, null).directorRst(5.00405, 41001, 5100)
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f).toMatchObject({sender: 'director', cause: 'real-server-removed'})
  })

  it('after a client FIN the tcpfin timeout applies → ipvs-fin-timeout', async () => {
    const b = session(41002)
    b.client(0.01, {sport: 41002, seq: 114, ack: 5100, flags: TCP.FIN | TCP.ACK, id: 5}, 0)
    b.client(5.01, {sport: 41002, seq: 115, ack: 5101, id: 6}, null).directorRst(5.01005, 41002, 5101)
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f).toMatchObject({sender: 'director', cause: 'ipvs-fin-timeout'})
  })

  it('a client RST is a client abort', async () => {
    const b = session(41003)
    b.client(1, {sport: 41003, seq: 114, ack: 5100, flags: TCP.RST, id: 5}, 0)
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f).toMatchObject({sender: 'client', cause: 'client-abort'})
  })

  it('RST+ACK with a socket IP ID from the real server is an application abort; a bare RST with ID 0 a missing socket', async () => {
    const rs = new CaptureBuilder()
      .atRealServer(0.0001, 0, {sport: 41004, seq: 100, flags: TCP.SYN, id: 1})
      .server(0.0002, 0, {dport: 41004, seq: 5000, ack: 101, flags: TCP.SYN | TCP.ACK, id: 0})
      .atRealServer(0.0021, 0, {sport: 41004, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 3})
      .server(0.5, 0, {dport: 41004, seq: 5001, ack: 114, flags: TCP.RST | TCP.ACK, id: 777})
      .atRealServer(2.0001, 0, {sport: 41005, seq: 300, ack: 9000, flags: TCP.ACK | TCP.PSH, payload: Q, id: 9})
      .server(2.0002, 0, {dport: 41005, seq: 9000, ack: 0, flags: TCP.RST, id: 0})
    const d = session(41004).client(2, {sport: 41005, seq: 300, ack: 9000, flags: TCP.ACK | TCP.PSH, payload: Q, id: 9}, 0)
    const {findings} = diagnose(await incident([{b: d, role: 'director'}, {b: rs, role: 'real-server'}]))
    expect(findings.map((f) => [f.sender, f.cause])).toEqual([
      ['real-server', 'real-server-abort'],
      ['real-server', 'real-server-no-socket'],
    ])
  })
})

describe('stalls', () => {
  it('attempts the director receives but never forwards (expire_nodest_conn=0) → real-server-removed', async () => {
    const b = session(42000)
    let t = 1
    for (const [i, wait] of [0, 0.2, 0.4, 0.8, 1.6].entries()) {
      t += wait
      b.client(t, {sport: 42000, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 10 + i}, null)
    }
    const {findings} = diagnose(await incident([{b, role: 'director'}]))
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({kind: 'stall', sender: 'client', cause: 'real-server-removed'})
    expect(findings[0].epoch).toBeCloseTo(BASE_EPOCH + 1, 5)
    expect(findings[0].recommendation).toMatch(/expire_nodest_conn=1/)
  })

  it('forwarded attempts that go unanswered are genuine loss', async () => {
    const b = session(42001)
    let t = 1
    for (const [i, wait] of [0, 0.2, 0.4, 0.8].entries()) {
      t += wait
      b.client(t, {sport: 42001, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 20 + i}, 0)
    }
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f).toMatchObject({kind: 'stall', cause: 'genuine-loss'})
  })
})

describe('failover and re-scheduling', () => {
  it('a VIP moved by gratuitous ARP, then a reset from the new director for a flow it never had → failover-unsynced', async () => {
    const d1 = session(43000)
    const d2 = new CaptureBuilder()
      .garp(2, HOSTS.director2.mac)
      .client(3, {sport: 43000, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 5}, null, HOSTS.director2)
      .directorRst(3.00005, 43000, 5100, HOSTS.director2)
    const {findings} = diagnose(await incident([{b: d1, role: 'director'}, {b: d2, role: 'director'}]))
    expect(findings.map((f) => [f.kind, f.cause, f.sender])).toEqual([
      ['failover', 'vip-moved', 'director'],
      ['reset', 'failover-unsynced', 'director'],
    ])
    expect(findings[0].epoch).toBeCloseTo(BASE_EPOCH + 2, 5)
    expect(findings[1].confidence).toBe('high')
  })

  it('the new director\'s capture alone: its gratuitous ARP is a move, and the reset for a flow it never had is unsynced', async () => {
    const d2 = new CaptureBuilder()
      .garp(2, HOSTS.director2.mac)
      .client(2.5, {sport: 43100, seq: 1, flags: TCP.SYN, id: 1}, 0, HOSTS.director2)
      .client(3, {sport: 43000, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 5}, null, HOSTS.director2)
      .directorRst(3.00005, 43000, 5100, HOSTS.director2)
    const {findings} = diagnose(await incident([{b: d2, role: 'director'}]))
    expect(findings.map((f) => [f.kind, f.cause, f.confidence])).toEqual([
      ['failover', 'vip-moved', 'high'],
      ['reset', 'failover-unsynced', 'medium'],
    ])
  })

  it('a client moved after a long gap, two quick reconnections stuck by chance (p = 0.25 at 2 servers): no re-schedule, a warning saying what decides', async () => {
    const b = new CaptureBuilder()
    const conn = (t: number, sport: number, rs: number) => b.client(t, {sport, seq: 1, flags: TCP.SYN, id: sport}, rs)
    conn(0, 44000, 0)
    conn(1, 44001, 0)
    conn(2, 44002, 0)
    conn(20, 44003, 1)
    const d = diagnose(await incident([{b, role: 'director'}]))
    expect(d.findings).toEqual([])
    expect(d.warnings).toHaveLength(1)
    expect(d.warnings[0]).toMatchObject({code: 'reschedule-undecided'})
    expect(d.warnings[0].message).toMatch(/probability 0\.25 \(2 servers\)/)
    expect(d.warnings[0].decide).toMatch(/--persistence/)
  })

  it('seven quick reconnections that stuck (p = 0.0078 at 2 servers), then a move after a long gap → persistence-expired, inferred', async () => {
    const b = new CaptureBuilder()
    for (let i = 0; i < 8; i++) b.client(i, {sport: 44100 + i, seq: 1, flags: TCP.SYN, id: i + 1}, 0)
    b.client(30, {sport: 44110, seq: 1, flags: TCP.SYN, id: 99}, 1)
    const {findings} = diagnose(await incident([{b, role: 'director'}]))
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({kind: 'reschedule', cause: 'persistence-expired', sender: 'director', confidence: 'medium'})
    expect(findings[0].flow?.client).toBe(`${HOSTS.client.ip}:44110`)
    expect(findings[0].rule?.evidence.every((e) => e.present)).toBe(true)
  })

  it('a round-robin service moving clients every connection reports no re-schedule', async () => {
    const b = new CaptureBuilder()
    for (let i = 0; i < 8; i++) b.client(i, {sport: 45000 + i, seq: 1, flags: TCP.SYN, id: i + 1}, i % 2)
    expect(diagnose(await incident([{b, role: 'director'}])).findings).toEqual([])
  })
})
