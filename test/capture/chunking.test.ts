/**
 * Chunking independence: the same bytes fed whole, one byte at a time, or in random pieces give the
 * same records and the same summary (warnings included), on real corpus files of every format.
 */
import {existsSync, readFileSync} from 'node:fs'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {parseChunked} from './helpers.js'

import {CORPUS} from '../helpers/shared.js'

/** Up to `n` files (by name, under 256 KiB) per kind, chosen from the manifest's own facts. */
function pick(): string[] {
  if (!existsSync(`${CORPUS}/manifest.tsv`)) return []
  const [head, ...lines] = readFileSync(`${CORPUS}/manifest.tsv`, 'utf8').trimEnd().split('\n')
  const cols = head.split('\t')
  const rows = lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])))
  const kinds: [string, (r: Record<string, string>) => boolean][] = [
    ['pcap le µs', (r) => r.format === 'pcap' && !r.tags.includes('big-endian') && Number(r.packets_hdr) > 20],
    ['pcap big-endian', (r) => r.format === 'pcap' && r.tags.includes('big-endian')],
    ['pcap ns', (r) => r.format === 'nsecpcap'],
    ['pcap modified', (r) => r.format === 'modpcap'],
    ['pcap FCS bits', (r) => r.tags.includes('linktype-fcs-bits')],
    ['pcapng', (r) => r.format === 'pcapng' && Number(r.packets_hdr) > 20],
    ['pcapng multi-section', (r) => r.tags.includes('multi-section')],
    ['pcapng big-endian', (r) => r.hdr_format === 'pcapng' && r.tags.includes('big-endian')],
    ['pcapng tsresol', (r) => r.tags.includes('tsresol')],
    ['pcapng SPB/custom', (r) => r.packets_note.includes('capinfos=')],
    ['truncated', (r) => r.file.startsWith('truncated__')],
    ['structurally bad', (r) => r.hdr_error !== ''],
  ]
  const out = new Set<string>()
  for (const [, pred] of kinds) {
    rows
      .filter((r) => pred(r) && Number(r.size) < 256 * 1024)
      .map((r) => r.file)
      .sort()
      .slice(0, 3)
      .forEach((f) => out.add(f))
  }
  return [...out]
}

const files = pick()

describe.skipIf(files.length === 0)('chunking does not change the result', () => {
  it('picked files of every kind, with plenty of records and some damage', () => {
    expect(files.length).toBeGreaterThan(25)
    const all = files.map((f) => parseChunked(readFileSync(`${CORPUS}/files/${f}`), [], f))
    expect(all.reduce((n, p) => n + p.recs.length, 0)).toBeGreaterThan(300)
    expect(all.filter((p) => p.error !== null || p.summary!.warnings.length > 0).length).toBeGreaterThan(5)
  })

  it.each(files)('%s: byte-at-a-time == whole buffer', (f) => {
    const bytes = readFileSync(`${CORPUS}/files/${f}`)
    const whole = parseChunked(bytes, [], f)
    const bytewise = parseChunked(bytes, [1], f)
    expect(bytewise).toEqual(whole)
  })

  it('random chunkings == whole buffer (property)', () => {
    const data = files.map((f) => readFileSync(`${CORPUS}/files/${f}`))
    const wholes = data.map((b, i) => parseChunked(b, [], files[i]))
    fc.assert(
      fc.property(
        fc.integer({min: 0, max: data.length - 1}),
        fc.array(fc.integer({min: 1, max: 3000}), {minLength: 1, maxLength: 20}),
        (i, sizes) => {
          expect(parseChunked(data[i], sizes, files[i])).toEqual(wholes[i])
        },
      ),
      {numRuns: 300},
    )
  })
})
