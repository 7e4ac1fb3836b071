import {describe, expect, it} from 'vitest'

import {TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN} from '../../src/decode/packet.js'
import {buildConnTimeline, ConnTimeline, type FlowPacket} from '../../src/ipvs/conn.js'
import {applySet, defaultStateTimeouts} from '../../src/ipvs/state.js'

const SYN = TCP_SYN
const ACK = TCP_ACK
const DATA = TCP_ACK | TCP_PSH
const FIN = TCP_FIN | TCP_ACK
const RST = TCP_RST

function fwd(t: number, flags: number, rs: number | string = 1): FlowPacket {
  return {t, flags, forwarded: true, rs}
}

describe('DR walk-through §1.3 (INPUT-ONLY, default timeouts)', () => {
  const tl = buildConnTimeline([fwd(0, SYN), fwd(0.1, ACK), fwd(5, DATA), fwd(300, DATA), fwd(400, FIN), fwd(410, ACK)])
  it('states and expiry after each packet', () => {
    const got = [0, 1, 2, 3, 4, 5].map((i) => [tl.packet(i).state, tl.packet(i).expiresAt])
    expect(got).toEqual([
      ['SR', 60],
      ['ES', 900.1],
      ['ES', 905],
      ['ES', 1200],
      ['FW', 520],
      ['FW', 530],
    ])
  })
  it('queries: entry at t, state, expiry, last forwarded', () => {
    expect(tl.entryAt(200)).toMatchObject({state: 'ES', expiresAt: 905, alive: true})
    expect(tl.entryAt(529.999)?.alive).toBe(true)
    expect(tl.entryAt(530)?.alive).toBe(false)
    expect(tl.entryAt(405)?.lastForwardedAt).toBe(400)
    // A packet at exactly 400 sees the table before the FIN.
    expect(tl.entryAt(400)?.state).toBe('ES')
    expect(tl.entries()).toHaveLength(1)
  })
  it('RST from ES → CLOSE 10 s; RST in SYN_RECV stays SYN_RECV 60 s', () => {
    const a = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(50, RST)])
    expect(a.packet(2).state).toBe('CL')
    expect(a.packet(2).expiresAt).toBe(60)
    const b = buildConnTimeline([fwd(0, SYN), fwd(2, RST)])
    expect(b.packet(1).state).toBe('SR')
    expect(b.packet(1).expiresAt).toBe(62)
  })
  it('a server that never sends to the director leaves the entry ES 900 s after the client\'s last packet', () => {
    const c = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(2, DATA)])
    expect(c.entries()[0].expiresAt).toBe(902)
    expect(c.entries()[0].end).toBe('open')
  })
})

describe('refresh by forwarded packets only', () => {
  it('unforwarded packets do not refresh; after expiry the verdict is "expired"', () => {
    const tl = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), {t: 100, flags: DATA, forwarded: false}, {t: 950, flags: DATA, forwarded: false}])
    expect(tl.packet(2).verdict).toBe('alive')
    expect(tl.packet(3).verdict).toBe('expired')
    expect(tl.packet(3).idle).toBe(949)
    expect(tl.packet(3).expiresAt).toBe(901)
    expect(tl.entries()[0].end).toBe('expired')
    expect([0, 1, 2, 3].filter((i) => !tl.packet(i).forwarded)).toEqual([2, 3])
  })
  it('at exactly expires_at the entry is gone (timer fires first)', () => {
    const a = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), {t: 901, flags: DATA, forwarded: false}])
    expect(a.packet(2).verdict).toBe('expired')
    const b = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), {t: 900.999, flags: DATA, forwarded: false}])
    expect(b.packet(2).verdict).toBe('alive')
    const c = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(901, DATA)])
    expect(c.entries()).toHaveLength(2)
    expect([c.entries()[0].end, c.entries()[0].endAt]).toEqual(['expired', 901])
  })
  it('a packet with nothing before it is "never"', () => {
    const tl = buildConnTimeline([{t: 5, flags: DATA, forwarded: false}])
    expect(tl.packet(0).verdict).toBe('never')
  })
  it('custom timeouts (--set 3600 60 0) change ES and FW expiry', () => {
    const tl = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(10, FIN)], {timeouts: applySet(defaultStateTimeouts(), {tcp: 3600, tcpfin: 60, udp: 0})})
    expect(tl.packet(1).expiresAt).toBe(3601)
    expect(tl.packet(2).expiresAt).toBe(70)
  })
})

