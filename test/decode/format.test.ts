import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  dstAddrString,
  endpointString,
  ipv4ToString,
  ipv6ToString,
  macToString,
  parseIPv4,
  parseIPv6,
  srcAddrString,
} from '../../src/decode/format.js'
import {decodeFrame} from '../../src/decode/decode.js'
import {Packet} from '../../src/decode/packet.js'
import {UsageError} from '../../src/util/errors.js'
import {arp, ethernet, ipv4, ipv6, tcp} from '../helpers/frames.js'

const w = (...xs: number[]) => Uint32Array.from(xs)

describe('IPv4 text', () => {
  it('formats and parses', () => {
    expect(ipv4ToString(0)).toBe('0.0.0.0')
    expect(ipv4ToString(0xffffffff)).toBe('255.255.255.255')
    expect(ipv4ToString(0xc0a80001)).toBe('192.168.0.1')
    expect(parseIPv4('10.20.30.40')).toBe(0x0a141e28)
    expect(parseIPv4(' 255.0.0.1 ')).toBe(0xff000001)
  })

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', 'a.b.c.d', '1.2.3.-4', '1..2.3'])('rejects %j', (s) => {
    expect(() => parseIPv4(s)).toThrow(UsageError)
  })

  it('round-trips every uint32', () => {
    fc.assert(fc.property(fc.integer({min: 0, max: 0xffffffff}), (n) => parseIPv4(ipv4ToString(n)) === n))
  })
})

describe('IPv6 text (RFC 5952)', () => {
  it.each([
    [w(0, 0, 0, 0), '::'],
    [w(0, 0, 0, 1), '::1'],
    [w(0x20010db8, 0, 0, 1), '2001:db8::1'],
    [w(0x20010db8, 0, 1, 1), '2001:db8::1:0:1'],
    // Longest run wins; the first of equal runs wins; a single zero group is not compressed.
    [w(0x20010db8, 0x00000001, 0, 0x00000001), '2001:db8:0:1::1'],
    [w(0x20010000, 0x00010000, 0x00010000, 0x00010000), '2001:0:1:0:1:0:1:0'],
    [w(0x20010db8, 0, 0x00010000, 0), '2001:db8:0:0:1::'],
    [w(0x20010db8, 0x00000000, 0x00010000, 0x00000001), '2001:db8::1:0:0:1'],
    [w(0xfe800000, 0, 0x021122ff, 0xfe334455), 'fe80::211:22ff:fe33:4455'],
    [w(0x0000ffff, 0xffff0000, 0, 0), '0:ffff:ffff::'],
    [w(0, 0, 0xffff, 0xc0000201), '::ffff:192.0.2.1'],
    [w(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ])('%s → %s', (words, text) => {
    expect(ipv6ToString(words)).toBe(text)
    expect(Array.from(parseIPv6(text))).toEqual(Array.from(words))
  })

  it.each(['', ':::', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '::1.2.3'])('rejects %j', (s) => {
    expect(() => parseIPv6(s)).toThrow(UsageError)
  })

  it('round-trips random addresses (zero-heavy so that "::" placement is exercised)', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({min: 0, max: 0xffff}))
    fc.assert(
      fc.property(fc.array(group, {minLength: 8, maxLength: 8}), (g) => {
        const words = w(...[0, 1, 2, 3].map((i) => ((g[2 * i] << 16) | g[2 * i + 1]) >>> 0))
        const text = ipv6ToString(words)
        // RFC 5952: lowercase, no leading zeros, at most one "::", never for a single group.
        expect(text).toBe(text.toLowerCase())
        expect(text.split('::').length).toBeLessThanOrEqual(2)
        expect(/(^|:)0[0-9a-f]/.test(text)).toBe(false)
        expect(Array.from(parseIPv6(text))).toEqual(Array.from(words))
      }),
    )
  })
})

describe('MACs, endpoints and packet addresses', () => {
  it('macToString reads 6 bytes at an offset', () => {
    expect(macToString(Uint8Array.from([9, 0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef, 9]), 1)).toBe('00:1b:21:ab:cd:ef')
  })

  it('endpointString brackets IPv6', () => {
    expect(endpointString('1.2.3.4', 80)).toBe('1.2.3.4:80')
    expect(endpointString('::1', 443)).toBe('[::1]:443')
  })

  it('srcAddrString / dstAddrString follow the decoded header', () => {
    const p = new Packet()
    const f4 = ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.2', proto: 6}, tcp({sport: 1, dport: 2})))
    decodeFrame(f4, 0, f4.length, 1, p)
    expect([srcAddrString(p), dstAddrString(p)]).toEqual(['10.0.0.1', '10.0.0.2'])
    const f6 = ethernet({type: 0x86dd}, ipv6({src: '2001:db8::a', dst: '2001:db8::b', proto: 6}, tcp({sport: 1, dport: 2})))
    decodeFrame(f6, 0, f6.length, 1, p)
    expect([srcAddrString(p), dstAddrString(p)]).toEqual(['2001:db8::a', '2001:db8::b'])
    const fa = ethernet({type: 0x0806}, arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: '10.9.9.9', targetIp: '10.9.9.1'}))
    decodeFrame(fa, 0, fa.length, 1, p)
    expect([srcAddrString(p), dstAddrString(p)]).toEqual(['10.9.9.9', '10.9.9.1'])
    const other = ethernet({type: 0x88cc}, [1, 2, 3])
    decodeFrame(other, 0, other.length, 1, p)
    expect([srcAddrString(p), dstAddrString(p)]).toEqual(['', ''])
  })
})
