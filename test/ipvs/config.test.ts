import {describe, expect, it} from 'vitest'

import {detectKinds, parseConfig} from '../../src/ipvs/config/index.js'
import {LvscopeError} from '../../src/util/errors.js'

// Exact formats from ipvs-model.md §8 (ipvsadm 1.31 printf formats; dest lines carry trailing spaces).
const LIST = [
  'IP Virtual Server version 1.2.1 (size=4096)',
  'Prot LocalAddress:Port Scheduler Flags',
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  'TCP  192.168.1.10:80 wlc persistent 360 mask 255.255.255.0',
  '  -> 192.168.2.20:80              Route   1      2          5         ',
  '  -> 192.168.2.21:80              Route   0      0          3         ',
  'UDP  192.168.1.10:53 rr',
  '  -> 192.168.2.30:53              Masq    3      0          0         ',
  'FWM  7 sh',
  '  -> 192.168.2.40:0               Tunnel  1      0          0         ',
  '',
].join('\n')

const CONNS = [
  'IPVS connection entries',
  'pro expire state       source             virtual            destination',
  'TCP 14:58  ESTABLISHED 10.0.0.5:51234     192.168.1.10:80    192.168.2.20:80',
  'TCP 01:59  FIN_WAIT    10.0.0.5:51230     192.168.1.10:80    192.168.2.20:80',
  'TCP 05:59  NONE        10.0.0.5:0         192.168.1.10:80    192.168.2.20:80',
  'IP  05:59  NONE        10.0.0.0:0         0.0.0.1:0          192.168.2.20:0',
  'TCP 60:00  ASSURED     10.0.0.7:0         192.168.1.10:80    192.168.2.21:80',
  'TCP 00:41  NONE        10.0.0.8:0         192.168.1.10:65535 192.168.2.21:65535',
].join('\n')

describe('ipvsadm -Ln', () => {
  const f = parseConfig(LIST, 'ipvsadm-Ln.txt')
  it('is recognised by content', () => expect(f.kinds).toEqual(['ipvsadm-list']))
  it('services, scheduler, persistence, mask', () => {
    expect(f.services.map((s) => [s.proto, s.vip, s.port, s.fwmark, s.scheduler, s.persistence, s.persistenceMask])).toEqual([
      ['tcp', '192.168.1.10', 80, undefined, 'wlc', 360, '255.255.255.0'],
      ['udp', '192.168.1.10', 53, undefined, 'rr', undefined, undefined],
      ['fwmark', undefined, undefined, 7, 'sh', undefined, undefined],
    ])
  })
  it('dests with forward method, weight and counters', () => {
    expect(f.services[0].dests.map((d) => [d.addr, d.port, d.method, d.weight, d.activeConns, d.inactConns, d.source.line])).toEqual([
      ['192.168.2.20', 80, 'DR', 1, 2, 5, 5],
      ['192.168.2.21', 80, 'DR', 0, 0, 3, 6],
    ])
    expect(f.services[1].dests[0].method).toBe('NAT')
    expect(f.services[2].dests[0].method).toBe('TUN')
    expect(f.warnings).toEqual([])
  })
  it('--persistent-conn column order', () => {
    const g = parseConfig(
      ['Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight PersistConn ActiveConn InActConn', 'TCP  10.1.1.1:443 rr persistent 900', '  -> 10.1.2.1:443                 Route   1      4          7          9'].join('\n'),
      'x',
    )
    expect(g.services[0].dests[0]).toMatchObject({weight: 1, activeConns: 7, inactConns: 9})
    expect(g.services[0].persistence).toBe(900)
  })
})

describe('ipvsadm -Ln --timeout', () => {
  it('reads the three kernel cells', () => {
    const f = parseConfig('Timeout (tcp tcpfin udp): 7200 120 300\n', 't')
    expect(f.kinds).toEqual(['ipvsadm-timeout'])
    expect(f.timeouts).toEqual([{tcp: 7200, tcpfin: 120, udp: 300, kind: 'runtime', source: {file: 't', line: 1}}])
  })
})

