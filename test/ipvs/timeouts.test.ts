import {describe, expect, it} from 'vitest'

import {contradictions, timeoutBounds} from '../../src/ipvs/bounds.js'
import {parseConfig} from '../../src/ipvs/config/index.js'
import {parseTimeoutsFlag, resolveTimeouts, stateTimeoutsOf} from '../../src/ipvs/timeouts.js'
import {UsageError} from '../../src/util/errors.js'

const KA_NO_SYNC = parseConfig('global_defs {\n  lvs_timeouts tcp 7200 tcpfin 60\n}\nvirtual_server 10.0.0.1 3306 {\n  lb_kind DR\n  persistence_timeout 1800\n  real_server 10.0.1.1 3306 {\n  }\n}\n', 'ka.conf')
const KA_SYNC = parseConfig('global_defs {\n  lvs_timeouts tcp 7200\n  lvs_sync_daemon eth0 VI_1\n}\nvirtual_server 10.0.0.1 3306 {\n  lb_kind DR\n}\n', 'ka-sync.conf')

describe('defaults and flags', () => {
  it('kernel defaults with no input', () => {
    const e = resolveTimeouts()
    expect([e.tcp, e.tcpfin, e.udp, e.persistence, e.persistenceMask]).toEqual([900, 120, 300, null, '255.255.255.255'])
    expect(e.source).toEqual({tcp: 'default', tcpfin: 'default', udp: 'default', persistence: 'default', persistenceMask: 'default'})
    expect(e.contradictions).toEqual([])
  })
  it('--timeouts beats configuration; 0 falls through', () => {
    const e = resolveTimeouts({flags: {timeouts: '3600,0,0', persistence: 600, persistenceMask: '255.255.0.0'}, configs: [KA_SYNC], keepalivedVersion: '2.2.8'})
    expect([e.tcp, e.source.tcp]).toEqual([3600, 'flag'])
    expect([e.tcpfin, e.source.tcpfin]).toEqual([120, 'default'])
    expect([e.persistence, e.source.persistence, e.persistenceMask, e.source.persistenceMask]).toEqual([600, 'flag', '255.255.0.0', 'flag'])
    // The keepalived value that lost is reported as a disagreement.
    expect(e.contradictions[0]).toMatch(/tcp: config:ka-sync.conf:2 gives 7200 s but flag gives 3600 s/)
  })
  it('parseTimeoutsFlag validates', () => {
    expect(parseTimeoutsFlag('7200,120,300')).toEqual({tcp: 7200, tcpfin: 120, udp: 300})
    expect(() => parseTimeoutsFlag('7200,120')).toThrow(UsageError)
    expect(() => parseTimeoutsFlag('a,b,c')).toThrow(UsageError)
  })
  it('stateTimeoutsOf feeds the entry model', () => {
    const t = stateTimeoutsOf({tcp: 7200, tcpfin: 60, udp: 30})
    expect([t.tcp.ES, t.tcp.FW, t.tcp.CW, t.udp]).toEqual([7200, 60, 60, 30])
  })
})

describe('keepalived version rule for lvs_timeouts', () => {
  it('≤ 2.1.3 without lvs_sync_daemon: not applied', () => {
    const e = resolveTimeouts({configs: [KA_NO_SYNC], keepalivedVersion: '2.1.3'})
    expect([e.tcp, e.source.tcp, e.tcpfin]).toEqual([900, 'default', 120])
    expect(e.notes.join('\n')).toMatch(/NOT applied/)
  })
  it('≤ 2.1.3 with lvs_sync_daemon: applied', () => {
    const e = resolveTimeouts({configs: [KA_SYNC], keepalivedVersion: 'Keepalived v1.3.5 (03/19,2017)'})
    expect([e.tcp, e.source.tcp]).toEqual([7200, 'config:ka-sync.conf:2'])
  })
  it('≥ 2.1.4: always applied', () => {
    const e = resolveTimeouts({configs: [KA_NO_SYNC], keepalivedVersion: '2.1.4'})
    expect([e.tcp, e.tcpfin, e.source.tcp]).toEqual([7200, 60, 'config:ka.conf:2'])
    expect(e.alternatives).toEqual([])
  })
  it('unknown version without sync daemon: both readings are given', () => {
    const e = resolveTimeouts({configs: [KA_NO_SYNC]})
    expect(e.tcp).toBe(7200)
    expect(e.alternatives.map((a) => [a.field, a.value, a.source])).toEqual([
      ['tcp', 900, 'default'],
      ['tcpfin', 120, 'default'],
    ])
    expect(e.notes.join('\n')).toMatch(/--keepalived-version/)
  })
  it('unknown version: captures that fit only the default pick the default', () => {
    const e = resolveTimeouts({configs: [KA_NO_SYNC], observations: [{gap: 950, state: 'ES', survived: false, where: 'dir.pcap#88'}]})
    expect([e.tcp, e.source.tcp]).toEqual([900, 'default'])
    expect(e.alternatives[0]).toMatchObject({field: 'tcp', value: 7200})
    expect(e.contradictions).toEqual([])
  })
  it('kernel readback beats keepalived.conf and the disagreement is reported', () => {
    const rt = parseConfig('Timeout (tcp tcpfin udp): 900 120 300\n', 'timeout.txt')
    const e = resolveTimeouts({configs: [KA_NO_SYNC, rt], keepalivedVersion: '2.2.0'})
    expect([e.tcp, e.source.tcp]).toEqual([900, 'config:timeout.txt:1'])
    expect(e.contradictions.some((c) => /config:ka.conf:2 gives 7200 s but config:timeout.txt:1 gives 900 s/.test(c))).toBe(true)
  })
  it('persistence from keepalived', () => {
    const e = resolveTimeouts({configs: [KA_NO_SYNC], keepalivedVersion: '2.2.0'})
    expect([e.persistence, e.source.persistence]).toEqual([1800, 'config:ka.conf:4'])
    expect(e.services).toEqual([{proto: 'tcp', vip: '10.0.0.1', port: 3306, persistence: 1800, mask: '255.255.255.255', source: 'config:ka.conf:4'}])
  })
})

