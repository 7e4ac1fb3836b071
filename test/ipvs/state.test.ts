import {describe, expect, it} from 'vitest'

import {TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN} from '../../src/decode/packet.js'
import {
  DEFAULT_TCP_TIMEOUTS,
  TCP_STATES,
  applySet,
  defaultStateTimeouts,
  flagClass,
  nextTcpState,
  stateFromName,
  timeoutFor,
  type TcpState,
} from '../../src/ipvs/state.js'

// INPUT-ONLY table transcribed from ipvs-model.md §1.2 (columns NONE ES SS SR FW TW CL CW LA LI SA).
const INPUT_ONLY: Record<'syn' | 'fin' | 'ack' | 'rst', string> = {
  syn: 'SR ES ES SR SR SR SR SR SR SR SR',
  fin: 'CL FW SS TW FW TW CL CW LA LI TW',
  ack: 'ES ES SS ES FW TW CL CW CL LI ES',
  rst: 'CL CL CL SR CL CL CL CL LA LI CL',
}

describe('INPUT-ONLY table (DR/TUN), every cell', () => {
  for (const cls of ['syn', 'fin', 'ack', 'rst'] as const) {
    const row = INPUT_ONLY[cls].split(' ')
    TCP_STATES.forEach((cur, i) => {
      it(`${cls} in ${cur} → ${row[i]}`, () => {
        expect(nextTcpState(cur, cls, 'input-only')).toBe(row[i])
      })
    })
  }
})

describe('INPUT and OUTPUT key cells (NAT)', () => {
  const cases: [TcpState, 'syn' | 'fin' | 'ack' | 'rst', 'input' | 'output', TcpState][] = [
    ['ES', 'fin', 'input', 'CW'], // client FIN in NAT: CLOSE_WAIT, unlike DR's FIN_WAIT
    ['FW', 'fin', 'input', 'TW'],
    ['SA', 'rst', 'input', 'SR'],
    ['NONE', 'ack', 'input', 'ES'],
    ['SR', 'rst', 'input', 'SR'],
    ['ES', 'fin', 'output', 'FW'], // server FIN first
    ['CW', 'fin', 'output', 'TW'], // server FIN after client FIN
    ['NONE', 'syn', 'output', 'SS'],
    ['LI', 'ack', 'output', 'ES'],
    ['TW', 'rst', 'output', 'TW'],
    ['SS', 'rst', 'output', 'SS'],
    ['LA', 'ack', 'output', 'LA'],
    ['LA', 'ack', 'input', 'CL'],
  ]
  for (const [cur, cls, dir, want] of cases) {
    it(`${dir} ${cls} in ${cur} → ${want}`, () => expect(nextTcpState(cur, cls, dir)).toBe(want))
  }
  it('SA+rst differs between INPUT (SR) and INPUT-ONLY (CL)', () => {
    expect(nextTcpState('SA', 'rst', 'input')).toBe('SR')
    expect(nextTcpState('SA', 'rst', 'input-only')).toBe('CL')
  })
})

describe('flag priority RST > SYN > FIN > ACK, none → CLOSE', () => {
  it('classifies combined flags', () => {
    expect(flagClass(TCP_FIN | TCP_ACK)).toBe('fin')
    expect(flagClass(TCP_SYN | TCP_ACK)).toBe('syn')
    expect(flagClass(TCP_RST | TCP_ACK)).toBe('rst')
    expect(flagClass(TCP_RST | TCP_SYN | TCP_FIN)).toBe('rst')
    expect(flagClass(TCP_SYN | TCP_FIN)).toBe('syn')
    expect(flagClass(TCP_PSH | TCP_ACK)).toBe('ack')
    expect(flagClass(TCP_PSH)).toBe('none')
    expect(flagClass(0)).toBe('none')
  })
  it('a packet without SYN/FIN/ACK/RST moves any state to CLOSE', () => {
    for (const s of TCP_STATES) expect(nextTcpState(s, 'none', 'input-only')).toBe('CL')
    expect(nextTcpState('ES', 'none', 'output')).toBe('CL')
  })
})

describe('ack/NONE cell: ES on modern kernels, CL on ≤ 3.10', () => {
  it('selectable', () => {
    expect(nextTcpState('NONE', 'ack', 'input-only')).toBe('ES')
    expect(nextTcpState('NONE', 'ack', 'input-only', {ackNoneIsClose: true})).toBe('CL')
    expect(nextTcpState('NONE', 'ack', 'input', {ackNoneIsClose: true})).toBe('CL')
    // OUTPUT is unaffected.
    expect(nextTcpState('NONE', 'ack', 'output', {ackNoneIsClose: true})).toBe('ES')
  })
})

describe('timeouts and --set', () => {
  it('defaults from §1.1', () => {
    expect(DEFAULT_TCP_TIMEOUTS).toEqual({NONE: 2, ES: 900, SS: 120, SR: 60, FW: 120, TW: 120, CL: 10, CW: 60, LA: 30, LI: 120, SA: 120})
    expect(defaultStateTimeouts().udp).toBe(300)
  })
  it('tcp sets ESTABLISHED only, tcpfin FIN_WAIT only, udp UDP; 0 keeps the value', () => {
    const t = applySet(defaultStateTimeouts(), {tcp: 7200, tcpfin: 0, udp: 45})
    expect(t.tcp.ES).toBe(7200)
    expect(t.tcp.FW).toBe(120)
    expect(t.tcp.TW).toBe(120)
    expect(t.tcp.CW).toBe(60)
    expect(t.tcp.CL).toBe(10)
    expect(t.udp).toBe(45)
    const t2 = applySet(t, {tcp: 0, tcpfin: 30, udp: 0})
    expect(t2.tcp.ES).toBe(7200)
    expect(t2.tcp.FW).toBe(30)
    expect(t2.tcp.TW).toBe(120) // TIME_WAIT is not settable
    expect(timeoutFor(t2, 'UDP')).toBe(45)
  })
  it('state names', () => {
    expect(stateFromName('ESTABLISHED')).toBe('ES')
    expect(stateFromName('fin_wait')).toBe('FW')
    expect(stateFromName('BOGUS')).toBeUndefined()
  })
})