describe('ipvsadm -Lnc', () => {
  const f = parseConfig(CONNS, 'lnc')
  it('rows, expiry with uncapped minutes, template detection', () => {
    expect(f.kinds).toEqual(['ipvsadm-conns'])
    expect(f.conns.map((c) => [c.proto, c.template, c.state, c.expires, c.caddr, c.cport, c.vport, c.daddr])).toEqual([
      ['TCP', false, 'ES', 898, '10.0.0.5', 51234, 80, '192.168.2.20'],
      ['TCP', false, 'FW', 119, '10.0.0.5', 51230, 80, '192.168.2.20'],
      ['TCP', true, undefined, 359, '10.0.0.5', 0, 80, '192.168.2.20'],
      ['IP', true, undefined, 359, '10.0.0.0', 0, 0, '192.168.2.20'],
      ['TCP', true, undefined, 3600, '10.0.0.7', 0, 80, '192.168.2.21'],
      ['TCP', true, undefined, 41, '10.0.0.8', 0, 65535, '192.168.2.21'],
    ])
    expect(f.conns.map((c) => c.invalid)).toEqual([false, false, false, false, false, true])
  })
  it('a -Ln and -Lnc pasted together are both read, without confusing rows for services', () => {
    const g = parseConfig(`${LIST}\n${CONNS}\nTimeout (tcp tcpfin udp): 900 120 300\n`, 'both')
    expect(g.kinds).toEqual(['ipvsadm-list', 'ipvsadm-timeout', 'ipvsadm-conns'])
    expect(g.services).toHaveLength(3)
    expect(g.conns).toHaveLength(6)
    expect(g.timeouts).toHaveLength(1)
  })
})

describe('ipvsadm -S -n', () => {
  it('A131 spelling', () => {
    const f = parseConfig(
      ['-A -t 192.168.1.10:80 -s wlc -p 360 -M 255.255.255.0 --pe sip -o', '-a -t 192.168.1.10:80 -r 192.168.2.20:80 -g -w 1', '-a -t 192.168.1.10:80 -r 192.168.2.21:80 -g -w 0', '-A -f 3 -s rr', '-a -f 3 -r 10.9.9.9:0 -i -w 2', '-A -u 192.168.1.10:53 -s rr', '-a -u 192.168.1.10:53 -r 192.168.2.30:53 -m -w 5'].join('\n'),
      'rules',
    )
    expect(f.kinds).toEqual(['ipvsadm-rules'])
    expect(f.services[0]).toMatchObject({proto: 'tcp', vip: '192.168.1.10', port: 80, scheduler: 'wlc', persistence: 360, persistenceMask: '255.255.255.0', pe: 'sip', onePacket: true})
    expect(f.services[0].dests.map((d) => [d.addr, d.method, d.weight])).toEqual([
      ['192.168.2.20', 'DR', 1],
      ['192.168.2.21', 'DR', 0],
    ])
    expect(f.services[1]).toMatchObject({proto: 'fwmark', fwmark: 3})
    expect(f.services[1].dests[0]).toMatchObject({method: 'TUN', weight: 2})
    expect(f.services[2].dests[0]).toMatchObject({method: 'NAT', weight: 5, port: 53})
  })
  it('A126 spelling (" pe X", " ops") and a shell script with --set', () => {
    const f = parseConfig(['#!/bin/sh', 'ipvsadm --set 3600 60 0', '/sbin/ipvsadm -A -t 10.0.0.1:3306 -s wrr -p 1800 pe sip ops', '/sbin/ipvsadm -a -t 10.0.0.1:3306 -r 10.0.1.1:3306 -g -w 1'].join('\n'), 'setup.sh')
    expect(f.services[0]).toMatchObject({persistence: 1800, pe: 'sip', onePacket: true})
    expect(f.services[0].dests).toHaveLength(1)
    expect(f.timeouts).toEqual([{tcp: 3600, tcpfin: 60, udp: 0, kind: 'set', source: {file: 'setup.sh', line: 2}}])
  })
})

describe('shell transcripts', () => {
  it('"$ ipvsadm ..." prompts are read; a -Ln service line is not mistaken for a broken -Lnc row', () => {
    const f = parseConfig(['$ ipvsadm -A -t 172.16.100.1:80 -s rr -p 3600', '$ ipvsadm -a -t 172.16.100.1:80 -r 172.16.100.10 -g -w 2', '$ ipvsadm -Lnc', 'IPVS connection entries', 'TCP 180:03 NONE 10.0.0.1:0 172.16.100.1:80 172.16.100.10:80', 'TCP  172.16.100.1:80 rr persistent 3600'].join('\n'), 'notes.md')
    expect(f.kinds).toEqual(['ipvsadm-list', 'ipvsadm-conns', 'ipvsadm-rules'])
    expect(f.conns.map((c) => c.expires)).toEqual([10803])
    expect(f.warnings).toEqual([])
    expect(f.services.find((s) => s.dests.length > 0)?.dests[0]).toMatchObject({addr: '172.16.100.10', port: 0, weight: 2, method: 'DR'})
  })
})