describe('bounds from the captures', () => {
  const obs = [
    {gap: 600, state: 'ES' as const, survived: true, where: 'a#1'},
    {gap: 1200, state: 'ES' as const, survived: true, where: 'a#9'},
    {gap: 3700, state: 'ES' as const, survived: false, where: 'a#20'},
    {gap: 5000, state: 'ES' as const, survived: false, where: 'a#30'},
    {gap: 100, state: 'FW' as const, survived: true},
    {gap: 30, state: 'SR' as const, survived: true},
  ]
  it('(longest survived, shortest killed] per field', () => {
    const b = timeoutBounds(obs)
    expect(b.tcp).toMatchObject({min: 1200, max: 3700, minWhere: 'a#9', maxWhere: 'a#20', consistent: true, survivedCount: 2, killedCount: 2})
    expect(b.tcpfin).toMatchObject({min: 100, max: null})
    expect(b.udp).toBeUndefined()
  })
  it('contradiction with the configured value', () => {
    const b = timeoutBounds(obs)
    expect(contradictions('tcp', 900, 'default', b.tcp)).toEqual([
      'tcp = 900 s (default) but an entry survived 1200 s of client silence (a#9): the real timeout is longer',
    ])
    expect(contradictions('tcp', 3600, 'flag', b.tcp)).toEqual([])
    expect(contradictions('tcp', 7200, 'flag', b.tcp)).toHaveLength(1)
  })
  it('inconsistent observations are flagged', () => {
    const b = timeoutBounds([{gap: 1000, state: 'ES', survived: true}, {gap: 950, state: 'ES', survived: false}])
    expect(b.tcp?.consistent).toBe(false)
    expect(contradictions('tcp', 900, 'default', b.tcp)[0]).toMatch(/timeout changed during the captures/)
  })
  it('resolve: default contradicted and nothing configured → inferred from the shortest kill', () => {
    const e = resolveTimeouts({observations: obs})
    expect([e.tcp, e.source.tcp]).toEqual([3700, 'inferred'])
    expect(e.bounds?.tcp).toEqual({min: 1200, max: 3700})
    expect([e.tcpfin, e.source.tcpfin]).toEqual([120, 'default'])
  })
  it('resolve: configured value contradicted → stays, with the contradiction listed', () => {
    const e = resolveTimeouts({flags: {timeouts: '900,0,0'}, observations: obs})
    expect(e.tcp).toBe(900)
    expect(e.contradictions).toEqual(['tcp = 900 s (flag) but an entry survived 1200 s of client silence (a#9): the real timeout is longer'])
  })
  it('-Lnc rows longer than the timeout contradict it', () => {
    const lnc = parseConfig('IPVS connection entries\nTCP 119:58 ESTABLISHED 10.0.0.5:51234 192.168.1.10:80 192.168.2.20:80\n', 'lnc.txt')
    const e = resolveTimeouts({configs: [lnc]})
    expect(e.contradictions).toEqual(['lnc.txt:2: ESTABLISHED entry with 7198 s left exceeds the tcp timeout 900 s'])
  })
})
