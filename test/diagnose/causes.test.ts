/**
 * Each cause rule of docs/causes.md on built packets, with its negative case: the same scene without the
 * evidence the rule needs is not that cause.
 */
import {describe, expect, it} from 'vitest'

import {diagnose} from '../../src/diagnose/index.js'
import {chanceOfSticking} from '../../src/diagnose/reschedules.js'
import {TCP} from '../helpers/frames.js'
import {CaptureBuilder, HOSTS} from '../helpers/lvs.js'
import {incident} from './incident.js'

const Q = [9, 0, 0, 0, 0x03, 0x73, 0x65, 0x6c, 0x65, 0x63, 0x74, 0x20, 0x31]

function session(sport: number, b = new CaptureBuilder(), rs = 0): CaptureBuilder {
  return b
    .client(0, {sport, seq: 100, flags: TCP.SYN, id: 1}, rs)
    .client(0.001, {sport, seq: 101, ack: 5001, id: 2}, rs)
    .client(0.002, {sport, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 3}, rs)
    .client(0.004, {sport, seq: 114, ack: 5100, id: 4}, rs)
}

describe('ipvs-fin-timeout: the client half-closed, the FIN_WAIT entry expired', () => {
  // tcp 10, tcpfin 4. The client's FIN puts the entry in FIN_WAIT; the ACKs it keeps sending for the server's
  // late answer stay in FIN_WAIT (INPUT-ONLY table) and re-arm the 4 s timer, not the 10 s one.
  function halfClosed(withFin: boolean): CaptureBuilder {
    const b = session(46000)
    b.client(0.01, {sport: 46000, seq: 114, ack: 5100, flags: withFin ? TCP.FIN | TCP.ACK : TCP.ACK, id: 5}, 0)
    b.client(1, {sport: 46000, seq: withFin ? 115 : 114, ack: 5200, id: 6}, 0)
    // 6 s of silence: longer than tcpfin (4), shorter than tcp (10). Then four ACKs, each answered by the director.
    for (let i = 0; i < 4; i++) {
      b.client(7 + i * 0.1, {sport: 46000, seq: withFin ? 115 : 114, ack: 5300 + i * 100, id: 7 + i}, null)
      b.directorRst(7 + i * 0.1 + 50e-6, 46000, 5300 + i * 100)
    }
    return b
  }

  it('every RST of the episode is one finding with its count, each RST as evidence', async () => {
    const d = diagnose(await incident([{b: halfClosed(true), role: 'director'}]))
    expect(d.findings).toHaveLength(1)
    const f = d.findings[0]
    expect(f).toMatchObject({kind: 'reset', sender: 'director', cause: 'ipvs-fin-timeout', confidence: 'high', count: 4})
    expect(f.evidence.filter((e) => e.what.startsWith('RST'))).toHaveLength(4)
    expect(f.events?.filter((e) => e.kind === 'rst')).toHaveLength(4)
    // The entry the model replayed: FIN_WAIT with the tcpfin timer, expired 4 s after the last forwarded ACK.
    const state = f.events?.find((e) => e.kind === 'entry-state')
    expect(state).toMatchObject({state: 'FIN_WAIT', timeout: 4})
    const expired = f.events?.find((e) => e.kind === 'entry-expired')
    expect(expired?.epoch).toBeCloseTo(1_700_000_000 + 1 + 4, 5)
    expect(d.observations.filter((o) => !o.survived)).toEqual([expect.objectContaining({state: 'FW'})])
  })

  it('negative: without the client FIN the same silence is shorter than the ESTABLISHED timer — not a FIN timeout', async () => {
    const d = diagnose(await incident([{b: halfClosed(false), role: 'director'}]))
    expect(d.findings.map((f) => f.cause)).not.toContain('ipvs-fin-timeout')
    expect(d.findings.every((f) => f.cause !== 'ipvs-idle-timeout')).toBe(true)
  })
})

describe('real-server-removed needs the model to say the entry was held', () => {
  it('negative: packets of an entry that had already expired, dropped silently, are not a removal', async () => {
    const b = session(46100)
    // 12 s of silence > tcp 10 s: the entry is gone, so IPVS would answer with a RST, not drop.
    let t = 12
    for (const [i, wait] of [0, 0.2, 0.4, 0.8, 1.6].entries()) {
      t += wait
      b.client(t, {sport: 46100, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 10 + i}, null)
    }
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f).toMatchObject({kind: 'stall'})
    expect(f.cause).not.toBe('real-server-removed')
    expect(f.cause).toBe('unknown')
    expect(f.rule?.evidence.find((e) => /held by its timer/.test(e.name))?.present).toBe(false)
    expect(f.rule?.decide).toMatch(/log/)
  })
})

