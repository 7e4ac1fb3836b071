/**
 * Property tests: random records written by the test builders (pcap µs/ns, both byte orders, FCS bits;
 * pcapng with several sections of random byte order, random if_tsresol incl. powers of two,
 * if_tsoffset, EPB/SPB/PB and non-packet blocks) read back exactly, under random chunking.
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {Opt} from '../helpers/capture-writer.js'
import {buildPcap, PcapngBuilder, refTime} from '../helpers/capture-writer.js'
import type {Snap} from './helpers.js'
import {parseChunked} from './helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytesArb = (max: number) => fc.uint8Array({minLength: 0, maxLength: max})
const chunksArb = fc.array(fc.integer({min: 1, max: 700}), {minLength: 1, maxLength: 8})

describe('classic pcap round trip', () => {
  it('random records, µs/ns, both byte orders, FCS bits', () => {
    fc.assert(
      fc.property(
        fc.record({
          bigEndian: fc.boolean(),
          nano: fc.boolean(),
          modified: fc.boolean(),
          linktype: fc.integer({min: 0, max: 0xffff}),
          fcsWords: fc.option(fc.integer({min: 0, max: 15}), {nil: undefined}),
        }),
        fc.array(
          fc.record({sec: fc.nat({max: 0xffffffff}), frac: fc.nat({max: 999_999_999}), data: bytesArb(300), extra: fc.nat({max: 2000})}),
          {maxLength: 30},
        ),
        chunksArb,
        (o, recs, chunks) => {
          const modified = o.modified && !o.nano
          const network = o.fcsWords === undefined ? o.linktype : ((o.fcsWords << 28) | 0x04000000 | o.linktype) >>> 0
          const prec = o.nano ? 1 : 1000
          const input = recs.map((r) => ({...r, frac: Math.floor(r.frac / prec), origlen: r.data.length + r.extra}))
          const bytes = buildPcap({bigEndian: o.bigEndian, nano: o.nano, modified, network}, input)
          const hl = modified ? 24 : 16
          let off = 24
          const want: Snap[] = input.map((r, i) => {
            const s: Snap = {
              frame: i + 1,
              caplen: r.data.length,
              origlen: r.origlen,
              linktype: o.linktype,
              fcsLen: o.fcsWords === undefined ? 0 : o.fcsWords * 2,
              interfaceId: 0,
              tsSec: r.sec,
              tsNsec: r.frac * prec,
              hasTs: true,
              tsDigits: o.nano ? 9 : 6,
              epbFlags: 0,
              hasPacketId: false,
              packetIdHi: 0,
              packetIdLo: 0,
              fileOffset: off,
              hex: hex(r.data),
            }
            off += hl + r.data.length
            return s
          })
          const got = parseChunked(bytes, chunks)
          expect(got.error).toBeNull()
          expect(got.recs).toEqual(want)
          expect(got.summary!.warnings).toEqual([])
          expect(got.summary!.precision).toBe(o.nano ? 'nano' : 'micro')
          expect(got.summary!.byteOrder).toBe(o.bigEndian ? 'big' : 'little')
        },
      ),
      {numRuns: 300},
    )
  })
})

/** if_tsresol: absent, 10^-n (n <= 9, and a few finer), 2^-n (n <= 63, and a few beyond). */
const tsresolArb = fc.oneof(
  fc.constant(undefined),
  fc.integer({min: 0, max: 9}),
  fc.integer({min: 0, max: 63}).map((n) => 0x80 | n),
  fc.constantFrom(12, 15, 19, 0x80 | 64, 0x80 | 100),
)

const ifaceArb = fc.record({
  linktype: fc.integer({min: 0, max: 300}),
  snaplen: fc.constantFrom(0, 65535, 262144),
  tsresol: tsresolArb,
  tsoffset: fc.option(fc.bigInt({min: -(2n ** 31n), max: 2n ** 31n}), {nil: undefined}),
  fcslen: fc.option(fc.constantFrom(0, 2, 4), {nil: undefined}),
  name: fc.option(fc.string({maxLength: 12}), {nil: undefined}),
})

const pktArb = fc.record({
  kind: fc.constantFrom('epb', 'epb', 'epb', 'spb', 'pb', 'nrb', 'isb', 'dsb', 'custom', 'unknown'),
  iface: fc.nat(),
  ts: fc.bigInt({min: 0n, max: 2n ** 64n - 1n}),
  data: bytesArb(200),
  extra: fc.nat({max: 100}),
  flags: fc.option(fc.nat({max: 0xffffffff}), {nil: undefined}),
  packetId: fc.option(fc.bigInt({min: 0n, max: 2n ** 64n - 1n}), {nil: undefined}),
  comment: fc.boolean(),
})

const sectionArb = fc.record({
  bigEndian: fc.boolean(),
  minor: fc.constantFrom(0, 2),
  ifaces: fc.array(ifaceArb, {minLength: 1, maxLength: 3}),
  pkts: fc.array(pktArb, {maxLength: 12}),
})

