import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import type {Report} from '../../src/report/report.js'
import {runCli} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-config-'))

function analyze(args: string[]): Report {
  const r = runCli(['analyze', '--format', 'json', ...args])
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as Report
}

describe('analyze takes its timeouts from configuration, says where from, and reasons with them', () => {
  it('ipvsadm -Ln --timeout output', () => {
    const f = join(tmp, 'timeouts.txt')
    writeFileSync(f, 'Timeout (tcp tcpfin udp): 6 3 30\n')
    const r = analyze(['samples/idle-expiry-mysql', '--config', f])
    expect(r.timeouts).toMatchObject({tcp: 6, tcpfin: 3, udp: 30})
    expect(r.timeouts.source).toContain(`tcp: config:${f}:1`)
    expect(r.findings.map((x) => [x.cause, x.confidence])).toEqual([['ipvs-idle-timeout', 'high']])
    // What the capture proves: the entry survived ~1 s of silence and died after ~10.5 s.
    expect(r.timeouts.bounds.tcp?.killed).toBeGreaterThan(10)
  })

  it('keepalived.conf: lvs_timeouts and persistence_timeout (keepalived ≥ 2.1.4 applies them without sync)', () => {
    const f = join(tmp, 'keepalived.conf')
    writeFileSync(
      f,
      'global_defs {\n  lvs_timeouts tcp 6 tcpfin 3 udp 30\n}\nvirtual_server 10.77.0.100 3306 {\n  lb_kind DR\n  persistence_timeout 8\n  real_server 10.77.0.11 3306 { weight 1 }\n}\n',
    )
    const r = analyze(['samples/persistence-expiry-mysql', '--config', f, '--keepalived-version', '2.2.8'])
    expect(r.timeouts).toMatchObject({tcp: 6, persistence: 8})
    expect(r.findings.map((x) => [x.kind, x.cause, x.confidence])).toEqual([['reschedule', 'persistence-expired', 'high']])
    expect(r.findings[0].recommendation).toMatch(/persistence_timeout/)
  })

  it('a file that is no known configuration is a clear error', () => {
    const f = join(tmp, 'notes.txt')
    writeFileSync(f, 'hello\n')
    const r = runCli(['analyze', 'samples/idle-expiry-mysql', '--config', f])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${f}: not a recognised ipvsadm/keepalived/proc format`)
  })
})

describe('analyze input', () => {
  it('refuses stdin with a usage error (the correlation reads each capture a second time)', () => {
    const r = runCli(['analyze', '-'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/reads each capture twice/)
    expect(r.stderr).not.toMatch(/ENOENT|at .*\.js/)
  })
})
