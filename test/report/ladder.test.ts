/** Finding.events from the evidence frames of a built DR capture, and the ladder drawn from them. */
import {join} from 'node:path'
import {writeFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {ladderOf} from '../../src/report/ladder.js'
import type {Report} from '../../src/report/report.js'
import {runCli} from '../helpers/cli.js'
import {TCP} from '../helpers/frames.js'
import {BASE_EPOCH, CaptureBuilder, HOSTS} from '../helpers/lvs.js'
import {tempDir} from './hostile.js'

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
})
