/**
 * The pcapng copier on built captures that hold what the samples do not: two sections (little- and big-endian),
 * two interfaces of different link types and resolutions, existing packet comments, an obsolete Packet Block,
 * Simple Packet Blocks, name resolution, statistics, decryption secrets and custom blocks. tshark reads both.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {describe, expect, it} from 'vitest'

import {copyPcapngAnnotated, type FrameAnnotations} from '../../src/capture/pcapng-writer.js'
import {readCapture} from '../../src/capture/reader.js'
import {PcapngBuilder} from '../helpers/capture-writer.js'
import {hasTshark} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'lvscope-pcapng-copy-'))
const enc = new TextEncoder()
const SEP = '\u001e'

function frame(i: number, len = 60): Uint8Array {
  const b = new Uint8Array(len)
  b.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00])
  for (let k = 14; k < len; k++) b[k] = (i * 31 + k) & 0xff
  return b
}

const comment = (s: string) => ({code: 1, value: enc.encode(s)})

/** The capture: section 1 little-endian, section 2 big-endian; frames 1-7 in all. */
function build(): {bytes: Uint8Array; kept: Uint8Array[]} {
  const b = new PcapngBuilder()
  const kept: Uint8Array[] = []
  const mark = (f: () => void): void => {
    const before = b.build().length
    f()
    kept.push(b.build().slice(before))
  }
  b.shb({options: [comment('original section comment')]})
  mark(() => b.idb({linktype: 1, snaplen: 65535, tsresol: 9, name: 'eth0'}))
  mark(() => b.idb({linktype: 101, snaplen: 0, name: 'raw0'}))
  mark(() => b.nrb())
  b.epb({iface: 0, ts: 1_795_246_289_056_386_123n, data: frame(1), flags: 1, options: [comment('kept comment')]}) // 1
  b.pb({iface: 0, ts: 1_795_246_289_056_386_999n, data: frame(2), flags: 2}) // 2
  b.epb({iface: 1, ts: 1_795_246_290_000_001n, data: frame(3, 40).subarray(14), packetId: 7n}) // 3 (µs, raw IP)
  mark(() => b.isb(0, 1_795_246_291_000_000_000n))
  mark(() => b.dsb())
  mark(() => b.custom(32473, enc.encode('custom data')))
  b.shb({bigEndian: true})
  mark(() => b.idb({linktype: 1, snaplen: 128, tsresol: 6}))
  b.epb({iface: 0, ts: 1_795_246_292_123_456n, data: frame(4, 61)}) // 4
  b.spb(frame(5)) // 5
  b.spb(frame(6)) // 6
  b.epb({iface: 0, ts: 1_795_246_293_000_000n, data: frame(7), origlen: 1514}) // 7
  return {bytes: b.build(), kept}
}

function annotations(notes: Record<number, string[]>, drop: number[] = []): FrameAnnotations {
  return {section: ['lvscope: role director', 'lvscope: clock reference'], frame: (n) => notes[n] ?? [], drop: (n) => drop.includes(n)}
}

async function copy(input: string, ann: FrameAnnotations, name: string): Promise<{path: string; res: Awaited<ReturnType<typeof copyPcapngAnnotated>>; out: Uint8Array}> {
  const chunks: Uint8Array[] = []
  const res = await copyPcapngAnnotated(input, (b) => chunks.push(Buffer.from(b)), ann)
  const out = Buffer.concat(chunks)
  const path = join(tmp, name)
  writeFileSync(path, out)
  return {path, res, out}
}

async function records(file: string): Promise<string[]> {
  const out: string[] = []
  await readCapture(file, (r) => {
    out.push([r.frame, r.tsSec, r.tsNsec, r.hasTs, r.caplen, r.origlen, r.linktype, r.interfaceId, r.epbFlags, r.hasPacketId ? r.packetIdLo : '-', Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString('hex')].join(' '))
  })
  return out
}

