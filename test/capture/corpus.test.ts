/**
 * The reader against every file of the third-party corpus and its oracle manifest (tshark/capinfos
 * 4.0.17, tcpdump 4.99.3). See /work/shared/corpus/README.md for the columns.
 *
 * Expected packet count: `packets_tshark`, except where the manifest notes that capinfos disagrees
 * (`capinfos=` in packets_note): there tshark counts pcapng Custom Blocks as frames, and we count
 * packet records (EPB/SPB/PB) like capinfos and the structural count, so we compare with
 * `capinfos_packets`. Timestamps compare as tshark prints them (9 decimals; µs files end in 000).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import type {CaptureSummary, Timestamp} from '../../src/capture/reader.js'
import {readCapture} from '../../src/capture/reader.js'
import {LvscopeError} from '../../src/util/errors.js'

import {CORPUS} from '../helpers/shared.js'
const FILES = `${CORPUS}/files`

/**
 * Clean files (tshark exit 0, no stderr) where we knowingly differ from the manifest. Each reason
 * was checked by hand against the bytes of the file.
 */
const KNOWN_DIVERGENCES: Record<string, string> = {
  'libpcap__filter__pcapng-tsresol-bin-overflow.pcapng':
    'if_tsresol 0xbf (2^-63), count 2^63-1: the true time is 0.999999999 s (we give it); tshark 4.0.17 ' +
    'overflows to 0.000000001 (README "Known oracle mistakes", libpcap PR #1713)',
  'tcpdump__timestamp_invalid_micro.pcap':
    'records 2-3 have µs fields 1000000 and 2147483648: we carry into seconds (warning ts-frac-range); ' +
    'tshark multiplies by 1000 in 32 bits (2147483648000 mod 2^32 = 0) so its last_ts is an artifact (README)',
  'tcpdump__timestamp_invalid_nano.pcap':
    'records 2-3 have ns fields 1000000000 and 2147483648: we carry into seconds; tshark prints a ' +
    'negative overflowed time (-1418145370.2147483648) (README)',
  'tcpdump__atm-oam-loopback-print-overrun.pcap':
    'its only record has µs field 1159821166 (out of range): we carry 1159 s (1544489736.821166); ' +
    'tshark computes 1159821166*1000 mod 2^32 = 179996080 ns (1544488577.179996080), the same 32-bit ' +
    'overflow as timestamp_invalid_micro',
  'libpcap__pcap-empty-file.pcap':
    '0-byte file: we reject it (empty-file); Wireshark mis-identifies it as ERF with 0 packets (README)',
  'libpcap__pcapng-shb-len-insane.pcapng':
    'SHB says 2097152 bytes in a 28-byte file: we reject it (truncated SHB, nothing readable); Wireshark ' +
    'mis-identifies the file as MIME and shows 1 "packet" (README); capinfos/tcpdump/structure: 0',
  'libpcap__pcapng-truncated-shb.pcapng':
    '16-byte file whose SHB says 28 bytes: we reject it (truncated SHB); Wireshark opens it as MIME with ' +
    '1 "packet"; tcpdump fails, structural count 0',
}

type Row = Record<string, string>

function manifest(): Row[] {
  const [head, ...lines] = readFileSync(`${CORPUS}/manifest.tsv`, 'utf8').trimEnd().split('\n')
  const cols = head.split('\t')
  return lines.map((l) => {
    const c = l.split('\t')
    return Object.fromEntries(cols.map((k, i) => [k, c[i] ?? '']))
  })
}

const fmtTs = (t: Timestamp | null): string => (t ? `${t.sec}.${String(t.nsec).padStart(9, '0')}` : '')

function expectedPackets(r: Row): number {
  return r.packets_note.includes('capinfos=') ? Number(r.capinfos_packets) : Number(r.packets_tshark)
}

interface Outcome {
  row: Row
  summary: CaptureSummary | null
  error: unknown
  ms: number
}

