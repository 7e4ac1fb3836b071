import {describe, expect, it} from 'vitest'

import {TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN} from '../../src/decode/packet.js'
import {buildConnTimeline, type FlowPacket} from '../../src/ipvs/conn.js'
import {applySet, defaultStateTimeouts} from '../../src/ipvs/state.js'
import {backupTemplateAt, failoverVerdict, syncNeeded, syncRecords, templateSyncRecords} from '../../src/ipvs/sync.js'
import {buildTemplateTimeline} from '../../src/ipvs/template.js'

const DATA = TCP_ACK | TCP_PSH
const f = (t: number, flags: number): FlowPacket => ({t, flags, forwarded: true, rs: 1})

describe('sync rule (threshold 3, period 50)', () => {
  it('a 2-packet connection (SYN, ACK) is never synced', () => {
    const tl = buildConnTimeline([f(0, TCP_SYN), f(0.1, TCP_ACK)])
    expect(syncRecords(tl, tl.entries()[0])).toEqual([])
    expect(failoverVerdict(tl, 50).outcome).toBe('never-synced')
  })
  it('the 3rd packet syncs; the backup copy expires at receive time + master state timeout', () => {
    const tl = buildConnTimeline([f(0, TCP_SYN), f(0.1, TCP_ACK), f(2, DATA), f(3, DATA)])
    const recs = syncRecords(tl, tl.entries()[0], {deliveryDelay: 1.5})
    expect(recs.map((r) => [r.inPkts, r.state, r.why, r.receivedAt, r.backupExpiresAt])).toEqual([[3, 'ES', 'threshold', 3.5, 903.5]])
  })
  it('state changes to FW/CL/CW/TW sync at once; 53rd packet syncs again', () => {
    const pk: FlowPacket[] = [f(0, TCP_SYN), f(0.1, TCP_ACK)]
    for (let i = 3; i <= 60; i++) pk.push(f(i, DATA))
    pk.push(f(100, TCP_FIN | TCP_ACK))
    const tl = buildConnTimeline(pk)
    const recs = syncRecords(tl, tl.entries()[0])
    expect(recs.map((r) => [r.inPkts, r.state, r.why])).toEqual([
      [3, 'ES', 'threshold'],
      [53, 'ES', 'threshold'],
      [61, 'FW', 'state-change'],
    ])
    expect(recs[2].backupExpiresAt).toBe(220)
  })
  it('syncNeeded: SYN_RECV never; ES entered by the 2nd packet not forced', () => {
    expect(syncNeeded('SR', 'NONE', 1)).toBeUndefined()
    expect(syncNeeded('ES', 'NONE', 2)).toBeUndefined()
    expect(syncNeeded('CL', 'NONE', 2)).toBe('state-change')
    expect(syncNeeded('FW', 'FW', 4)).toBeUndefined()
    expect(syncNeeded('ES', 'ES', 103)).toBe('threshold')
    expect(syncNeeded('ES', 'ES', 3, 3, 0)).toBe('threshold')
    expect(syncNeeded('ES', 'ES', 53, 3, 0)).toBeUndefined()
  })
  it('master timeouts travel in the record (tcp 7200)', () => {
    const tl = buildConnTimeline([f(0, TCP_SYN), f(0.1, TCP_ACK), f(2, DATA)])
    const recs = syncRecords(tl, tl.entries()[0], {masterTimeouts: applySet(defaultStateTimeouts(), {tcp: 7200, tcpfin: 0, udp: 0})})
    expect(recs[0].backupExpiresAt).toBe(7202)
  })
})

describe('failover', () => {
  it('low-traffic connection: synced at packet 3, expired on the backup while alive on the master', () => {
    const pk: FlowPacket[] = [f(0, TCP_SYN), f(0.1, TCP_ACK), f(2, DATA)]
    for (let i = 1; i <= 5; i++) pk.push(f(2 + 600 * i, DATA))
    const tl = buildConnTimeline(pk)
    expect(tl.hadEntryAt(2000)).toBe(true)
    const v = failoverVerdict(tl, 2000)
    expect(v.outcome).toBe('expired-on-backup')
    expect(v.backupExpiresAt).toBe(902)
    expect(failoverVerdict(tl, 800).outcome).toBe('held')
  })
  it('without lvs_sync_daemon nothing is held; a record still in the buffer is lost', () => {
    const tl = buildConnTimeline([f(0, TCP_SYN), f(0.1, TCP_ACK), f(2, DATA)])
    expect(failoverVerdict(tl, 10, {syncDaemon: false}).outcome).toBe('no-sync-daemon')
    expect(failoverVerdict(tl, 3, {deliveryDelay: 2}).outcome).toBe('sync-in-flight')
    expect(failoverVerdict(tl, 4.5, {deliveryDelay: 2}).outcome).toBe('held')
    expect(failoverVerdict(tl, 1000).outcome).toBe('no-entry-on-master')
  })
  it('templates are synced with their controlled connection and at every 60 s cycle', () => {
    const lives = buildTemplateTimeline([{start: 0, end: 1000}], 360)
    const recs = templateSyncRecords(lives[0], 360, [2])
    expect(recs.map((r) => [r.sentAt, r.timeout, r.why])).toEqual([
      [2, 360, 'controlled-conn'],
      ...Array.from({length: 11}, (_, k) => [360 + 60 * k, 60, 'expire-later']),
    ])
    expect(backupTemplateAt(recs, 300)?.backupExpiresAt).toBe(362)
    expect(backupTemplateAt(recs, 1000)?.backupExpiresAt).toBe(1020)
    expect(backupTemplateAt(recs, 1020)).toBeUndefined()
  })
})