describe('stale-arp: after the failover the client still sends to the previous owner\'s MAC', () => {
  function scene(staleClient: boolean): {d1: CaptureBuilder; d2: CaptureBuilder} {
    const d1 = session(46200)
    // director2 takes the VIP at t=2 (its gratuitous ARP is seen on the segment, director1's capture too).
    d1.garp(2, HOSTS.director2.mac)
    const d2 = new CaptureBuilder().garp(2, HOSTS.director2.mac)
    let t = 3
    for (const [i, wait] of [0, 0.2, 0.4, 0.8, 1.6].entries()) {
      t += wait
      const seg = {sport: 46200, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 20 + i}
      // Stale: the frames reach director1 (its MAC), which no longer forwards. Fresh: they reach director2.
      if (staleClient) d1.client(t, seg, null)
      else d2.client(t, seg, null, HOSTS.director2)
    }
    d2.client(2.5, {sport: 46300, seq: 1, flags: TCP.SYN, id: 90}, 0, HOSTS.director2)
    return {d1, d2}
  }

  it('the retransmissions to the old MAC are stale-arp, not a removed real server', async () => {
    const {d1, d2} = scene(true)
    const d = diagnose(await incident([{b: d1, role: 'director'}, {b: d2, role: 'director'}]))
    const stall = d.findings.find((f) => f.kind === 'stall')
    expect(stall).toMatchObject({cause: 'stale-arp', sender: 'client'})
    expect(stall?.events?.some((e) => e.kind === 'failover')).toBe(true)
  })

  it('negative: the same unanswered attempts addressed to the new owner are not stale-arp', async () => {
    const {d1, d2} = scene(false)
    const d = diagnose(await incident([{b: d1, role: 'director'}, {b: d2, role: 'director'}]))
    expect(d.findings.map((f) => f.cause)).not.toContain('stale-arp')
  })

  it('negative: without a failover, frames to the only director are not stale-arp', async () => {
    const b = session(46400)
    let t = 1
    for (const [i, wait] of [0, 0.2, 0.4, 0.8, 1.6].entries()) {
      t += wait
      b.client(t, {sport: 46400, seq: 114, ack: 5100, flags: TCP.ACK | TCP.PSH, payload: Q, id: 30 + i}, null)
    }
    const [f] = diagnose(await incident([{b, role: 'director'}])).findings
    expect(f.cause).toBe('real-server-removed')
  })
})

describe('real-server RSTs: no-socket vs abort (M9)', () => {
  it('RST+ACK answering a SYN (nothing listening) is no-socket; RST with the socket\'s IP ID is abort', async () => {
    const rs = new CaptureBuilder()
      // A new connection after the server died: SYN in, RST+ACK (seq 0, ack = SYN + 1, IP ID 0) out.
      .atRealServer(1, 0, {sport: 46500, seq: 7000, flags: TCP.SYN, id: 1})
      .server(1.0001, 0, {dport: 46500, seq: 0, ack: 7001, flags: TCP.RST | TCP.ACK, id: 0})
      // A live socket aborting: RST+ACK with its own IP ID.
      .atRealServer(2, 0, {sport: 46501, seq: 100, flags: TCP.SYN, id: 2})
      .server(2.0001, 0, {dport: 46501, seq: 5000, ack: 101, flags: TCP.SYN | TCP.ACK, id: 0})
      .atRealServer(2.001, 0, {sport: 46501, seq: 101, ack: 5001, flags: TCP.ACK | TCP.PSH, payload: Q, id: 3})
      .server(2.5, 0, {dport: 46501, seq: 5001, ack: 114, flags: TCP.RST | TCP.ACK, id: 4242})
    const d = diagnose(await incident([{b: rs, role: 'real-server'}]))
    expect(d.findings.map((f) => [f.flow?.client.replace(/.*:/, ''), f.sender, f.cause])).toEqual([
      ['46500', 'real-server', 'real-server-no-socket'],
      ['46501', 'real-server', 'real-server-abort'],
    ])
  })
})

