/**
 * The tracker's clean view (a second Wireshark analysis over a subset of frames, sharing the flow
 * lookup) must equal a separate tracker fed only that subset: checked frame by frame on the lab's
 * director captures, where the subset is what is left without the director's forwarded copies.
 */
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {decodeCapture} from '../../src/decode/stream.js'
import {Stop} from '../../src/decode/packet.js'
import {FlowTracker} from '../../src/flow/tracker.js'
import {DrPairer, FrameClass} from '../../src/vantage/dr-pairs.js'
import {REPO_ROOT} from '../helpers/cli.js'

const SAMPLES = join(REPO_ROOT, 'samples')
const DIRECTORS = readdirSync(SAMPLES, {withFileTypes: true})
  .filter((d) => d.isDirectory() && d.name !== 'lab')
  .flatMap((d) => readdirSync(join(SAMPLES, d.name)).filter((f) => /^director.*\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(d.name, f)))

describe('FlowTracker clean view', () => {
  it('finds the director captures', () => {
    expect(DIRECTORS.length).toBeGreaterThanOrEqual(10)
  })
  for (const c of DIRECTORS) {
    it(`equals a tracker fed only the copy-free frames: ${c}`, async () => {
      const pairer = new DrPairer()
      const shared = new FlowTracker({cleanView: true})
      const separate = new FlowTracker()
      let compared = 0
      let flagged = 0
      let copies = 0
      const diffs: string[] = []
      await decodeCapture(join(SAMPLES, c), (rec, pkt) => {
        if (pkt.ipVersion === 0) return
        const cls = pkt.stop === Stop.Ok || pkt.stop === Stop.Truncated ? pairer.observeRecord(rec, pkt) : FrameClass.Original
        const original = cls === FrameClass.Original
        shared.observe(rec, pkt, original)
        if (!original) {
          copies++
          expect(shared.cleanResult.analysed).toBe(false)
          return
        }
        separate.observe(rec, pkt)
        compared++
        const a = shared.cleanResult
        const b = separate.result
        if (b.flags !== 0) flagged++
        if (a.analysed !== b.analysed || a.flags !== b.flags || a.dupAckNum !== b.dupAckNum || a.dupAckFrame !== b.dupAckFrame) {
          if (diffs.length < 5) diffs.push(`frame ${rec.frame}: shared ${a.flags}/${a.dupAckNum} vs separate ${b.flags}/${b.dupAckNum}`)
        }
      })
      expect(diffs).toEqual([])
      expect(copies).toBeGreaterThan(0)
      expect(compared).toBeGreaterThanOrEqual(copies)
      // The comparison means something only if the clean view raises flags of its own.
      if (c.startsWith('loss')) expect(flagged).toBeGreaterThan(0)
    })
  }
})
