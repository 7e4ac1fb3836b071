/**
 * npm pcap-parser 0.2.1 (an independent stream-based classic-pcap parser) as a second oracle: on
 * every classic µs pcap in the corpus it reads without error, both readers give identical records.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {describe, expect, it} from 'vitest'
import {readCapture} from '../../src/capture/reader.js'

interface PPHeader {
  timestampSeconds: number
  timestampMicroseconds: number
  capturedLength: number
  originalLength: number
}
interface PPParser {
  on(ev: 'packet', f: (p: {header: PPHeader; data: Buffer}) => void): PPParser
  on(ev: 'error', f: (e: Error) => void): PPParser
  on(ev: 'end', f: () => void): PPParser
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as {parse(input: string): PPParser}

import {CORPUS_FILES as FILES} from '../helpers/shared.js'

/** One record as both sides can state it: total µs (we carry out-of-range µs into seconds), lengths, bytes. */
type Rec = [number, number, number, string]

function theirs(path: string): Promise<{recs: Rec[]; error: string | null}> {
  return new Promise((resolve) => {
    const recs: Rec[] = []
    let error: string | null = null
    pcapParser
      .parse(path)
      .on('packet', ({header: h, data}) => {
        recs.push([h.timestampSeconds * 1e6 + h.timestampMicroseconds, h.capturedLength, h.originalLength, data.toString('hex')])
      })
      .on('error', (e) => (error = e.message))
      .on('end', () => resolve({recs, error}))
  })
}

async function ours(path: string): Promise<Rec[]> {
  const recs: Rec[] = []
  await readCapture(path, (r) => {
    recs.push([r.tsSec * 1e6 + r.tsNsec / 1000, r.caplen, r.origlen, Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString('hex')])
  })
  return recs
}

function isMicroPcap(path: string): boolean {
  const b = readFileSync(path).subarray(0, 4)
  if (b.length < 4) return false
  const le = b.readUInt32LE(0)
  return le === 0xa1b2c3d4 || le === 0xd4c3b2a1
}

describe.skipIf(!existsSync(FILES))('pcap-parser agrees on classic µs pcaps', () => {
  it('identical records on every file it can read', async () => {
    const files = readdirSync(FILES)
      .filter((f) => isMicroPcap(`${FILES}/${f}`))
      .sort()
    let compared = 0
    let records = 0
    const refused: string[] = []
    for (const f of files) {
      const path = `${FILES}/${f}`
      const t = await theirs(path)
      if (t.error !== null) {
        refused.push(`${f}: ${t.error}`)
        continue
      }
      let o: Rec[]
      try {
        o = await ours(path)
      } catch (e) {
        // We refuse only files with no complete header; pcap-parser then silently yields nothing.
        expect(t.recs, f).toEqual([])
        refused.push(`${f}: ours: ${(e as Error).message.replace(/^.*\//, '')}`)
        continue
      }
      expect(o, f).toEqual(t.recs)
      compared++
      records += o.length
    }
    console.log(`pcap-parser: ${compared} of ${files.length} classic µs pcaps compared, ${records} records identical; refused: ${refused.join('; ') || 'none'}`)
    expect(compared).toBeGreaterThan(1500)
    expect(records).toBeGreaterThan(50000)
  })
})
