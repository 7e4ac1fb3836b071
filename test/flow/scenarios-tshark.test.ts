/**
 * The hand-built scenarios, written as captures and run through tshark and through the full
 * pipeline (reader → decoder → FlowTracker): the flags must be identical frame by frame, and equal
 * to what the Driver (Packet fields set directly) produced.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {tsharkFlags} from '../../src/flow/tcp-analysis.js'
import {Driver} from './builder.js'
import {SCENARIOS, scenarioPcap} from './scenarios.js'
import {haveTshark, ourFrameFlags, tsharkFrameFlags} from './tshark-flags.js'

const tshark = haveTshark()
if (!tshark) console.warn('\n*** SKIPPED test/flow/scenarios-tshark.test.ts: tshark is not installed ***\n')

describe.skipIf(!tshark)('scenarios agree with tshark 4.0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvscope-scen-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  for (const [name, drive] of Object.entries(SCENARIOS)) {
    it(name, async () => {
      const d = new Driver()
      drive(d)
      const file = join(dir, `${name.replace(/\W+/g, '_')}.pcap`)
      writeFileSync(file, scenarioPcap(d.log))
      const [theirs, piped] = await Promise.all([tsharkFrameFlags(file), ourFrameFlags(file)])
      const rows = d.log.map((l, i) => ({
        frame: i + 1,
        tshark: theirs.flags.get(i + 1) ?? 0,
        direct: tsharkFlags(l.flags),
        pipeline: piped.flags.get(i + 1) ?? 0,
        dupTshark: theirs.dupNum.get(i + 1) ?? 0,
        dupOurs: l.dupAckNum,
      }))
      expect(rows.map((r) => ({frame: r.frame, flags: r.direct, dup: r.dupOurs}))).toEqual(
        rows.map((r) => ({frame: r.frame, flags: r.tshark, dup: r.dupTshark})),
      )
      expect(rows.map((r) => r.pipeline)).toEqual(rows.map((r) => r.tshark))
      // Every scenario exercises something: at least one frame is flagged (except the clean one).
      if (name !== 'clean conversation') expect(rows.some((r) => r.tshark !== 0)).toBe(true)
    })
  }
})