describe('new entries', () => {
  it('a forwarded packet after expiry creates a new entry (created without SYN when sloppy)', () => {
    const tl = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(1000, DATA, 2)])
    expect(tl.entries()).toHaveLength(2)
    expect(tl.entries()[1].createdWithoutSyn).toBe(true)
    expect(tl.entries()[1].state).toBe('ES')
    expect(tl.entries()[0].endAt).toBe(901)
  })
  it('≤ 3.10 ack/NONE cell makes a sloppy-created entry CLOSE (10 s)', () => {
    const tl = buildConnTimeline([fwd(0, DATA)], {ackNoneIsClose: true})
    expect(tl.packet(0).state).toBe('CL')
    expect(tl.packet(0).expiresAt).toBe(10)
  })
  it('conn_reuse_mode=1: SYN on a CLOSE entry starts a new one; on FIN_WAIT it does not', () => {
    const a = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(2, RST), fwd(3, SYN)])
    expect(a.entries()).toHaveLength(2)
    expect(a.entries()[0].end).toBe('replaced')
    const b = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(2, FIN), fwd(3, SYN)])
    expect(b.entries()).toHaveLength(1)
    expect(b.packet(3).state).toBe('SR')
    const c = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(2, FIN), fwd(3, SYN)], {connReuseMode: 3})
    expect(c.entries()).toHaveLength(2)
    const d = buildConnTimeline([fwd(0, SYN), fwd(1, ACK), fwd(2, RST), fwd(3, SYN)], {controlled: true})
    expect(d.entries()).toHaveLength(1)
  })
  it('forwarding to another real server means another entry', () => {
    const tl = buildConnTimeline([fwd(0, SYN, 'rs-a'), fwd(1, ACK, 'rs-a'), fwd(2, DATA, 'rs-b')])
    expect(tl.entries().map((e) => e.end)).toEqual(['replaced', 'open'])
  })
})

describe('NAT: INPUT and OUTPUT both refresh', () => {
  it('client FIN → CLOSE_WAIT 60 s, server FIN → TIME_WAIT 120 s', () => {
    const tl = new ConnTimeline({method: 'NAT'})
    tl.push(0, SYN, true, 1)
    tl.push(0.01, SYN | ACK, true, 1, 'out')
    tl.push(0.02, ACK, true, 1)
    tl.push(10, FIN, true, 1)
    expect(tl.packet(3).state).toBe('CW')
    expect(tl.packet(3).expiresAt).toBe(70)
    tl.push(10.5, FIN, true, 1, 'out')
    expect(tl.packet(4).state).toBe('TW')
    expect(tl.packet(4).expiresAt).toBe(130.5)
  })
})

describe('UDP', () => {
  it('state UDP, 300 s after every packet', () => {
    const tl = buildConnTimeline([fwd(0, 0), fwd(200, 0)], {proto: 'udp'})
    expect(tl.packet(1).state).toBe('UDP')
    expect(tl.packet(1).expiresAt).toBe(500)
  })
})

describe('clock', () => {
  it('out-of-order timestamps are clamped and counted', () => {
    const tl = new ConnTimeline()
    tl.push(10, SYN, true)
    tl.push(9, ACK, true)
    expect(tl.outOfOrder).toBe(1)
    expect(tl.packet(1).t).toBe(10)
  })
})
