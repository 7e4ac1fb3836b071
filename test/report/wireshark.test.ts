/**
 * The display filters each finding gives are checked by Wireshark itself: in every sample, `tshark -Y` with a
 * capture's `frame.number in {…}` lists exactly that finding's evidence frames there, and the flow filter
 * shows every frame of the finding's flow that its timeline names (and the director's copies on the same 4-tuple).
 */
import {describe, expect, it} from 'vitest'

import {hasTshark, tshark} from '../helpers/cli.js'
import {SAMPLE_NAMES, goldenReport} from './samples.js'

describe.skipIf(!hasTshark())('Wireshark display filters, judged by tshark', () => {
  for (const name of SAMPLE_NAMES) {
    const r = goldenReport(name)
    if (r.findings.length === 0) continue
    it(name, () => {
      for (const f of r.findings) {
        const ws = f.wireshark
        expect(ws).toBeDefined()
        for (const x of ws?.frames ?? []) {
          const listed = tshark(['-r', x.file, '-Y', x.filter, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number)
          expect(listed).toEqual([...new Set(f.evidence.filter((e) => e.file === x.file).map((e) => e.frame))].sort((a, b) => a - b))
          if (ws?.flow && f.kind !== 'failover') {
            const flow = new Set(tshark(['-r', x.file, '-Y', ws.flow, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number))
            // A re-schedule's evidence includes the previous connection's SYN (another flow): only its own frames count.
            const own = (f.events ?? []).filter((e) => e.capture === x.file && e.frame !== null && e.kind !== 'failover' && (f.kind !== 'reschedule' || e.epoch >= f.epoch - 1e-3))
            // A capture that contributes only the failover's gratuitous ARP has no frame of the flow.
            const arpOnly = (f.events ?? []).filter((e) => e.capture === x.file && e.frame !== null).every((e) => e.kind === 'failover')
            if (arpOnly) continue
            expect(own.length).toBeGreaterThan(0)
            for (const e of own) expect(flow.has(e.frame ?? -1), `${x.file} #${e.frame}`).toBe(true)
          }
        }
      }
    })
  }
})