describe.skipIf(!existsSync(`${CORPUS}/manifest.tsv`))('corpus vs manifest oracle', () => {
  const rows = existsSync(`${CORPUS}/manifest.tsv`) ? manifest() : []
  const outcomes: Outcome[] = []
  let totalMs = 0
  beforeAll(async () => {
    const t0 = performance.now()
    for (const row of rows) {
      const t = performance.now()
      let summary: CaptureSummary | null = null
      let error: unknown = null
      try {
        summary = await readCapture(`${FILES}/${row.file}`, () => {})
      } catch (e) {
        error = e
      }
      outcomes.push({row, summary, error, ms: performance.now() - t})
    }
    totalMs = performance.now() - t0
  })
  const isClean = (r: Row) => r.tshark_rc === '0' && r.tshark_error === ''

  it('covers every file in files/', () => {
    expect(rows.map((r) => r.file).sort()).toEqual(readdirSync(FILES).sort())
  })

  it('throws nothing but LvscopeError, and each file is read quickly', () => {
    expect(outcomes.length).toBe(rows.length)
    for (const o of outcomes) {
      if (o.error !== null) expect(o.error, o.row.file).toBeInstanceOf(LvscopeError)
      expect(o.ms, o.row.file).toBeLessThan(2000)
    }
    console.log(`corpus: ${outcomes.length} files read in ${totalMs.toFixed(0)} ms`)
  })

  it('agrees with tshark on count + first + last for clean files', () => {
    const clean = outcomes.filter((o) => isClean(o.row))
    const disagree: string[] = []
    for (const {row, summary, error} of clean) {
      const ok =
        summary !== null &&
        summary.packets === expectedPackets(row) &&
        fmtTs(summary.first) === row.first_ts &&
        fmtTs(summary.last) === row.last_ts
      if (!ok) {
        disagree.push(row.file)
        const got = summary
          ? `${summary.packets} pkts ${fmtTs(summary.first)} .. ${fmtTs(summary.last)}`
          : `rejected: ${(error as Error).message}`
        const known = KNOWN_DIVERGENCES[row.file] ? 'known' : 'UNEXPLAINED'
        console.log(`  ${known}: ${row.file}: got ${got}; manifest ${expectedPackets(row)} pkts ${row.first_ts} .. ${row.last_ts}`)
      }
    }
    const agree = clean.length - disagree.length
    const pct = (100 * agree) / clean.length
    console.log(`clean files: ${agree}/${clean.length} agree on count+first+last (${pct.toFixed(2)}%)`)
    // Every disagreement is explained, and every explanation still corresponds to a disagreement.
    expect(disagree.sort()).toEqual(Object.keys(KNOWN_DIVERGENCES).sort())
    expect(pct).toBeGreaterThanOrEqual(99.5)
  })

  it('reports the link types of the file header / every IDB', () => {
    for (const {row, summary} of outcomes) {
      if (summary === null || row.hdr_linktypes === '' || !isClean(row)) continue
      expect(summary.interfaces.map((i) => i.linktype).join(','), row.file).toBe(row.hdr_linktypes)
    }
  })

  it('on damaged files delivers the packets before the damage and a warning naming the offset', () => {
    let checked = 0
    for (const {row, summary, error} of outcomes) {
      if (isClean(row)) continue
      // Never fewer packets than the tools (custom blocks aside); unknown link types are delivered.
      if (summary) expect(summary.packets, row.file).toBeGreaterThanOrEqual(expectedPackets(row))
      else expect(expectedPackets(row), row.file).toBe(0)
      if (row.hdr_error === '') continue
      checked++
      if (error !== null) {
        expect((error as Error).message, row.file).toContain(row.file)
        continue
      }
      const w = summary!.warnings
      expect(w.length, row.file).toBeGreaterThan(0)
      expect(w[0].message, row.file).toContain(row.file)
      expect(w[0].message, row.file).toMatch(/at byte \d+/)
      const m = /offset (\d+)/.exec(row.hdr_error)
      if (m) expect(w[0].offset, row.file).toBe(Number(m[1]))
    }
    expect(checked).toBeGreaterThan(5)
  })
})
