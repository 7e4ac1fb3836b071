import {describe, expect, it} from 'vitest'

import {buildTemplateTimeline, templateKey, wouldReschedule} from '../../src/ipvs/template.js'

/** When the template of one connection (new at tNew, its entry gone at C) leaves the table. */
function templateGoneAt(tNew: number, p: number, c: number): number {
  return buildTemplateTimeline([{start: tNew, end: c}], p)[0].removedAt
}

describe('template disappearance formula (M5)', () => {
  it('C ≤ E0 → E0', () => {
    expect(templateGoneAt(100, 360, 300)).toBe(460)
    expect(templateGoneAt(100, 360, 460)).toBe(460)
  })
  it('C > E0 → E0 + 60·ceil((C − E0)/60)', () => {
    expect(templateGoneAt(100, 360, 461)).toBe(520)
    expect(templateGoneAt(100, 360, 580)).toBe(580)
    expect(templateGoneAt(100, 360, 581)).toBe(640)
    expect(templateGoneAt(0, 360, 1000)).toBe(1020)
  })
  it('float times that land on a cycle boundary do not gain a cycle', () => {
    expect(templateGoneAt(0.1, 360, 0.1 + 360 + 120)).toBe(0.1 + 360 + 120)
  })
})

describe('template timeline', () => {
  it('a single short connection: gone at t_new + p', () => {
    const lives = buildTemplateTimeline([{start: 10, end: 140}], 360)
    expect(lives).toHaveLength(1)
    expect(lives[0].removedAt).toBe(370)
    expect(lives[0].cycles).toBe(0)
  })
  it('only NEW connections re-arm it (to t + p)', () => {
    const lives = buildTemplateTimeline([{start: 0, end: 100}, {start: 300, end: 400}], 360)
    expect(lives).toHaveLength(1)
    expect(lives[0].removedAt).toBe(660)
    expect(lives[0].tauAtLastNew).toBe(360)
  })
  it('a long controlled connection makes it cycle in 60 s steps', () => {
    const lives = buildTemplateTimeline([{start: 0, end: 1000}], 360)
    expect(lives[0].removedAt).toBe(1020)
    expect(lives[0].cycles).toBe(11)
    expect(lives[0].firstCycleAt).toBe(360)
  })
  it('a new connection during cycling re-arms to t + 60, not t + p', () => {
    const conns = [{start: 0, end: 1000}, {start: 500, end: 520}]
    const lives = buildTemplateTimeline(conns, 360)
    expect(lives).toHaveLength(1)
    expect(lives[0].tauAtLastNew).toBe(60)
    expect(lives[0].armedUntil).toBe(560)
    // From 560 the cycles continue until the long connection is gone at 1000: 560 + 60·8 = 1040.
    expect(lives[0].removedAt).toBe(1040)
  })
  it('after removal the next connection creates a fresh template (rescheduled)', () => {
    const conns = [{start: 0, end: 50}, {start: 400, end: 450}]
    const lives = buildTemplateTimeline(conns, 360)
    expect(lives).toHaveLength(2)
    expect(lives[0].removedAt).toBe(360)
    expect(lives[1].start).toBe(400)
    expect(wouldReschedule(lives, 359)).toBe(false)
    expect(wouldReschedule(lives, 360)).toBe(true)
    expect(wouldReschedule(lives, 380)).toBe(true)
    expect(wouldReschedule(lives, 401)).toBe(false)
  })
  it('a connection at exactly the expiry instant finds the template gone', () => {
    const lives = buildTemplateTimeline([{start: 0, end: 10}, {start: 360, end: 370}], 360)
    expect(lives).toHaveLength(2)
  })
  it('ASSURED is the first ESTABLISHED of a controlled connection', () => {
    const lives = buildTemplateTimeline([{start: 0, end: 50}, {start: 5, end: 60, establishedAt: 5.2}], 360)
    expect(lives[0].assuredAt).toBe(5.2)
  })
})

describe('template key', () => {
  it('normal service with netmask', () => {
    expect(templateKey({proto: 'tcp', vip: '192.168.1.10', port: 80, mask: '255.255.255.0'}, '10.0.0.5')).toBe('TCP 10.0.0.0:0 192.168.1.10:80')
    expect(templateKey({proto: 'tcp', vip: '192.168.1.10', port: 80}, '10.0.0.5')).toBe('TCP 10.0.0.5:0 192.168.1.10:80')
  })
  it('port-0 and FTP services key on port 0', () => {
    expect(templateKey({proto: 'tcp', vip: '192.168.1.10', port: 0}, '10.0.0.5')).toBe('TCP 10.0.0.5:0 192.168.1.10:0')
    expect(templateKey({proto: 'tcp', vip: '192.168.1.10', port: 21}, '10.0.0.5')).toBe('TCP 10.0.0.5:0 192.168.1.10:0')
  })
  it('fwmark templates are protocol IP with the mark as a dotted quad', () => {
    expect(templateKey({proto: 'tcp', vip: '', port: 0, fwmark: 1, mask: 24}, '10.0.0.5')).toBe('IP 10.0.0.0:0 0.0.0.1:0')
  })
  it('IPv6 prefix', () => {
    expect(templateKey({proto: 'tcp', vip: '2001:db8::10', port: 443, mask: 64}, '2001:db8:1:2:3:4:5:6')).toBe('TCP [2001:db8:1:2::]:0 [2001:db8::10]:443')
  })
})
