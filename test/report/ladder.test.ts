/** Finding.events from the evidence frames of a built DR capture, and the ladder drawn from them. */
import {join} from 'node:path'
import {writeFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {renderHtml} from '../../src/report/html.js'
import {ladderOf} from '../../src/report/ladder.js'
import type {Report} from '../../src/report/report.js'
import {runCli} from '../helpers/cli.js'
import {TCP} from '../helpers/frames.js'
import {BASE_EPOCH, CaptureBuilder, HOSTS} from '../helpers/lvs.js'
import {tempDir} from './hostile.js'
import {goldenReport, htmlText} from './samples.js'

describe('timeline events and the ladder', () => {
  it('a FIN-timeout reset: copies found after their originals, FIN_WAIT timer to its expiry, the trigger ending at the director', () => {
    const b = new CaptureBuilder()
      .client(0, {sport: 41002, seq: 100, flags: TCP.SYN, id: 1}, 0)
      .client(0.001, {sport: 41002, seq: 101, ack: 5001, id: 2}, 0)
      .client(0.01, {sport: 41002, seq: 101, ack: 5001, flags: TCP.FIN | TCP.ACK, id: 5}, 0)
      .client(5.01, {sport: 41002, seq: 102, ack: 5002, id: 6}, null)
      .directorRst(5.01005, 41002, 5002)
    const file = join(tempDir('lvscope-ladder-'), 'director.pcap')
    writeFileSync(file, b.bytes())
    const cli = runCli(['analyze', file, '--timeouts', '10,4,30', '--format', 'json'])
    expect(cli.code, cli.stderr).toBe(0)
    const r = JSON.parse(cli.stdout) as Report
    expect(r.findings).toHaveLength(1)
    const f = r.findings[0]
    expect(f.cause).toBe('ipvs-fin-timeout')
    const at = (t: number): number => Math.round((BASE_EPOCH + t) * 1e6) / 1e6
    // A director capture alone does not show the real server's IP: its lane is named by MAC.
    // Frames: 1-2 SYN + copy, 3-4 ACK + copy, 5-6 FIN + copy, 7 trigger (not forwarded), 8 the director's RST.
    expect(f.events).toEqual([
      {kind: 'client-packet', epoch: at(0.01), capture: file, frame: 5, from: HOSTS.client.ip, to: 'director', flags: '[F.]', length: 0, forwarded: true},
      {kind: 'entry-state', epoch: at(0.01), capture: file, frame: 5, from: 'director', state: 'FIN_WAIT', timeout: 4},
      {kind: 'forwarded-copy', epoch: at(0.01002), capture: file, frame: 6, from: 'director', to: `real server ${HOSTS.rs[0].mac}`, flags: '[F.]', length: 0},
      {kind: 'entry-expired', epoch: at(4.01), capture: null, frame: null, from: 'director', state: 'FIN_WAIT', timeout: 4},
      {kind: 'client-packet', epoch: at(5.01), capture: file, frame: 7, from: HOSTS.client.ip, to: 'director', flags: '[.]', length: 0, forwarded: false},
      {kind: 'rst', epoch: at(5.01005), capture: file, frame: 8, from: 'director', to: HOSTS.client.ip, flags: '[R]', length: 0},
    ])
    expect(f.wireshark?.frames).toEqual([{file, filter: `frame.number in {${f.evidence.map((e) => e.frame).sort((a, b) => a - b).join(', ')}}`}])

    const l = ladderOf(r, f)
    expect(l?.lanes).toEqual([
      {label: HOSTS.client.ip, role: 'client'},
      {label: 'director', role: 'director'},
      {label: `real server ${HOSTS.rs[0].mac}`, role: 'real-server'},
    ])
    const trigger = l?.rows.find((x) => x.event.frame === 7 && x.event.kind === 'client-packet')
    expect(trigger).toMatchObject({from: 0, to: 1, dropped: true, rst: false, idle: {timeout: 4, timer: 'tcpfin'}})
    expect(trigger?.idle?.seconds).toBeCloseTo(5, 6)
    expect(l?.rows.find((x) => x.event.kind === 'rst')).toMatchObject({from: 1, to: 0, rst: true})
    expect(l?.bars).toEqual([{kind: 'entry', lane: 1, from: 1, to: 3, label: 'IPVS entry FIN_WAIT, 4 s timer'}])
  })

  it('a finding without events has no ladder', () => {
    const r = {topology: {directors: [], realServers: []}, captures: []} as unknown as Report
    expect(ladderOf(r, {events: []} as unknown as Report['findings'][number])).toBeNull()
  })

  describe('the persistence template bar', () => {
    const base = goldenReport('persistence-expiry-mysql')
    const f = base.findings[0]
    const created = f.events?.find((e) => e.kind === 'template-created')

    it("ends at the diagnosis' template-expired event when the finding has one", () => {
      const l = ladderOf(base, f)
      const end = l?.rows.findIndex((x) => x.event.kind === 'template-expired') ?? -1
      expect(end).toBe(3)
      const bar = l?.bars.find((b) => b.kind === 'template')
      expect(bar).toEqual({kind: 'template', lane: bar?.lane, from: 0, to: end, label: 'persistence template, 8 s to its expiry at +15.085524 s'})
      expect(l?.rows[end].computed).toBe(false)
      expect(l?.rows.filter((x) => x.event.kind === 'template-expired')).toHaveLength(1)
    })

    it("without one, ends at the creation plus the report's persistence timeout, marked computed", () => {
      const events = (f.events ?? []).filter((e) => e.kind !== 'template-expired').map((e) => (e.kind === 'template-created' ? {...e, timeout: undefined} : e))
      const r = {...base, timeouts: {...base.timeouts, persistence: 5}}
      const g = {...f, events}
      const l = ladderOf(r, g)
      const end = l?.rows.findIndex((x) => x.event.kind === 'template-expired') ?? -1
      // created at +0 (by the session before), the computed expiry at +5, then this session's SYN at +7.085524.
      expect(end).toBe(1)
      expect(l?.rows[end].event.epoch).toBe(Math.round(((created?.epoch ?? 0) + 5) * 1e6) / 1e6)
      expect(l?.rows[end].computed).toBe(true)
      expect(l?.rows[end + 1].event.kind).toBe('client-packet')
      expect(l?.bars.find((b) => b.kind === 'template')).toMatchObject({from: 0, to: end, label: 'persistence template, 5 s to its computed expiry at +5.000000 s'})
      const text = htmlText(renderHtml({...r, findings: [g]}))
      expect(text).toContain('persistence template expires (computed from its timeout)')
      expect(text).toContain('persistence template, 5 s to its computed expiry at +5.000000 s, ends at its computed expiry')
    })

    it('without a timeout anywhere, stays open-ended rather than guess', () => {
      const events = (f.events ?? []).filter((e) => e.kind !== 'template-expired').map((e) => (e.kind === 'template-created' ? {...e, timeout: undefined} : e))
      const r = {...base, timeouts: {...base.timeouts, persistence: null}}
      const l = ladderOf(r, {...f, events})
      expect(l?.rows.some((x) => x.event.kind === 'template-expired')).toBe(false)
      expect(l?.bars.find((b) => b.kind === 'template')).toMatchObject({from: 0, to: null, label: 'persistence template'})
    })
  })
})
