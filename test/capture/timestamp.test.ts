/** Exact timestamp arithmetic against a BigInt reference, including the 64-bit edges. */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {makeScale, out, toTime, toUnits, units} from '../../src/capture/timestamp.js'
import {refTime} from '../helpers/capture-writer.js'

const MAX53 = 2n ** 53n

/** Edge-heavy uint32 words: 0, 1, all ones, powers of two and their neighbours, or anything. */
const word = fc.oneof(
  fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x1fffff, 0x200000),
  fc.integer({min: 0, max: 31}).map((k) => 2 ** k - 1),
  fc.integer({min: 0, max: 31}).map((k) => 2 ** k),
  fc.nat({max: 0xffffffff}),
)

function check(hi: number, lo: number, tsresol: number): void {
  const v = (BigInt(hi) << 32n) | BigInt(lo)
  const [sec, nsec] = refTime(v, tsresol)
  const binary = (tsresol & 0x80) !== 0
  const per = binary ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol & 0x7f)
  toTime(hi, lo, makeScale(tsresol, 0))
  expect(out.nsec).toBe(nsec)
  // Seconds beyond 2^53 cannot be exact Numbers; below that they must be.
  if (v / per < MAX53) expect(out.sec).toBe(sec)
}

describe('toTime', () => {
  it('10^-n, n = 0..9 (limb division)', () => {
    fc.assert(
      fc.property(word, word, fc.integer({min: 0, max: 9}), (hi, lo, n) => check(hi, lo, n)),
      {numRuns: 20000},
    )
  })

  it('2^-n, n = 0..63 (shifts and split multiplication)', () => {
    fc.assert(
      fc.property(word, word, fc.integer({min: 0, max: 63}), (hi, lo, n) => check(hi, lo, 0x80 | n)),
      {numRuns: 20000},
    )
  })

  it('one scale reused over a sequence (the per-interface high-word cache)', () => {
    fc.assert(
      fc.property(
        fc.integer({min: 0, max: 9}),
        fc.array(fc.tuple(fc.constantFrom(0, 1, 0x17a2b3c4, 0xffffffff), word), {minLength: 1, maxLength: 50}),
        (n, seq) => {
          const scale = makeScale(n, 0)
          for (const [hi, lo] of seq) {
            const [sec, nsec] = refTime((BigInt(hi) << 32n) | BigInt(lo), n)
            toTime(hi, lo, scale)
            expect(out.nsec).toBe(nsec)
            if (((BigInt(hi) << 32n) | BigInt(lo)) / 10n ** BigInt(n) < MAX53) expect(out.sec).toBe(sec)
          }
        },
      ),
      {numRuns: 3000},
    )
  })

  it('exotic resolutions (BigInt path)', () => {
    fc.assert(
      fc.property(word, word, fc.constantFrom(10, 12, 15, 19, 50, 127, 0x80 | 64, 0x80 | 100, 0xff), (hi, lo, r) => check(hi, lo, r)),
      {numRuns: 3000},
    )
  })

  it('known values', () => {
    // gopacket test902: if_tsresol 0x88 (2^-8).
    toTime(0, 1519128000 * 256 + 50, makeScale(0x88, 0))
    expect([out.sec, out.nsec]).toEqual([1519128000, 195312500])
    // libpcap tsresol-bin-overflow: 2^-63, count 2^63-1 → 0.99999999999999999989 s, truncated.
    toTime(0x7fffffff, 0xffffffff, makeScale(0xbf, 0))
    expect([out.sec, out.nsec]).toEqual([0, 999999999])
    // A 2024 ns timestamp (> 2^53 units), plus an if_tsoffset.
    const ns = 1718000000123456789n
    toTime(Number(ns >> 32n), Number(ns & 0xffffffffn), makeScale(9, 100))
    expect([out.sec, out.nsec]).toEqual([1718000100, 123456789])
  })
})

describe('toUnits', () => {
  it('inverts toTime for ns and µs', () => {
    fc.assert(
      fc.property(fc.nat({max: 2 ** 34 - 1}), fc.nat({max: 999_999_999}), fc.boolean(), (sec, nsec, nano) => {
        const exp = nano ? 9 : 6
        if (sec * 10 ** exp >= 2 ** 64) return
        toUnits(sec, nsec, exp)
        const want = BigInt(sec) * 10n ** BigInt(exp) + BigInt(nano ? nsec : Math.floor(nsec / 1000))
        expect((BigInt(units.hi) << 32n) | BigInt(units.lo)).toBe(want)
        toTime(units.hi, units.lo, makeScale(exp, 0))
        expect([out.sec, out.nsec]).toEqual([sec, nano ? nsec : Math.floor(nsec / 1000) * 1000])
      }),
      {numRuns: 20000},
    )
  })
})
