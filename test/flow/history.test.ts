import {describe, expect, it} from 'vitest'
import type {FlowSummary} from '../../src/flow/tracker.js'
import {A, Driver, R, S} from './builder.js'
import {SCENARIOS} from './scenarios.js'

function summary(drive: (d: Driver) => void): FlowSummary {
  const d = new Driver()
  drive(d)
  const flows = d.tracker.flows()
  expect(flows).toHaveLength(1)
  return flows[0]
}

function hs(d: Driver): void {
  d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
  d.tcp({from: 's', seq: 5000, ack: 1001, flags: S | A, t: 1})
  d.tcp({from: 'c', seq: 1001, ack: 5001, t: 2})
}

describe('Zeek history and conn_state', () => {
  it('normal connection: ShADadFf, SF, endpoints and counters', () => {
    const f = summary(SCENARIOS['clean conversation'])
    expect(f).toMatchObject({history: 'ShADadFf', state: 'SF', protocol: 'tcp', ipVersion: 4, reason: 'live'})
    expect(f.orig).toMatchObject({addr: '10.0.0.1', port: 40000, packets: 6, payloadBytes: 100, syn: 1, fin: 1, rst: 0})
    expect(f.resp).toMatchObject({addr: '10.0.0.2', port: 80, packets: 4, payloadBytes: 300, syn: 1, fin: 1})
    expect(f.initialRttNs).toBe(2_000_000)
    expect(f.lastFrame - f.firstFrame).toBe(9)
  })

  it('rejected: Sr, REJ', () => {
    const f = summary((d) => {
      d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
      d.tcp({from: 's', seq: 0, ack: 1001, flags: R | A, t: 1})
    })
    expect(f).toMatchObject({history: 'Sr', state: 'REJ'})
  })

  it('no answer: S0; a SYN retransmitted with the same ISN adds no letter', () => {
    const f = summary((d) => {
      d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
      d.tcp({from: 'c', seq: 1000, flags: S, t: 1000})
    })
    expect(f).toMatchObject({history: 'S', state: 'S0'})
    expect(f.orig.analysis).toEqual({retransmission: 1})
  })

  it('originator aborts: ShAR, RSTO; SYN then RST: SR, RSTOS0', () => {
    expect(
      summary((d) => {
        hs(d)
        d.tcp({from: 'c', seq: 1001, flags: R, t: 5})
      }),
    ).toMatchObject({history: 'ShAR', state: 'RSTO'})
    expect(
      summary((d) => {
        d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
        d.tcp({from: 'c', seq: 1001, flags: R, t: 5})
      }),
    ).toMatchObject({history: 'SR', state: 'RSTOS0'})
  })

  it('responder aborts an established connection: RSTR', () => {
    expect(
      summary((d) => {
        hs(d)
        d.tcp({from: 's', seq: 5001, flags: R, t: 5})
      }),
    ).toMatchObject({history: 'ShAr', state: 'RSTR'})
  })

  it('midstream traffic only: OTH; first packet a SYN/ACK flips roles (^)', () => {
    expect(summary((d) => void d.tcp({from: 'c', seq: 1, ack: 1, len: 10, t: 0}))).toMatchObject({
      history: 'D',
      state: 'OTH',
    })
    const f = summary((d) => {
      d.tcp({from: 's', seq: 5000, ack: 1001, flags: S | A, t: 0})
      d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1})
    })
    expect(f.history).toBe('^hA')
    expect(f.orig.addr).toBe('10.0.0.1')
  })

  it('retransmissions and zero windows are logged logarithmically (1st, 10th, 100th)', () => {
    const f = summary((d) => {
      hs(d)
      d.tcp({from: 'c', seq: 1001, ack: 5001, len: 10, t: 10})
      for (let i = 0; i < 10; i++) d.tcp({from: 'c', seq: 1001, ack: 5001, len: 10, t: 11 + i})
      for (let i = 0; i < 12; i++) d.tcp({from: 's', seq: 5001, ack: 1011, win: 0, t: 30 + i})
    })
    expect(f.history).toBe('ShADTTaww')
    expect(f.orig.analysis.retransmission).toBe(10)
    expect(f.resp.analysis.zero_window).toBe(12)
  })

  it('UDP flows: counted, S0 one-way and SF both ways', () => {
    const d = new Driver()
    const a = d.udp('c', 0, 100)
    expect(d.udp('c', 1, 50)).toBe(a)
    expect(d.tracker.flows()[0]).toMatchObject({protocol: 'udp', state: 'S0', history: ''})
    d.udp('s', 2, 10)
    expect(d.tracker.flows()[0]).toMatchObject({state: 'SF'})
    expect(d.tracker.flows()[0].orig.payloadBytes).toBe(150)
  })
})