function tsharkRows(file: string): {rows: string[][]; stderr: string} {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', `aggregator=${SEP}`, '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id', '-e', 'frame.comment'], {encoding: 'utf8'})
  expect(r.status, r.stderr).toBe(0)
  return {rows: r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')), stderr: r.stderr.split('\n').filter((l) => l && !/^Running as user "root"/.test(l)).join('\n')}
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0
}

describe('copyPcapngAnnotated', () => {
  const {bytes, kept} = build()
  const input = join(tmp, 'in.pcapng')
  writeFileSync(input, bytes)
  const notes = {1: ['lvscope: DR copy of #9 (forwarded to 02:77:00:00:00:0b)'], 2: ['lvscope #1 reset: é ünïcode', 'lvscope: second'], 4: ['lvscope: big-endian'], 6: ['lvscope: on an SPB']}

  it('keeps every packet, its bytes, time and interface, and every other block byte for byte', async () => {
    const {path, res, out} = await copy(input, annotations(notes), 'out.pcapng')
    expect(res).toEqual({frames: 7, written: 7, commented: 4, damage: null})
    const before = await records(input)
    const after = await records(path)
    // Frame 6 was a Simple Packet Block: it has no timestamp, and as an EPB (to carry its comment) it has time 0.
    expect(after.map((r) => r.replace(/ (true|false) /, ' '))).toEqual(before.map((r) => r.replace(/ (true|false) /, ' ')))
    expect(after[4]).toMatch(/^5 0 0 false /) // the uncommented SPB stayed one
    for (const block of kept) expect(contains(out, block)).toBe(true)
  })

  it('reads the same from a gzip input', async () => {
    const gz = join(tmp, 'in.pcapng.gz')
    writeFileSync(gz, gzipSync(bytes))
    const a = await copy(input, annotations(notes), 'a.pcapng')
    const b = await copy(gz, annotations(notes), 'b.pcapng')
    expect(Buffer.compare(Buffer.from(a.out), Buffer.from(b.out))).toBe(0)
  })

  it('drops the frames asked, and no others', async () => {
    const {path, res} = await copy(input, annotations(notes, [2, 5]), 'drop.pcapng')
    expect(res.written).toBe(5)
    const before = (await records(input)).filter((_, i) => i !== 1 && i !== 4).map((r) => r.split(' ').slice(1).join(' '))
    const after = (await records(path)).map((r) => r.split(' ').slice(1).join(' '))
    expect(after.map((r) => r.replace(/ (true|false) /, ' '))).toEqual(before.map((r) => r.replace(/ (true|false) /, ' ')))
  })

  it('stops at a damaged block with a message, keeping what came before', async () => {
    const damaged = join(tmp, 'damaged.pcapng')
    writeFileSync(damaged, Buffer.concat([Buffer.from(bytes), Buffer.from([6, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0])]))
    const {res} = await copy(damaged, annotations({}), 'damaged-out.pcapng')
    expect(res.frames).toBe(7)
    // The last section is big-endian, so the 13 reads as 0x0d000000.
    expect(res.damage).toMatch(/at byte 1020 has bad length 218103808; the rest of the file is not copied/)
  })

  describe.skipIf(!hasTshark())('under tshark', () => {
    it('shows the old and new comments on their frames, the section comments, and no complaint', async () => {
      const {path} = await copy(input, annotations(notes), 'tshark.pcapng')
      const before = tsharkRows(input)
      const after = tsharkRows(path)
      expect(after.stderr).toBe('')
      // tshark 4.0 lists the custom block as a record of its own (its row 4), which our reader does not count.
      expect(before.rows.length).toBe(8)
      expect(after.rows.length).toBe(8)
      // Same times, lengths and interfaces; the commented SPB (our frame 6, tshark's 7) excepted for its time.
      for (let i = 0; i < 8; i++) {
        const [, t0, ...rest0] = before.rows[i]
        const [, t1, ...rest1] = after.rows[i]
        if (i !== 6) expect(t1).toBe(t0)
        else expect([t0, t1]).toEqual(['', '0.000000000'])
        expect(rest1.slice(0, 3)).toEqual(rest0.slice(0, 3))
      }
      const comments = after.rows.map((r) => (r[5] ? r[5].split(SEP) : []))
      expect(comments[0]).toEqual(['kept comment', notes[1][0]])
      expect(comments[1]).toEqual(notes[2])
      expect(comments[2]).toEqual([])
      expect(comments[4]).toEqual(notes[4])
      expect(comments[5]).toEqual([])
      expect(comments[6]).toEqual(notes[6])
      const cap = spawnSync('capinfos', ['-k', path], {encoding: 'utf8'})
      if (cap.status === 0) {
        expect(cap.stdout).toContain('original section comment')
        expect(cap.stdout).toContain('lvscope: role director')
      }
    })
  })

  it('an input that is one of ours is read back identically by the reader (pcapng → pcapng → pcapng)', async () => {
    const first = await copy(input, annotations(notes), 'first.pcapng')
    const second = await copy(first.path, annotations({}), 'second.pcapng')
    expect(await records(second.path)).toEqual(await records(first.path))
    expect(readFileSync(second.path).length).toBeGreaterThan(0)
  })
})
