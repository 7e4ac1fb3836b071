import {describe, expect, it} from 'vitest'

import {TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN} from '../../src/decode/packet.js'
import {decide, type DirectorConfig} from '../../src/ipvs/director.js'
import {Director, type ServiceSpec, type SimPacket} from './simulator.js'

const SYN = TCP_SYN
const ACK = TCP_ACK
const DATA = TCP_ACK | TCP_PSH
const FIN = TCP_FIN | TCP_ACK

const VIP = '192.168.1.10'
function svc(extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {proto: 'tcp', vip: VIP, port: 80, dests: [{id: 'rs1', weight: 1}, {id: 'rs2', weight: 1}], ...extra}
}
function pkt(t: number, flags: number, cport = 40000, caddr = '10.0.0.5'): SimPacket {
  return {t, proto: 'tcp', caddr, cport, vaddr: VIP, vport: 80, flags}
}
function established(d: Director, cport = 40000, t0 = 0): string {
  const v = d.packet(pkt(t0, SYN, cport))
  if (v.action !== 'forward') throw new Error(`SYN not forwarded: ${JSON.stringify(v)}`)
  d.packet(pkt(t0 + 0.1, ACK, cport))
  return v.rs
}

describe('M3 basics', () => {
  it('SYN is scheduled, handshake ACK gives ES 900 s, idle expiry → local RST', () => {
    const d = new Director([svc()])
    const v0 = d.packet(pkt(0, SYN))
    expect(v0).toMatchObject({action: 'forward', created: true, state: 'SR', expiresAt: 60, reason: 'new'})
    expect(d.packet(pkt(1, ACK))).toMatchObject({action: 'forward', state: 'ES', expiresAt: 901})
    expect(d.packet(pkt(900, DATA))).toMatchObject({action: 'forward', state: 'ES', expiresAt: 1800})
    expect(d.packet(pkt(1800, DATA))).toEqual({action: 'local', reason: 'no-entry', rst: true})
  })
  it('an RST with no entry is absorbed silently', () => {
    const d = new Director([svc()])
    expect(d.packet(pkt(0, TCP_RST))).toEqual({action: 'local', reason: 'rst-no-entry', rst: false})
  })
  it('no service for the port: local stack answers (SYN too)', () => {
    const d = new Director([svc()])
    expect(d.packet({...pkt(0, SYN), vport: 81})).toEqual({action: 'local', reason: 'no-service', rst: true})
  })
  it('SYN with no usable dest (all weight 0) → ICMP port unreachable', () => {
    const d = new Director([svc({dests: [{id: 'rs1', weight: 0}]})])
    expect(d.packet(pkt(0, SYN))).toEqual({action: 'icmp-unreachable', reason: 'no-available-dest'})
  })
  it('sloppy_tcp schedules a mid-stream ACK; NONE+ack → ES (CL on 3.10)', () => {
    expect(new Director([svc()], {sloppyTcp: true}).packet(pkt(0, DATA))).toMatchObject({action: 'forward', created: true, state: 'ES', expiresAt: 900})
    expect(new Director([svc()], {sloppyTcp: true, kernel: '3.10'}).packet(pkt(0, DATA))).toMatchObject({action: 'forward', state: 'CL', expiresAt: 10})
  })
  it('UDP: any packet schedules, 300 s', () => {
    const d = new Director([{proto: 'udp', vip: VIP, port: 53, dests: [{id: 'rs1', weight: 1}]}])
    expect(d.packet({t: 0, proto: 'udp', caddr: '10.0.0.5', cport: 5353, vaddr: VIP, vport: 53, flags: 0})).toMatchObject({action: 'forward', state: 'UDP', expiresAt: 300})
  })
})

