/** Every frame of every lab sample capture: the same tcp.analysis flags and dup-ACK numbers as tshark. */
import {readdirSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {REPO_ROOT} from '../helpers/cli.js'
import {compare, divergent, haveTshark, ourFrameFlags, tsharkFrameFlags} from './tshark-flags.js'

const SAMPLES = join(REPO_ROOT, 'samples')
const captures = readdirSync(SAMPLES, {withFileTypes: true})
  .filter((d) => d.isDirectory() && d.name !== 'lab')
  .flatMap((d) => readdirSync(join(SAMPLES, d.name)).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => join(d.name, f)))

if (!haveTshark()) console.warn('\n!!!!!!!! tshark NOT FOUND: skipping the per-frame flag comparison on the samples !!!!!!!!\n')

describe.skipIf(!haveTshark())('tcp.analysis flags on the lab samples agree with tshark on every frame', () => {
  it('finds the sample captures', () => {
    expect(captures.length).toBeGreaterThanOrEqual(20)
  })
  for (const c of captures) {
    it(c, async () => {
      const path = join(SAMPLES, c)
      const [ts, ours] = await Promise.all([tsharkFrameFlags(path), ourFrameFlags(path)])
      expect(ours.frames).toBe(ts.frames)
      const d = compare(c, ts, ours)
      expect(d.examples).toEqual([])
      expect(divergent(d)).toBe(false)
      expect(ts.flags.size).toBe(ours.flags.size)
    })
  }
})