describe('/proc/net/ip_vs', () => {
  it('hex addresses; persistent in jiffies is kept raw and noted', () => {
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
      'TCP  C0A8010A:0050 wlc persistent 360000 FFFFFF00',
      '  -> C0A80214:0050      Route   1      2          5         ',
      'FWM  00000001 rr ',
      '  -> C0A80215:0000      Masq    1      0          0         ',
    ].join('\n')
    const f = parseConfig(text, 'proc_ip_vs')
    expect(f.kinds).toEqual(['proc-ip_vs'])
    expect(f.services[0]).toMatchObject({vip: '192.168.1.10', port: 80, persistenceJiffies: 360000, persistenceMask: '255.255.255.0'})
    expect(f.services[0].persistence).toBeUndefined()
    expect(f.notes.join(' ')).toMatch(/jiffies/)
    expect(f.services[0].dests[0]).toMatchObject({addr: '192.168.2.20', port: 80, method: 'DR', weight: 1})
    expect(f.services[1]).toMatchObject({proto: 'fwmark', fwmark: 1})
    expect(parseConfig(text, 'p', {hz: 1000}).services[0].persistence).toBe(360)
  })
})

describe('/proc/net/ip_vs_conn and _sync', () => {
  it('conn', () => {
    const f = parseConfig(['Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData', 'TCP 0A000005 C822 C0A8010A 0050 C0A80214 0050 ESTABLISHED     898', 'IP  0A000000 0000 00000001 0000 C0A80214 0000 NONE            359'].join('\n'), 'pc')
    expect(f.kinds).toEqual(['proc-ip_vs_conn'])
    expect(f.conns[0]).toMatchObject({caddr: '10.0.0.5', cport: 51234, vaddr: '192.168.1.10', vport: 80, daddr: '192.168.2.20', state: 'ES', expires: 898, template: false})
    expect(f.conns[1]).toMatchObject({proto: 'IP', template: true, vaddr: '0.0.0.1'})
  })
  it('sync: Origin column', () => {
    const f = parseConfig(['Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires', 'TCP 0A000005 C822 C0A8010A 0050 C0A80214 0050 ESTABLISHED SYNC       601', 'TCP 0A000006 C823 C0A8010A 0050 C0A80214 0050 FIN_WAIT    LOCAL       12'].join('\n'), 'ps')
    expect(f.kinds).toEqual(['proc-ip_vs_conn_sync'])
    expect(f.conns.map((c) => [c.origin, c.state, c.expires])).toEqual([
      ['SYNC', 'ES', 601],
      ['LOCAL', 'FW', 12],
    ])
  })
})

const KEEPALIVED = `! Configuration File for keepalived
global_defs {
   router_id LVS_DEVEL   # comment after a value
   lvs_timeouts tcp 7200 tcpfin 120 udp 300
   lvs_sync_daemon eth0 VI_1 id 51
}

include /etc/keepalived/conf.d/*.conf

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        192.168.1.10
    }
}

virtual_server 192.168.1.10 3306 {
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    persistence_timeout
    persistence_granularity 255.255.255.0
    protocol TCP

    real_server 192.168.2.20 3306 {
        weight 3
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 3
            connect_port 3306
        }
    }
    real_server 192.168.2.21 3306{
        weight 1
        MISC_CHECK { misc_path "/usr/local/bin/check.sh" }
    }
}

virtual_server fwmark 5
{
    lb_algo rr
    lb_kind TUN
    real_server 192.168.2.30 0 {
    }
}

virtual_server_group WEB {
    192.168.1.20 80
    192.168.1.21 80
}
virtual_server group WEB {
    lb_algo rr
    persistence_timeout 50
    real_server 192.168.2.40 80 {
        weight 2
    }
}
`

