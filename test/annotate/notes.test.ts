import {describe, expect, it} from 'vitest'

import {coloringRules} from '../../src/annotate/coloring.js'
import {findingComments, frameAnnotations, noteCapture, sectionComments} from '../../src/annotate/frame-notes.js'
import {RetransmissionOrigins} from '../../src/annotate/origins.js'
import type {Finding, Report, ReportCapture} from '../../src/report/report.js'

function finding(kind: Finding['kind'], summary: string, evidence: [string, number, string][]): Finding {
  return {
    kind,
    epoch: 0,
    time: '',
    flow: null,
    sender: 'director',
    cause: 'ipvs-idle-timeout',
    confidence: 'high',
    summary,
    evidence: evidence.map(([file, frame, what]) => ({file, frame, epoch: 0, time: '', what})),
    timeline: [],
    realServerView: null,
    application: null,
    recommendation: '',
  }
}

function report(findings: Finding[], captures: Partial<ReportCapture>[] = []): Report {
  return {
    schema: 'lvscope/report@1',
    generatedBy: 'lvscope 0.0.0',
    captures: captures as ReportCapture[],
    topology: {services: [], vips: [], forwarding: 'DR', directors: [], realServers: []},
    timeouts: {tcp: 6, tcpfin: 3, udp: 30, persistence: null, source: '', bounds: {tcp: null}, contradictions: []},
    artifacts: {drCopies: 0, spanDuplicates: 0, genuineRetransmissions: 0, wiresharkFlags: {total: 0, artifacts: 0}},
    correlation: {reference: 'd.pcap', flows: []},
    findings,
    verdict: '',
  }
}

describe('comments of findings', () => {
  const r = report([
    finding('reset', 'RST from the director', [['d.pcap', 25, 'RST R'], ['d.pcap', 24, 'trigger: not forwarded'], ['rs.pcap', 9, 'last seen']]),
    finding('stall', 'client retransmitted\u001b[2J', [['d.pcap', 24, 'the same frame, again']]),
  ])

  it('tags every evidence frame with its finding, the first of each capture with the verdict; control bytes escaped', () => {
    const d = findingComments(r, 'd.pcap')
    expect(d.get(25)).toEqual(['lvscope #1 reset (ipvs-idle-timeout, high confidence): RST from the director', 'lvscope #1 reset: RST R'])
    expect(d.get(24)).toEqual([
      'lvscope #1 reset: trigger: not forwarded',
      'lvscope #2 stall (ipvs-idle-timeout, high confidence): client retransmitted\\x1b[2J',
      'lvscope #2 stall: the same frame, again',
    ])
    expect([...findingComments(r, 'rs.pcap').keys()]).toEqual([9])
  })

  it('colouring rules: one per finding by kind, then retransmissions, then copies; no @ or control byte in a name', () => {
    const text = coloringRules(report([finding('failover', 'VIP moved @ 10:00\nnext', [])]))
    const rules = text.split('\n').filter((l) => l.startsWith('@'))
    expect(rules).toHaveLength(3)
    const [name, filter, colours] = rules[0].slice(1).split('@')
    expect(name).toBe('lvscope #1 failover: VIP moved 10:00 next')
    expect(filter).toBe('frame.comment contains "lvscope #1 failover"')
    expect(colours).toMatch(/^\[\d+,\d+,\d+\]\[\d+,\d+,\d+\]$/)
    expect(rules[2]).toContain('frame.comment contains "lvscope: DR copy"')
    for (const l of text.split('\n').filter(Boolean)) expect(l.startsWith('@') || l.startsWith('#')).toBe(true)
  })

  it('section comments name role, clock and what --copies drop does to frame numbers', () => {
    const rr = report([], [{file: 'rs.pcap', role: 'real-server', roleReason: 'serves the VIP', clockOffsetSeconds: 2.5, clockOffsetUncertainty: 0.000004, clockSource: 'estimated'}])
    expect(sectionComments(rr, 'rs.pcap', 'drop')).toEqual([
      'lvscope: annotated copy of rs.pcap, written by lvscope 0.0.0',
      'lvscope: role real-server (serves the VIP)',
      'lvscope: clock offset +2.500000 s ± 0.000004 s against d.pcap (estimated)',
      'lvscope: forwarded copies and mirror duplicates left out (--copies drop); frame numbers in comments are those of rs.pcap',
    ])
  })
})

describe('frame annotations on a sample', () => {
  it('copies are noted with their originals; --copies drop keeps evidence frames even when they are copies', async () => {
    const file = 'samples/idle-expiry-mysql/director.pcapng'
    const notes = await noteCapture(file)
    expect(notes.drCopies).toBe(20) // expected.json: the director's 20 forwarded copies (ipvsadm --stats)
    expect(notes.count).toBe(20)
    const evidence = new Map([[23, ['lvscope #1 reset: a copy named as evidence']]])
    const keep = frameAnnotations(notes, evidence, [], 'keep')
    const drop = frameAnnotations(notes, evidence, [], 'drop')
    const kept: number[] = []
    for (let n = 1; n <= notes.summary.packets; n++) {
      if (!drop.drop(n)) kept.push(n)
      expect(keep.drop(n)).toBe(false)
    }
    expect(kept.length).toBe(notes.summary.packets - 20 + 1)
    expect(kept).toContain(23)
    const k2 = frameAnnotations(notes, evidence, [], 'keep')
    // Real IPVS ARPs for rs1 (frames 4, 5) between the first SYN (#3) and its copy (#6).
    expect(k2.frame(6)).toEqual(['lvscope: DR copy of #3 (forwarded to 02:77:00:00:00:0b)'])
    expect(k2.frame(23)).toEqual(['lvscope #1 reset: a copy named as evidence', 'lvscope: DR copy of #22 (forwarded to 02:77:00:00:00:0b)'])
    expect(k2.frame(24)).toEqual([])
  })
})

describe('RetransmissionOrigins', () => {
  it('finds the segment that first carried the sequence number, per flow and direction, and forgets a reused slot', () => {
    const o = new RetransmissionOrigins()
    expect(o.observe(3, 10, true, 1000, 100, 1, false)).toBe(0)
    expect(o.observe(3, 10, false, 5000, 1, 2, false)).toBe(0)
    expect(o.observe(3, 10, true, 1100, 100, 3, false)).toBe(0)
    expect(o.observe(3, 10, true, 1100, 100, 4, true)).toBe(3)
    expect(o.observe(3, 10, true, 1050, 50, 5, true)).toBe(1) // inside the first segment
    expect(o.observe(3, 10, false, 1100, 100, 6, true)).toBe(0) // other direction
    expect(o.observe(3, 11, true, 1100, 100, 7, true)).toBe(0) // the slot now holds another flow
    // Sequence numbers wrap at 2^32.
    expect(o.observe(900, 1, true, 0xffffff00, 0x200, 8, false)).toBe(0)
    expect(o.observe(900, 1, true, 0x50, 10, 9, true)).toBe(8)
  })
})
