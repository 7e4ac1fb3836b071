/**
 * Damaged and hostile input: each case asserts the exact message (file + byte offset), that the
 * packets before the damage are delivered, and that nothing throws but LvscopeError.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {gzipSync} from 'node:zlib'
import {afterAll, describe, expect, it} from 'vitest'
import type {CaptureRecord} from '../../src/capture/record.js'
import type {CaptureSummary} from '../../src/capture/reader.js'
import {CaptureParser, readCapture, readCaptureStream} from '../../src/capture/reader.js'
import {LvscopeError} from '../../src/util/errors.js'
import {buildPcap, PcapngBuilder} from '../helpers/capture-writer.js'

const dir = mkdtempSync(join(tmpdir(), 'lvscope-bad-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name)
  writeFileSync(p, bytes)
  return p
}

async function read(path: string): Promise<{s: CaptureSummary; frames: number[]}> {
  const frames: number[] = []
  const s = await readCapture(path, (r: CaptureRecord) => frames.push(r.caplen))
  return {s, frames}
}

async function rejection(path: string): Promise<LvscopeError> {
  try {
    await readCapture(path, () => {})
  } catch (e) {
    expect(e).toBeInstanceOf(LvscopeError)
    return e as LvscopeError
  }
  throw new Error(`${path} was read without error`)
}

const pkt = (n: number, fill = 0xab) => new Uint8Array(n).fill(fill)
const threePackets = () =>
  buildPcap({}, [
    {sec: 1, frac: 1, data: pkt(60)},
    {sec: 2, frac: 2, data: pkt(60)},
    {sec: 3, frac: 3, data: pkt(60)},
  ])

describe('files that cannot be read at all', () => {
  it('empty file', async () => {
    const p = file('empty.pcap', new Uint8Array(0))
    const e = await rejection(p)
    expect(e.code).toBe('empty-file')
    expect(e.message).toBe(`${p}: empty file (0 bytes)`)
  })

  it('text file', async () => {
    const p = file('notes.pcap', 'Hello, this is not a capture\n')
    const e = await rejection(p)
    expect(e.code).toBe('not-a-capture')
    expect(e.message).toBe(`${p}: not a pcap or pcapng capture (starts with 0x48656c6c)`)
  })

  it('a file shorter than any magic', async () => {
    const p = file('tiny', 'ab')
    const e = await rejection(p)
    expect(e.code).toBe('not-a-capture')
    expect(e.message).toBe(`${p}: not a pcap or pcapng capture (only 2 bytes, too short for a file header)`)
  })

  it('missing file', async () => {
    const p = join(dir, 'nope.pcap')
    const e = await rejection(p)
    expect(e.code).toBe('io')
    expect(e.message).toBe(`${p}: cannot open: ENOENT`)
  })

  it('truncated pcap file header', async () => {
    const p = file('hdr23.pcap', threePackets().subarray(0, 23))
    const e = await rejection(p)
    expect(e.code).toBe('truncated')
    expect(e.message).toBe(`${p}: truncated pcap file header at byte 0: 24 bytes needed, 23 present`)
  })

  it('truncated pcapng section header', async () => {
    const p = file('shb.pcapng', new PcapngBuilder().shb().build().subarray(0, 20))
    const e = await rejection(p)
    expect(e.code).toBe('truncated')
    expect(e.message).toBe(`${p}: truncated section header block at byte 0: header says 52 bytes, 20 present`)
  })

  it('pcapng whose first block has inconsistent lengths', async () => {
    const bytes = new PcapngBuilder().shb().build()
    bytes[bytes.length - 4] = 44 // trailer 44, leading length 52
    const p = file('shb-trailer.pcapng', bytes)
    const e = await rejection(p)
    expect(e.code).toBe('corrupt')
    expect(e.message).toBe(
      `${p}: block type 0x0a0d0d0a at byte 0: trailing length 44 != leading length 52; stopped reading`,
    )
  })
})

describe('truncated records', () => {
  it('cut inside a record header', async () => {
    const p = file('cut-hdr.pcap', threePackets().subarray(0, 24 + 76 * 2 + 5))
    const {s, frames} = await read(p)
    expect(frames).toEqual([60, 60])
    expect(s.warnings.map((w) => [w.code, w.offset, w.message])).toEqual([
      ['truncated', 176, `${p}: truncated record header at byte 176: 16 bytes needed, 5 present`],
    ])
  })

  it('cut inside packet data', async () => {
    const p = file('cut-data.pcap', threePackets().subarray(0, 24 + 76 + 16 + 17))
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    expect(s.warnings.map((w) => w.message)).toEqual([`${p}: truncated record at byte 100: header says 60 bytes, 17 present`])
    expect(s.warnings[0].offset).toBe(100)
  })

  it('pcapng cut inside an EPB', async () => {
    const b = new PcapngBuilder().shb().idb({linktype: 1}).epb({iface: 0, ts: 5n, data: pkt(60)})
    const whole = b.epb({iface: 0, ts: 6n, data: pkt(60)}).build()
    const p = file('cut.pcapng', whole.subarray(0, whole.length - 30))
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    const at = whole.length - 92
    expect(s.warnings.map((w) => [w.offset, w.message])).toEqual([
      [at, `${p}: truncated block at byte ${at}: header says 92 bytes, 62 present`],
    ])
  })
})

describe('hostile lengths', () => {
  it('caplen beyond snaplen is delivered with a warning', async () => {
    const p = file('snap.pcap', buildPcap({snaplen: 64}, [{sec: 1, frac: 0, data: pkt(80)}]))
    const {s, frames} = await read(p)
    expect(frames).toEqual([80])
    expect(s.warnings.map((w) => [w.code, w.message])).toEqual([
      ['caplen-over-snaplen', `${p}: record 1 at byte 24: caplen 80 exceeds snaplen 64; delivered in full`],
    ])
  })

  it('caplen beyond 256 KiB stops without allocating it', async () => {
    const bytes = buildPcap({}, [
      {sec: 1, frac: 0, data: pkt(60)},
      {sec: 2, frac: 0, data: pkt(60), caplen: 0x7fffffff},
      {sec: 3, frac: 0, data: pkt(60)},
    ])
    const p = file('huge.pcap', bytes)
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    expect(s.warnings.map((w) => [w.code, w.offset, w.message])).toEqual([
      ['caplen-too-big', 100, `${p}: record 2 at byte 100: caplen 2147483647 exceeds the maximum of 262144; stopped reading`],
    ])
  })

  const ng = () => new PcapngBuilder().shb().idb({linktype: 1}).epb({iface: 0, ts: 1n, data: pkt(60)})
  // Offset of the block after SHB (52 bytes), IDB (20) and one EPB (92).
  const at = 52 + 20 + 92

  it.each([
    ['not a multiple of 4', {length: 30}, `block type 0x00000006 at byte ${at} has bad length 30 (not a multiple of 4); stopped reading`],
    ['less than 12', {length: 8}, `block type 0x00000006 at byte ${at} has bad length 8 (less than 12); stopped reading`],
    ['over 16 MiB', {length: 0x7ffffff0}, `block type 0x00000006 at byte ${at} has bad length 2147483632 (over the 16777216-byte limit); stopped reading`],
    ['trailer mismatch', {trailer: 96}, `block type 0x00000006 at byte ${at}: trailing length 96 != leading length 92; stopped reading`],
  ])('pcapng block length %s', async (_name, over, msg) => {
    const bytes = ng().epb({iface: 0, ts: 2n, data: pkt(60)}, over).epb({iface: 0, ts: 3n, data: pkt(60)}).build()
    const p = file('len.pcapng', bytes)
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    expect(s.warnings.map((w) => [w.offset, w.message])).toEqual([[at, `${p}: ${msg}`]])
  })

  it('EPB caplen larger than its block', async () => {
    const p = file('epbcap.pcapng', ng().epb({iface: 0, ts: 2n, data: pkt(60), caplen: 1000}).build())
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    expect(s.warnings.map((w) => w.message)).toEqual([
      `${p}: enhanced packet block at byte ${at}: caplen 1000 does not fit in its 92-byte block; stopped reading`,
    ])
  })

  it('packet on an undeclared interface', async () => {
    const p = file('iface.pcapng', ng().epb({iface: 3, ts: 2n, data: pkt(60)}).build())
    const {s, frames} = await read(p)
    expect(frames).toEqual([60])
    expect(s.warnings.map((w) => w.message)).toEqual([
      `${p}: enhanced packet block at byte ${at} refers to interface 3, but section 0 declares 1; stopped reading`,
    ])
  })

  it('a huge declared length never makes the parser allocate it', () => {
    // 4-byte pushes of a block that claims 16 MiB: memory stays at the bytes actually present.
    const head = new PcapngBuilder().shb().idb({linktype: 1}).build()
    const blk = new Uint8Array(64)
    new DataView(blk.buffer).setUint32(0, 6, true)
    new DataView(blk.buffer).setUint32(4, 16 * 1024 * 1024, true)
    const parser = new CaptureParser('big.pcapng', () => {})
    parser.push(head)
    for (let i = 0; i < blk.length; i += 4) parser.push(blk.subarray(i, i + 4))
    const carry = (parser as unknown as {carry: Uint8Array}).carry
    expect(carry.length).toBeLessThanOrEqual(65536)
    const s = parser.end()
    expect(s.warnings.map((w) => w.message)).toEqual([
      `big.pcapng: truncated block at byte ${head.length}: header says 16777216 bytes, 64 present`,
    ])
  })
})

describe('gzip', () => {
  it('reads a gzipped capture and says so', async () => {
    const p = file('ok.pcap.gz', gzipSync(threePackets()))
    const {s, frames} = await read(p)
    expect(frames).toEqual([60, 60, 60])
    expect(s.compression).toBe('gzip')
    expect(s.warnings).toEqual([])
  })

  it('truncated gzip: packets before the cut, then warnings', async () => {
    const big = buildPcap(
      {},
      Array.from({length: 2000}, (_, i) => ({sec: i, frac: 0, data: pkt(200, i & 0xff)})),
    )
    const gz = gzipSync(big)
    const p = file('cut.pcap.gz', gz.subarray(0, gz.length >> 1))
    const {s, frames} = await read(p)
    expect(frames.length).toBeGreaterThan(0)
    expect(frames.length).toBeLessThan(2000)
    const last = s.warnings.map((w) => w.code)
    expect(last[0]).toBe('gzip')
    expect(s.warnings[0].message).toBe(`${p}: gzip stream truncated; stopped after ${s.bytesRead} decompressed bytes`)
    expect(s.warnings[0].offset).toBe(s.bytesRead)
    // The partial record at the cut is reported too (unless the cut fell exactly between records).
    const partial = 24 + frames.length * 216 !== s.bytesRead
    expect(last).toEqual(partial ? ['gzip', 'truncated'] : ['gzip'])
  })

  it('corrupt gzip with nothing decompressed is rejected', async () => {
    const bytes = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
    const p = file('bad.pcap.gz', bytes)
    const e = await rejection(p)
    expect(e.code).toBe('corrupt')
    expect(e.message).toBe(`${p}: gzip stream corrupt (invalid block type) after 18 compressed bytes; nothing decompressed`)
  })

  it('corrupt gzip in the middle keeps the packets before it', async () => {
    // Pseudo-random payloads so the deflate stream is long and damage in its middle is detected there.
    let x = 12345
    const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24
    const recs = Array.from({length: 3000}, (_, i) => ({sec: i, frac: 0, data: Uint8Array.from({length: 100}, rnd)}))
    const gz = gzipSync(buildPcap({}, recs))
    gz.fill(0xff, gz.length >> 1, (gz.length >> 1) + 64)
    const p = file('mid.pcap.gz', gz)
    const {s, frames} = await read(p)
    expect(frames.length).toBeGreaterThan(100)
    expect(frames.length).toBeLessThan(3000)
    // Inflate may turn the damage into garbage bytes before it notices; either way the first problem
    // is reported with the file and an offset, and reading stops there.
    expect(s.warnings.length).toBe(1)
    const w = s.warnings[0]
    if (w.code === 'gzip') {
      expect(w.message).toMatch(new RegExp(`^${p}: gzip stream corrupt \\(.+\\); stopped after ${w.offset} decompressed bytes$`))
    } else {
      expect(w.message).toMatch(new RegExp(`^${p}: .* at byte ${w.offset}\\b`))
    }
  })
})

describe('streams', () => {
  it('reads from a stream (as for stdin) in small chunks', async () => {
    const bytes = threePackets()
    const chunks = Array.from({length: bytes.length}, (_, i) => bytes.subarray(i, i + 1))
    const frames: number[] = []
    const s = await readCaptureStream(Readable.from(chunks), '<stdin>', (r) => frames.push(r.frame))
    expect(frames).toEqual([1, 2, 3])
    expect(s.file).toBe('<stdin>')
  })

  it('a throwing consumer propagates its own error', async () => {
    const p = file('three.pcap', threePackets())
    await expect(
      readCapture(p, () => {
        throw new Error('consumer failed')
      }),
    ).rejects.toThrow('consumer failed')
  })

  it('an aborted signal stops the read', async () => {
    const p = file('three2.pcap', threePackets())
    const ac = new AbortController()
    ac.abort()
    await expect(readCapture(p, () => {}, {signal: ac.signal})).rejects.toThrow(/abort/i)
  })
})