describe('real server deleted: expire_nodest_conn and the 5.9 split', () => {
  it('expire_nodest_conn=0: every packet dropped, no refresh; after expiry the next one gets a local RST', () => {
    const d = new Director([svc({dests: [{id: 'rs1', weight: 1}]})])
    established(d, 40000, 0) // ES until 900.1
    d.deleteDest(20, 'tcp', VIP, 80, 'rs1')
    expect(d.packet(pkt(30, DATA))).toEqual({action: 'drop', reason: 'dest-unavailable', rs: 'rs1'})
    expect(d.packet(pkt(500, DATA))).toEqual({action: 'drop', reason: 'dest-unavailable', rs: 'rs1'})
    expect(d.conn(pkt(0, 0))?.expiresAt).toBe(900.1)
    expect(d.packet(pkt(901, DATA))).toEqual({action: 'local', reason: 'no-entry', rst: true})
  })
  const cfg = (kernel: string): DirectorConfig => ({kernel, expireNodestConn: true})
  it('< 5.9, expire_nodest_conn=1: the packet is dropped and the NEXT one gets the RST', () => {
    const d = new Director([svc()], cfg('4.19'))
    established(d)
    d.deleteDest(10, 'tcp', VIP, 80, 'rs1')
    expect(d.conn(pkt(0, 0))).toBeDefined() // no delayed flush before 5.9
    expect(d.packet(pkt(11, DATA))).toEqual({action: 'drop', reason: 'nodest-expired', rs: 'rs1'})
    expect(d.packet(pkt(11.2, DATA))).toEqual({action: 'local', reason: 'no-entry', rst: true})
  })
  it('≥ 5.9, expire_nodest_conn=1: the same packet is answered (non-SYN → RST) ...', () => {
    const d = new Director([svc()], cfg('5.10'))
    established(d)
    // Evaluate the decision on the entry itself (the delayed flush would otherwise remove it first).
    const dec = decide({cls: 'ack', proto: 'tcp', entry: {state: 'ES', destAvailable: false, destWeight: 1, controlled: false, noOutput: true}, serviceExists: true, anyService: true}, cfg('5.10'))
    expect(dec).toEqual({action: 'local', reason: 'nodest-reschedule', expiresEntry: true, localRst: true})
    d.deleteDest(10, 'tcp', VIP, 80, 'rs1')
    expect(d.conn(pkt(0, 0))).toBeUndefined() // flushed ~1 jiffy after the delete
    expect(d.packet(pkt(11, DATA))).toEqual({action: 'local', reason: 'no-entry', rst: true})
  })
  it('... and a SYN on the dead entry is rescheduled to a live server in the same packet', () => {
    const dec = decide({cls: 'syn', proto: 'tcp', entry: {state: 'ES', destAvailable: false, destWeight: 1, controlled: false, noOutput: true}, serviceExists: true, anyService: true}, cfg('5.10'))
    expect(dec).toMatchObject({action: 'schedule', reason: 'nodest-reschedule', expiresEntry: true})
    const old = decide({cls: 'syn', proto: 'tcp', entry: {state: 'ES', destAvailable: false, destWeight: 1, controlled: false, noOutput: true}, serviceExists: true, anyService: true}, cfg('5.4'))
    expect(old).toMatchObject({action: 'drop', reason: 'nodest-expired'})
  })
  it('re-adding the server makes surviving entries forward again', () => {
    const d = new Director([svc({dests: [{id: 'rs1', weight: 1}]})])
    established(d)
    d.deleteDest(10, 'tcp', VIP, 80, 'rs1')
    expect(d.packet(pkt(20, DATA)).action).toBe('drop')
    d.addDest(30, 'tcp', VIP, 80, {id: 'rs1', weight: 1})
    expect(d.packet(pkt(40, DATA))).toMatchObject({action: 'forward', rs: 'rs1', created: false, expiresAt: 940})
  })
})

describe('hooks removed with the last service (≥ 5.9)', () => {
  it('≥ 5.9: everything to the VIP hits the local stack', () => {
    const d = new Director([svc()], {kernel: '5.10'})
    established(d)
    d.deleteService(10, 'tcp', VIP, 80)
    expect(d.packet(pkt(11, DATA))).toEqual({action: 'local', reason: 'hooks-off', rst: true})
  })
  it('< 5.9: the entry still exists with a trashed dest, so packets are dropped', () => {
    const d = new Director([svc()], {kernel: '4.19'})
    established(d)
    d.deleteService(10, 'tcp', VIP, 80)
    expect(d.packet(pkt(11, DATA))).toMatchObject({action: 'drop', reason: 'dest-unavailable'})
    expect(d.packet(pkt(11, SYN, 40001))).toEqual({action: 'local', reason: 'no-service', rst: true})
  })
})

