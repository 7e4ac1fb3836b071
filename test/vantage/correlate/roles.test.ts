import {describe, expect, it} from 'vitest'
import {inferRole, RoleEvidence} from '../../../src/vantage/correlate/roles.js'

const DIR = 0x0200000000d1
const RS = 0x0200000000b1
const ROUTER = 0x020000000001
const CLIENT = 0x02000000000c

function add(ev: RoleEvidence, n: number, kind: 'req' | 'rep', src: number, dst: number, ttl = 63): void {
  for (let i = 0; i < n; i++) {
    if (kind === 'req') {
      ev.requests++
      ev.reqSrcMac.add(src)
      ev.reqDstMac.add(dst)
      if (ttl === 64) ev.reqInitialTtl++
    } else {
      ev.replies++
      ev.repSrcMac.add(src)
      ev.repDstMac.add(dst)
    }
  }
  ev.hasLinkInfo = true
}

describe('inferRole', () => {
  it('director: DR copies', () => {
    const ev = new RoleEvidence()
    add(ev, 100, 'req', ROUTER, DIR)
    ev.drCopies = 90
    for (let i = 0; i < 90; i++) ev.drFromMac.add(DIR)
    const d = inferRole(ev)
    expect(d.role).toBe('director')
    expect(d.macs).toEqual([DIR])
    expect(d.reason).toMatch(/90 client→VIP frames forwarded again from 02:00:00:00:00:d1/)
  })

  it('director without any forwarding: it answers ARP for the VIP on the MAC requests arrive at', () => {
    const ev = new RoleEvidence()
    add(ev, 20, 'req', ROUTER, DIR)
    add(ev, 2, 'rep', DIR, ROUTER) // its own RSTs
    ev.arpVipFrom.add(DIR)
    expect(inferRole(ev).role).toBe('director')
  })

  it('real server: replies leave with the MAC requests arrive at, requests already routed', () => {
    const ev = new RoleEvidence()
    add(ev, 50, 'req', DIR, RS, 62)
    add(ev, 40, 'rep', RS, ROUTER)
    const d = inferRole(ev)
    expect(d.role).toBe('real-server')
    expect(d.macs).toEqual([RS])
    expect(d.reason).toMatch(/50 of 50 arrive with TTL already decremented/)
  })

  it('client behind a router: both MAC patterns hold, the initial TTL decides', () => {
    const ev = new RoleEvidence()
    add(ev, 50, 'req', CLIENT, ROUTER, 64)
    add(ev, 40, 'rep', ROUTER, CLIENT)
    ev.arpVipFrom.add(ROUTER) // the director's ARP reply reaches the client too
    const d = inferRole(ev)
    expect(d.role).toBe('client')
    expect(d.macs).toEqual([CLIENT])
  })

  it('cooked captures: direction from packet types', () => {
    const rs = new RoleEvidence()
    rs.requests = 10
    rs.reqIncoming = 10
    rs.replies = 10
    rs.repOutgoing = 10
    rs.hasLinkInfo = true
    expect(inferRole(rs).role).toBe('real-server')
    const cl = new RoleEvidence()
    cl.requests = 10
    cl.reqOutgoing = 10
    cl.replies = 10
    cl.repIncoming = 10
    cl.hasLinkInfo = true
    expect(inferRole(cl).role).toBe('client')
  })

  it('unknown, with a reason, when nothing decides', () => {
    const empty = new RoleEvidence()
    empty.frames = 12
    expect(inferRole(empty)).toEqual({role: 'unknown', reason: 'no client↔VIP packets among the first 12 frames', macs: []})
    const raw = new RoleEvidence()
    raw.requests = 10
    raw.replies = 10
    expect(inferRole(raw).role).toBe('unknown')
    expect(inferRole(raw).reason).toMatch(/raw IP/)
  })
})
