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
import {A, Driver, P, S} from './builder.js'

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

  for (const c of DIRECTORS) {
    it(`forked mid-capture, equals a tracker fed every frame before the fork and copy-free frames after: ${c}`, async () => {
      // Count the IP frames first, to fork in the middle, with connections open and segments unacked.
      let total = 0
      await decodeCapture(join(SAMPLES, c), (_rec, pkt) => {
        if (pkt.ipVersion !== 0) total++
      })
      const forkAt = Math.floor(total / 2)
      const pairer = new DrPairer()
      const shared = new FlowTracker()
      const separate = new FlowTracker()
      let seen = 0
      let compared = 0
      let unackedAtFork = -1
      const diffs: string[] = []
      await decodeCapture(join(SAMPLES, c), (rec, pkt) => {
        if (pkt.ipVersion === 0) return
        const cls = pkt.stop === Stop.Ok || pkt.stop === Stop.Truncated ? pairer.observeRecord(rec, pkt) : FrameClass.Original
        const original = cls === FrameClass.Original
        if (seen++ === forkAt) {
          unackedAtFork = shared.unackedSegments
          shared.startCleanView()
        }
        shared.observe(rec, pkt, original)
        if (seen <= forkAt || original) separate.observe(rec, pkt)
        if (seen <= forkAt || !original) return
        compared++
        const a = shared.cleanResult
        const b = separate.result
        if (a.analysed !== b.analysed || a.flags !== b.flags || a.dupAckNum !== b.dupAckNum || a.dupAckFrame !== b.dupAckFrame) {
          if (diffs.length < 5) diffs.push(`frame ${rec.frame}: shared ${a.flags}/${a.dupAckNum} vs separate ${b.flags}/${b.dupAckNum}`)
        }
      })
      expect(diffs).toEqual([])
      expect(compared).toBeGreaterThan(0)
      expect(unackedAtFork).toBeGreaterThanOrEqual(0)
    })
  }

  it('forked on a two-way capture with data outstanding, then fed every frame, agrees with the full view', async () => {
    // A capture with both directions (a director's holds only the client's side) and loss, forked where a
    // segment is outstanding.
    const file = join(SAMPLES, 'loss-mysql', 'rs1.pcap')
    const probe = new FlowTracker()
    let forkAt = -1
    let n = 0
    await decodeCapture(file, (rec, pkt) => {
      if (pkt.ipVersion === 0) return
      probe.observe(rec, pkt)
      n++
      if (forkAt < 0 && n > 50 && probe.unackedSegments > 0) forkAt = n
    })
    expect(forkAt).toBeGreaterThan(0)
    // Fed every frame, the forked view must then agree with the full one on each of them.
    const t = new FlowTracker()
    n = 0
    let compared = 0
    const diffs: number[] = []
    await decodeCapture(file, (rec, pkt) => {
      if (pkt.ipVersion === 0) return
      if (++n === forkAt) {
        expect(t.unackedSegments).toBeGreaterThan(0)
        t.startCleanView()
      }
      t.observe(rec, pkt)
      if (n < forkAt) return
      compared++
      if (t.cleanResult.flags !== t.result.flags || t.cleanResult.analysed !== t.result.analysed) diffs.push(rec.frame)
      if (t.cleanUnackedSegments !== t.unackedSegments) diffs.push(-rec.frame)
    })
    expect(diffs).toEqual([])
    expect(compared).toBeGreaterThan(100)
  })

  it('copies the unacked-segment lists: later ACKs free the same segments in both views', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 's', seq: 5000, ack: 1001, flags: S | A, t: 1})
    d.tcp({from: 'c', seq: 1001, ack: 5001, t: 2})
    // Five segments outstanding, two of them ending alike (one node counting both).
    for (let i = 0; i < 5; i++) d.tcp({from: 'c', seq: 1001 + 100 * i, ack: 5001, flags: A | P, len: 100, t: 10 + i})
    d.tcp({from: 'c', seq: 1401, ack: 5001, flags: A | P, len: 100, t: 20})
    const t = d.tracker
    const before = t.unackedSegments
    expect(before).toBeGreaterThanOrEqual(5)
    t.startCleanView()
    expect(t.cleanUnackedSegments).toBe(before)
    const counts: [number, number][] = []
    for (const ack of [1201, 1401, 1501]) {
      d.tcp({from: 's', seq: 5001, ack, t: 30 + ack / 1000})
      counts.push([t.unackedSegments, t.cleanUnackedSegments])
      expect(t.cleanResult.flags).toBe(t.result.flags)
    }
    expect(counts.map(([a]) => a)).toEqual([before - 2, before - 4, 0])
    expect(counts.map(([, b]) => b)).toEqual(counts.map(([a]) => a))
  })
})
