/**
 * src/capture/writer.ts: what it writes reads back identically (our reader), and tshark agrees it
 * is a valid capture with the same packets and times (when tshark is installed).
 */
import {execFileSync} from 'node:child_process'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'
import type {CaptureRecord} from '../../src/capture/record.js'
import {newCaptureRecord} from '../../src/capture/record.js'
import type {InterfaceInfo} from '../../src/capture/reader.js'
import {readCapture} from '../../src/capture/reader.js'
import {PcapngWriter, PcapWriter} from '../../src/capture/writer.js'
import type {Snap} from './helpers.js'
import {parseChunked, snap} from './helpers.js'

import {CORPUS_FILES as FILES} from '../helpers/shared.js'
import {hasTshark} from '../helpers/cli.js'
const dir = mkdtempSync(join(tmpdir(), 'lvscope-wr-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const tsharkInstalled = hasTshark()

/** Read a capture, passing each record to `write` while it is still a valid view. */
async function copyThrough(src: string, write: (r: CaptureRecord) => void): Promise<{recs: Snap[]; ifs: InterfaceInfo[]}> {
  const recs: Snap[] = []
  const s = await readCapture(src, (r) => {
    recs.push(snap(r))
    write(r)
  })
  return {recs, ifs: s.interfaces}
}

/** What survives a rewrite: everything but the file offset (and interface ids, compared separately). */
const portable = (s: Snap) => ({...s, fileOffset: 0, interfaceId: 0})

function tsharkTimes(path: string): string[] {
  return execFileSync('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
}

const fmt = (s: Snap) => `${s.tsSec}.${String(s.tsNsec).padStart(9, '0')}\t${s.caplen}`

describe.skipIf(!existsSync(FILES))('writers on corpus files', () => {
  it.each([
    ['zeek__http__206_example_b.pcap', false],
    ['tcpdump__tcp-handshake-nano.pcap', true],
    ['zeek__vntag.pcap', true],
  ])('PcapWriter re-writes %s exactly (nano=%s)', async (name, nano) => {
    const out = join(dir, `w-${name}`)
    const fd = openSync(out, 'w')
    let w: PcapWriter | null = null
    const {recs} = await copyThrough(`${FILES}/${name}`, (r) => {
      w ??= new PcapWriter(fd, {linktype: r.linktype, nano, fcsLen: r.fcsLen})
      w.write(r)
    })
    await w!.end()
    closeSync(fd)
    const back = parseChunked(readFileSync(out))
    expect(back.recs.length).toBe(recs.length)
    expect(back.recs.map(portable)).toEqual(recs.map(portable))
    if (tsharkInstalled) expect(tsharkTimes(out)).toEqual(recs.map(fmt))
  })

  it.each([
    'pcapng-test-generator__le__test202.pcapng',
    'pcapng-test-generator__be__test202.pcapng',
    'zeek__pcapng-multi-interface.pcapng',
    'zeek__ldap__gap-data-missing.pcapng',
    'gopacket__le__test902.pcapng',
  ])('PcapngWriter re-writes %s keeping interfaces and times', async (name) => {
    const out = join(dir, `w-${name}`)
    const fd = openSync(out, 'w')
    // Interfaces from a first pass give the IDBs their snaplens (needed to keep cut SPBs as SPBs).
    const {interfaces} = await readCapture(`${FILES}/${name}`, () => {})
    const w = new PcapngWriter(fd, {interfaces})
    const {recs} = await copyThrough(`${FILES}/${name}`, (r) => w.write(r))
    await w.end()
    closeSync(fd)
    const back = parseChunked(readFileSync(out))
    // Interfaces are renumbered by first use. A no-timestamp (SPB) record stays one only on output
    // interface 0 (an SPB has no interface field); elsewhere it becomes an EPB stamped 0.
    const map = new Map<number, number>()
    const want = recs.map((r) => {
      if (!map.has(r.interfaceId)) map.set(r.interfaceId, map.size)
      const spbOk = map.get(r.interfaceId) === 0
      return {...portable(r), tsDigits: 0, ...(r.hasTs || spbOk ? {} : {hasTs: true})}
    })
    expect(back.recs.map((s) => ({...portable(s), tsDigits: 0}))).toEqual(want)
    expect(back.recs.map((s) => s.interfaceId)).toEqual(recs.map((r) => map.get(r.interfaceId)))
    if (tsharkInstalled) {
      const withTs = back.recs.filter((r) => r.hasTs)
      expect(tsharkTimes(out).filter((l) => !l.startsWith('\t'))).toEqual(withTs.map(fmt))
      expect(withTs.length).toBeGreaterThan(0)
    }
  })
})

describe('writers on random records', () => {
  const recArb = fc.record({
    iface: fc.nat({max: 3}),
    sec: fc.nat({max: 2 ** 32 - 1}),
    nsec: fc.nat({max: 999_999_999}),
    data: fc.uint8Array({maxLength: 300}),
    extra: fc.nat({max: 50}),
    // FCS-length bits (5-8) cleared: they override the interface's FCS length on reading.
    flags: fc.nat({max: 0xffffffff}).map((f) => (f & ~0x1e0) >>> 0),
    pid: fc.option(fc.tuple(fc.nat({max: 0xffffffff}), fc.nat({max: 0xffffffff})), {nil: undefined}),
    hasTs: fc.boolean(),
  })

  it('PcapngWriter → reader keeps times, flags, packet ids and no-timestamp records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recArb, {maxLength: 25}), async (list) => {
        const sink = new PassThrough()
        const parts: Buffer[] = []
        sink.on('data', (c: Buffer) => parts.push(c))
        const w = new PcapngWriter(sink)
        const rec = newCaptureRecord()
        for (const [i, x] of list.entries()) {
          Object.assign(rec, {
            frame: i + 1,
            data: x.data,
            offset: 0,
            caplen: x.data.length,
            origlen: x.data.length + (x.hasTs ? x.extra : 0),
            linktype: 100 + x.iface,
            fcsLen: x.iface === 2 ? 4 : 0,
            interfaceId: x.iface,
            tsSec: x.hasTs ? x.sec : 0,
            tsNsec: x.hasTs ? x.nsec : 0,
            hasTs: x.hasTs,
            epbFlags: x.flags,
            hasPacketId: x.pid !== undefined,
            packetIdHi: x.pid?.[0] ?? 0,
            packetIdLo: x.pid?.[1] ?? 0,
          })
          w.write(rec)
        }
        await w.end()
        const back = parseChunked(Buffer.concat(parts))
        expect(back.error).toBeNull()
        expect(back.recs.length).toBe(list.length)
        back.recs.forEach((r, i) => {
          const x = list[i]
          expect([r.linktype, r.fcsLen, r.caplen, r.hex]).toEqual([100 + x.iface, x.iface === 2 ? 4 : 0, x.data.length, Buffer.from(x.data).toString('hex')])
          if (r.hasTs) {
            expect([r.tsSec, r.tsNsec]).toEqual(x.hasTs ? [x.sec, x.nsec] : [0, 0])
            expect([r.epbFlags, r.hasPacketId, r.packetIdHi, r.packetIdLo]).toEqual([x.flags, x.pid !== undefined, x.pid?.[0] ?? 0, x.pid?.[1] ?? 0])
          } else {
            // Only a no-timestamp record on the first interface becomes an SPB.
            expect(x.hasTs).toBe(false)
            expect(r.interfaceId).toBe(0)
          }
        })
      }),
      {numRuns: 200},
    )
  })

  it('PcapWriter refuses a record of another link type', () => {
    const w = new PcapWriter(new PassThrough(), {linktype: 1})
    const rec = newCaptureRecord()
    rec.linktype = 113
    rec.frame = 7
    expect(() => w.write(rec)).toThrow('PcapWriter: record 7 has link type 113, file has 1; use PcapngWriter')
  })
})