describe('conn_reuse_mode (§3.4)', () => {
  it('mode 1: SYN reusing a CLOSE entry is scheduled afresh (next RS by rr)', () => {
    const d = new Director([svc()])
    const rs = established(d)
    d.packet(pkt(5, TCP_RST))
    const v = d.packet(pkt(6, SYN))
    expect(v).toMatchObject({action: 'forward', created: true, reason: 'reuse', previousRs: rs, state: 'SR'})
    expect(v.action === 'forward' && v.rs).not.toBe(rs)
  })
  it('mode 1: SYN on a DR FIN_WAIT entry reuses it (FW → SR), same RS', () => {
    const d = new Director([svc()])
    const rs = established(d)
    d.packet(pkt(5, FIN))
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'forward', created: false, rs, state: 'SR', expiresAt: 66})
  })
  it('mode 3 (bit 2): DR FIN_WAIT entries are rescheduled too', () => {
    const d = new Director([svc()], {connReuseMode: 3})
    established(d)
    d.packet(pkt(5, FIN))
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'forward', created: true, reason: 'reuse'})
  })
  it('mode 0: no reuse; SYN on CLOSE keeps the entry (CL → SR)', () => {
    const d = new Director([svc()], {connReuseMode: 0})
    const rs = established(d)
    d.packet(pkt(5, TCP_RST))
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'forward', created: false, rs, state: 'SR'})
  })
  it('SYN on ES reuses the entry (ES stays ES, 900 s)', () => {
    const d = new Director([svc()])
    const rs = established(d)
    expect(d.packet(pkt(5, SYN))).toMatchObject({action: 'forward', created: false, rs, state: 'ES', expiresAt: 905})
  })
  it('persistence-controlled entries never reuse-reschedule', () => {
    const d = new Director([svc({persistence: 360})])
    const rs = established(d)
    d.packet(pkt(5, TCP_RST))
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'forward', created: false, rs})
  })
  const weight0 = (cfg: DirectorConfig) => {
    const d = new Director([svc()], {expireNodestConn: true, ...cfg})
    const rs = established(d)
    d.setWeight(5, 'tcp', VIP, 80, rs, 0)
    return {v: d.packet(pkt(6, SYN)), rs}
  }
  it('weight 0 + expire_nodest_conn=1: a SYN reschedules in any state (mode 0 too on ≥ 5.16)', () => {
    const {v, rs} = weight0({kernel: '5.16', connReuseMode: 0})
    expect(v).toMatchObject({action: 'forward', created: true, reason: 'reuse-weight0', previousRs: rs})
  })
  it('before c95c07836fa4 (5.4 without the stable backport) mode 0 disabled that branch', () => {
    const {v, rs} = weight0({kernel: '5.4', connReuseMode: 0})
    expect(v).toMatchObject({action: 'forward', created: false, rs, state: 'ES'})
    const b = weight0({kernel: '5.4', connReuseMode: 0, stableBackports: true})
    expect(b.v).toMatchObject({action: 'forward', created: true, reason: 'reuse-weight0'})
  })
  it('weight 0 without expire_nodest_conn: existing entries keep working, new SYN goes elsewhere', () => {
    const d = new Director([svc()])
    const rs = established(d)
    d.setWeight(5, 'tcp', VIP, 80, rs, 0)
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'forward', created: false, rs})
    const other = d.packet(pkt(7, SYN, 40001))
    expect(other.action === 'forward' && other.rs).not.toBe(rs)
  })
  it('conntrack=1: the reusing SYN is dropped, its retransmission is scheduled', () => {
    const d = new Director([svc()], {conntrack: true})
    established(d)
    d.packet(pkt(5, TCP_RST))
    expect(d.packet(pkt(6, SYN))).toMatchObject({action: 'drop', reason: 'old-conntrack'})
    expect(d.packet(pkt(7, SYN))).toMatchObject({action: 'forward', created: true, reason: 'new'})
  })
})

describe('persistence in the simulator (M5)', () => {
  it('same client sticks to the RS until the template is gone, then is rescheduled', () => {
    const d = new Director([svc({persistence: 360})])
    const rs = established(d, 40000, 0)
    d.packet(pkt(1, FIN, 40000)) // FW, gone at 121
    expect(d.packet(pkt(100, SYN, 40001))).toMatchObject({rs}) // re-arms template to 460
    d.packet(pkt(101, FIN, 40001)) // FW → gone at 221
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toMatchObject({expiresAt: 460, nControl: 2})
    d.advance(300) // both controlled entries (FW, 120 s) are gone; the template is not
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toMatchObject({expiresAt: 460, nControl: 0})
    const v = d.packet(pkt(460, SYN, 40002))
    expect(v.action === 'forward' && v.rs).not.toBe(rs)
  })
  it('template cycles in 60 s steps while a controlled connection lives, then ASSURED shows', () => {
    const d = new Director([svc({persistence: 360})])
    established(d, 40000, 0) // ES until 900.1
    d.advance(361)
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toMatchObject({expiresAt: 420, state: 'ASSURED'})
    // The connection dies at 900.1; the timer at 900 still saw it, so the template lives to 960
    // (= templateGoneAt(0, 360, 900.1)).
    d.advance(901)
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toMatchObject({expiresAt: 960, nControl: 0})
    d.advance(959.9)
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toBeDefined()
    d.advance(960)
    expect(d.template(`TCP 10.0.0.5:0 ${VIP}:80`)).toBeUndefined()
  })
  it('a template to a deleted dest is invalidated on next use, and the new SYN is rescheduled', () => {
    const d = new Director([svc({persistence: 360})])
    const rs = established(d, 40000, 0)
    d.deleteDest(10, 'tcp', VIP, 80, rs)
    const v = d.packet(pkt(20, SYN, 40001))
    expect(v.action === 'forward' && v.rs).not.toBe(rs)
    expect(d.entries().filter((e) => e.template && e.invalid)).toHaveLength(1)
  })
})