describe('pcapng round trip', () => {
  it('random sections, interfaces, resolutions and blocks', () => {
    fc.assert(
      fc.property(fc.array(sectionArb, {minLength: 1, maxLength: 3}), chunksArb, (sections, chunks) => {
        const b = new PcapngBuilder()
        const want: Snap[] = []
        let globalBase = 0
        for (const sec of sections) {
          b.shb({bigEndian: sec.bigEndian, minor: sec.minor})
          for (const f of sec.ifaces) b.idb(f)
          for (const p of sec.pkts) {
            const at = b.build().length
            const fi = p.iface % sec.ifaces.length
            const f = sec.ifaces[fi]
            const res = f.tsresol ?? 6
            const binary = (res & 0x80) !== 0
            const per = binary ? 2n ** BigInt(res & 0x7f) : 10n ** BigInt(res & 0x7f)
            // Keep whole seconds below 2^53 so they are exact Numbers.
            const ts = p.ts / per >= 2n ** 53n ? p.ts % (2n ** 53n * per) : p.ts
            const digits = Math.min(9, binary ? Math.ceil((res & 0x7f) * Math.log10(2)) : res & 0x7f)
            const comment: Opt[] = p.comment ? [{code: 1, value: new TextEncoder().encode('a comment')}] : []
            const base = {
              frame: want.length + 1,
              caplen: p.data.length,
              linktype: f.linktype,
              fcsLen: f.fcslen ?? 0,
              tsDigits: digits,
              fileOffset: at,
              hex: hex(p.data),
            }
            if (p.kind === 'epb' || p.kind === 'pb') {
              const [s, ns] = refTime(ts, res, f.tsoffset ?? 0n)
              if (p.kind === 'epb') b.epb({iface: fi, ts, data: p.data, origlen: p.data.length + p.extra, flags: p.flags, packetId: p.packetId, options: comment})
              else b.pb({iface: fi, ts, data: p.data, origlen: p.data.length + p.extra, flags: p.flags})
              const pid = p.kind === 'epb' ? p.packetId : undefined
              const flagFcs = ((p.flags ?? 0) >>> 5) & 0xf
              want.push({
                ...base,
                fcsLen: flagFcs !== 0 ? flagFcs : base.fcsLen,
                origlen: p.data.length + p.extra,
                interfaceId: globalBase + fi,
                tsSec: s,
                tsNsec: ns,
                hasTs: true,
                epbFlags: p.flags ?? 0,
                hasPacketId: pid !== undefined,
                packetIdHi: pid === undefined ? 0 : Number(pid >> 32n),
                packetIdLo: pid === undefined ? 0 : Number(pid & 0xffffffffn),
              })
            } else if (p.kind === 'spb') {
              const f0 = sec.ifaces[0]
              const data = f0.snaplen !== 0 ? p.data.subarray(0, f0.snaplen) : p.data
              b.spb(data)
              want.push({
                ...base,
                linktype: f0.linktype,
                fcsLen: f0.fcslen ?? 0,
                tsDigits: Math.min(9, (f0.tsresol ?? 6) & 0x80 ? Math.ceil(((f0.tsresol ?? 6) & 0x7f) * Math.log10(2)) : (f0.tsresol ?? 6) & 0x7f),
                origlen: data.length,
                interfaceId: globalBase,
                tsSec: 0,
                tsNsec: 0,
                hasTs: false,
                epbFlags: 0,
                hasPacketId: false,
                packetIdHi: 0,
                packetIdLo: 0,
              })
            } else if (p.kind === 'nrb') b.nrb()
            else if (p.kind === 'isb') b.isb(fi, ts)
            else if (p.kind === 'dsb') b.dsb()
            else if (p.kind === 'custom') b.custom(32473, p.data, p.comment)
            else b.block(0x12345678, p.data)
          }
          globalBase += sec.ifaces.length
        }
        const got = parseChunked(b.build(), chunks)
        expect(got.error).toBeNull()
        expect(got.recs).toEqual(want)
        const s = got.summary!
        expect(s.sections).toBe(sections.length)
        expect(s.interfaces.map((i) => [i.id, i.section, i.linktype, i.name])).toEqual(
          sections.flatMap((sec, si) => sec.ifaces.map((f) => [f.linktype, si, f.linktype, f.name])).map((x, id) => [id, x[1], x[2], x[3]]),
        )
        const orders = new Set(sections.map((x) => x.bigEndian))
        expect(s.byteOrder).toBe(orders.size === 2 ? 'mixed' : sections[0].bigEndian ? 'big' : 'little')
        // Only interfaces with resolutions finer than 64-bit counters can use get a warning.
        expect(s.warnings.every((w) => w.code === 'tsresol-high')).toBe(true)
      }),
      {numRuns: 300},
    )
  })

  it('precision names the finest interface', () => {
    const one = (res: number | undefined) =>
      parseChunked(new PcapngBuilder().shb().idb({linktype: 1}).idb({linktype: 1, tsresol: res}).build()).summary!.precision
    expect(one(undefined)).toBe('micro')
    expect(one(9)).toBe('nano')
    expect(one(3)).toBe('micro')
    expect(one(0x80 | 30)).toBe('2^-30')
    expect(one(0x80 | 10)).toBe('micro')
    expect(one(12)).toBe('10^-12')
  })

  it('SHB version 2.0 section is skipped with a warning, later sections are read', () => {
    const d = new Uint8Array(60)
    const bytes = new PcapngBuilder()
      .shb()
      .idb({linktype: 1})
      .epb({iface: 0, ts: 1n, data: d})
      .shb({major: 2})
      .idb({linktype: 1})
      .epb({iface: 0, ts: 2n, data: d})
      .shb({bigEndian: true})
      .idb({linktype: 101})
      .epb({iface: 0, ts: 3n, data: d})
      .build()
    const got = parseChunked(bytes, [], 'v2.pcapng')
    expect(got.recs.map((r) => [r.tsNsec, r.interfaceId, r.linktype])).toEqual([
      [1000, 0, 1],
      [3000, 1, 101],
    ])
    expect(got.summary!.warnings.map((w) => [w.code, w.offset, w.message])).toEqual([
      ['shb-version', 164, 'v2.pcapng: section 1 at byte 164 has unsupported version 2.0; its blocks are skipped'],
    ])
  })
})
