/**
 * The pipeline as tests call it (the same function `analyze` runs): ambiguities and caps reach the report as
 * typed warnings, and the timeout refinement is a new value.
 */
import {describe, expect, it} from 'vitest'

import {parseConfig} from '../../src/ipvs/config/index.js'
import {resolveTimeouts} from '../../src/ipvs/timeouts.js'
import {analyzeCaptures, refineTimeouts, type AnalyzeOptions} from '../../src/pipeline/analyze.js'
import {capWarnings, timeoutWarnings} from '../../src/pipeline/warnings.js'
import type {CaptureScan} from '../../src/vantage/scan.js'
import {REPO_ROOT} from '../helpers/cli.js'

const opts = (more: Partial<AnalyzeOptions> = {}): AnalyzeOptions => ({
  roles: new Map(),
  offsets: new Map(),
  timeoutFlags: {},
  configs: [],
  kernel: '6.1',
  version: 'test',
  ...more,
})

describe('analyzeCaptures', () => {
  it('an unknown keepalived version is a warning in the report and on the warning channel, saying what decides', async () => {
    // lvs_timeouts without lvs_sync_daemon: applied by keepalived ≥ 2.1.4 only.
    const conf = parseConfig('global_defs {\n  lvs_timeouts tcp 6 tcpfin 3 udp 30\n}\n', 'keepalived.conf')
    const seen: string[] = []
    const {report} = await analyzeCaptures([`${REPO_ROOT}samples/idle-expiry-mysql`].map((d) => `${d}/director.pcapng`), opts({configs: [conf], onWarning: (m) => seen.push(m)}))
    const w = report.warnings ?? []
    expect(w.some((x) => x.code === 'timeouts-ambiguous' && x.decide === 'pass --keepalived-version to decide')).toBe(true)
    expect(seen.some((m) => m.includes('pass --keepalived-version to decide'))).toBe(true)
    // The captures decide it here: an entry died after ~10.5 s of silence, so 900 s does not fit and 6 s does.
    expect(report.timeouts.tcp).toBe(6)
    expect(report.findings.map((f) => f.cause)).toEqual(['ipvs-idle-timeout'])
  })

  it('persistence-expiry without --persistence: one reconnection stuck (chance 0.5), so no cause is claimed and the verdict says a question is open', async () => {
    const dir = `${REPO_ROOT}samples/persistence-expiry-mysql`
    const files = ['director.pcapng', 'rs1.pcap', 'rs2.pcap'].map((f) => `${dir}/${f}`)
    const without = (await analyzeCaptures(files, opts({timeoutFlags: {timeouts: '6,3,30'}}))).report
    expect(without.findings).toEqual([])
    expect(without.warnings?.map((w) => w.code)).toEqual(['reschedule-undecided'])
    expect(without.verdict).toMatch(/1 question\(s\) the captures leave open/)
    const withP = (await analyzeCaptures(files, opts({timeoutFlags: {timeouts: '6,3,30', persistence: 8}}))).report
    expect(withP.findings.map((f) => [f.kind, f.cause, f.confidence])).toEqual([['reschedule', 'persistence-expired', 'high']])
    expect(withP.warnings).toEqual([])
  })

  it('the timeout refinement returns a new value and leaves the configured one as it was', () => {
    const base = {flags: {}}
    const configured = resolveTimeouts(base)
    const refined = refineTimeouts(base, [{gap: 10.5, state: 'ES', survived: false}, {gap: 1, state: 'ES', survived: true}])
    expect(configured.tcp).toBe(900)
    expect(refined).not.toBe(configured)
    expect(refined.tcp).toBe(10.5)
    expect(refined.source.tcp).toBe('inferred')
  })
})

describe('typed warnings', () => {
  it('a full ledger list, dropped events and the service cap each give one; below the caps, none', () => {
    const scan = (n: number, services: number, dropped: number): CaptureScan =>
      ({
        file: 'd.pcap',
        ledger: {connections: {length: n}, stalls: [], arps: [], vipOwnerChanges: [], resets: [], longestSurvived: null, eventsDropped: dropped},
        artifacts: {services: {length: services}},
      }) as unknown as CaptureScan
    expect(capWarnings([scan(99_999, 255, 0)])).toEqual([])
    expect(capWarnings([scan(100_000, 256, 3)]).map((w) => w.code)).toEqual(['cap-connections', 'events-dropped', 'cap-services'])
  })

  it('each alternative reading of a timeout and each note', () => {
    const t = resolveTimeouts({configs: [parseConfig('global_defs {\n  lvs_timeouts tcp 7200\n}\n', 'k.conf')]})
    const w = timeoutWarnings(t)
    expect(w.find((x) => x.code === 'timeouts-ambiguous')?.message).toMatch(/tcp could also be 900 s/)
    expect(w.filter((x) => x.code === 'timeouts-note')).toHaveLength(t.notes.length)
  })
})