describe('keepalived.conf', () => {
  const f = parseConfig(KEEPALIVED, 'keepalived.conf')
  it('recognised by content', () => expect(f.kinds).toEqual(['keepalived']))
  it('global_defs lvs_timeouts and lvs_sync_daemon', () => {
    expect(f.timeouts).toEqual([{tcp: 7200, tcpfin: 120, udp: 300, kind: 'set', source: {file: 'keepalived.conf', line: 4}}])
    expect(f.syncDaemons).toEqual([{role: 'unknown', iface: 'eth0', vrrpInstance: 'VI_1', syncId: 51, source: {file: 'keepalived.conf', line: 5}}])
  })
  it('virtual_server: lb_kind, persistence_timeout without value = 360, granularity, real servers', () => {
    const vs = f.services[0]
    expect(vs).toMatchObject({proto: 'tcp', vip: '192.168.1.10', port: 3306, scheduler: 'wrr', persistence: 360, persistenceFrom: 'default', persistenceMask: '255.255.255.0'})
    expect(vs.dests.map((d) => [d.addr, d.port, d.method, d.weight, d.inhibitOnFailure ?? false])).toEqual([
      ['192.168.2.20', 3306, 'DR', 3, true],
      ['192.168.2.21', 3306, 'DR', 1, false],
    ])
  })
  it('fwmark service with the brace on its own line; group expanded', () => {
    expect(f.services[1]).toMatchObject({proto: 'fwmark', fwmark: 5, scheduler: 'rr'})
    expect(f.services[1].dests[0]).toMatchObject({method: 'TUN', port: 0, weight: 1})
    expect(f.services.slice(2).map((s) => [s.vip, s.port, s.group, s.persistence, s.dests[0].method, s.dests[0].weight])).toEqual([
      ['192.168.1.20', 80, 'WEB', 50, 'NAT', 2],
      ['192.168.1.21', 80, 'WEB', 50, 'NAT', 2],
    ])
  })
  it('include is noted, default lb_kind NAT is noted, no warnings', () => {
    expect(f.notes.some((n) => /include \/etc\/keepalived\/conf\.d\/\*\.conf not followed/.test(n))).toBe(true)
    expect(f.notes.some((n) => /defaults to NAT/.test(n))).toBe(true)
    expect(f.warnings).toEqual([])
  })
  it('deprecated per-instance lvs_sync_daemon_interface', () => {
    const g = parseConfig('vrrp_instance VI_2 {\n  lvs_sync_daemon_interface eth1\n}\nvirtual_server 1.1.1.1 80 {\n lb_kind DR\n}\n', 'k2')
    expect(g.syncDaemons).toMatchObject([{iface: 'eth1', vrrpInstance: 'VI_2', deprecated: true}])
  })
  it('unbalanced braces warn instead of throwing', () => {
    const g = parseConfig('virtual_server 1.1.1.1 80 {\n lb_kind DR\n real_server 2.2.2.2 80 {\n weight 1\n', 'broken.conf')
    expect(g.warnings).toEqual(['broken.conf:5: 2 block(s) not closed at end of file'])
    expect(g.services[0].dests[0].addr).toBe('2.2.2.2')
  })
})

describe('dispatcher', () => {
  it('rejects unrecognised text with the file name', () => {
    expect(() => parseConfig('hello world\nnothing here\n', 'notes.txt')).toThrow('notes.txt: not a recognised ipvsadm/keepalived/proc format')
    expect(() => parseConfig('', 'empty')).toThrow(LvscopeError)
    expect(() => parseConfig('\u0000\u0001binary', 'bin')).toThrow(/bin: not a recognised/)
  })
  it('name does not matter; content does', () => {
    expect(detectKinds(CONNS)).toEqual(['ipvsadm-conns'])
    expect(parseConfig(CONNS, 'keepalived.conf').kinds).toEqual(['ipvsadm-conns'])
  })
  it('ipvsadm -L --daemon', () => {
    const f = parseConfig('master sync daemon (mcast=eth0, syncid=51)\n', 'd')
    expect(f.syncDaemons).toEqual([{role: 'master', iface: 'eth0', syncId: 51, source: {file: 'd', line: 1}}])
  })
  it('garbage lines in a recognised file give bounded warnings, not a crash', () => {
    const junk = ['IPVS connection entries', ...Array.from({length: 500}, () => 'TCP 12:34 ESTABLISHED 10.0.0.1:x')].join('\n')
    const f = parseConfig(junk, 'junk')
    expect(f.conns).toHaveLength(0)
    expect(f.warnings.length).toBe(51)
  })
})