describe('re-schedule: which real server got the connection, whatever the link type', () => {
  // A director captured with -i any (SLL2): its outbound copies name only itself, never the real server.
  function sllScene(): {d: CaptureBuilder; rs0: CaptureBuilder; rs1: CaptureBuilder} {
    const d = new CaptureBuilder(276)
    const rs0 = new CaptureBuilder()
    const rs1 = new CaptureBuilder()
    const conn = (t: number, sport: number, rs: number): void => {
      // A short connection: SYN, then the client's FIN half a second later (its entry ends 4 s after, tcpfin).
      d.client(t, {sport, seq: 1, flags: TCP.SYN, id: sport}, rs)
      d.client(t + 0.5, {sport, seq: 2, ack: 1, flags: TCP.FIN | TCP.ACK, id: sport + 1}, rs)
      ;(rs === 0 ? rs0 : rs1).atRealServer(t + 30e-6, rs, {sport, seq: 1, flags: TCP.SYN, id: sport})
    }
    conn(0, 47000, 0)
    conn(2, 47001, 0)
    conn(20, 47002, 1)
    return {d, rs0, rs1}
  }

  it('from the real-server capture that saw the SYN → persistence-expired under --persistence', async () => {
    const {d, rs0, rs1} = sllScene()
    const inc = await incident([{b: d, role: 'director'}, {b: rs0, role: 'real-server'}, {b: rs1, role: 'real-server'}], '10,4,30', {persistence: 8})
    const [f] = diagnose(inc).findings.filter((x) => x.kind === 'reschedule')
    expect(f).toMatchObject({cause: 'persistence-expired', confidence: 'high'})
    expect(f.summary).toContain(HOSTS.rs[0].mac)
    expect(f.summary).toContain(HOSTS.rs[1].mac)
    expect(f.evidence.some((e) => e.what.includes('real-server-capture'))).toBe(true)
  })

  it('negative: the SLL2 director capture alone cannot tell the servers apart → no re-schedule', async () => {
    const {d} = sllScene()
    const inc = await incident([{b: d, role: 'director'}], '10,4,30', {persistence: 8})
    expect(diagnose(inc).findings.filter((x) => x.kind === 'reschedule')).toEqual([])
  })

  it('negative: a move while the template still held (no failover) is not persistence-expired', async () => {
    const b = new CaptureBuilder()
    b.client(0, {sport: 47100, seq: 1, flags: TCP.SYN, id: 1}, 0)
    b.client(3, {sport: 47101, seq: 1, flags: TCP.SYN, id: 2}, 1)
    const inc = await incident([{b, role: 'director'}], '10,4,30', {persistence: 8})
    const d = diagnose(inc)
    expect(d.findings.map((f) => f.cause)).not.toContain('persistence-expired')
    expect(d.warnings.map((w) => w.code)).toEqual(['reschedule-undecided'])
    expect(d.warnings[0].message).toMatch(/should still have held it/)
  })
})

describe('persistence inferred only where chance cannot explain the sticking', () => {
  it('the probability under a spreading scheduler', () => {
    expect(chanceOfSticking(1, 2)).toBe(0.5)
    expect(chanceOfSticking(7, 2)).toBeLessThan(0.01)
    expect(chanceOfSticking(6, 2)).toBeGreaterThan(0.01)
    expect(chanceOfSticking(3, 5)).toBeLessThan(0.01)
    expect(chanceOfSticking(10, 1)).toBe(1)
  })

  it('negative: a quick reconnection that moved refutes persistence, however many stuck', async () => {
    const b = new CaptureBuilder()
    // Seven reconnections 1 s apart stuck, but one only 0.5 s after its predecessor moved: no template lifetime
    // explains both, so the later move after 22.5 s is not called a persistence expiry either.
    for (let i = 0; i < 8; i++) b.client(i, {sport: 47200 + i, seq: 1, flags: TCP.SYN, id: i + 1}, 0)
    b.client(7.5, {sport: 47210, seq: 1, flags: TCP.SYN, id: 50}, 1)
    b.client(30, {sport: 47211, seq: 1, flags: TCP.SYN, id: 51}, 0)
    expect(diagnose(await incident([{b, role: 'director'}])).findings).toEqual([])
  })
})
