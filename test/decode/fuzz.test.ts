/**
 * Property tests on hostile input: random bytes and mutated valid frames, on every link type.
 * The decoder must not throw, must keep every offset inside the frame, and must not look at a byte
 * past the frame end (checked by decoding the same frame with different garbage after it).
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {decodeFrame} from '../../src/decode/decode.js'
import {LINKTYPE} from '../../src/decode/linktypes.js'
import {Packet, Stop} from '../../src/decode/packet.js'
import {arp, ethernet, icmp, ipv4, ipv6, nullHdr, sll, sll2, tcp, tcpOpt, udp} from '../helpers/frames.js'

const LTS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 127]

const seeds: Array<[number, Uint8Array]> = [
  [LINKTYPE.ETHERNET, ethernet({type: 0x0800, vlans: [{tpid: 0x88a8, vid: 1}, {vid: 2}]}, ipv4({src: '1.1.1.1', dst: '2.2.2.2', proto: 6}, tcp({sport: 1, dport: 2, options: [...tcpOpt.mss(1), ...tcpOpt.sack([[1, 2], [3, 4]]), ...tcpOpt.ts(5, 6)]}, [1, 2, 3])))],
  [LINKTYPE.ETHERNET, ethernet({type: 0x0800}, ipv4({src: '1.1.1.1', dst: '2.2.2.2', proto: 4}, ipv4({src: '3.3.3.3', dst: '4.4.4.4', proto: 17}, udp({sport: 1, dport: 2}, [9]))))],
  [LINKTYPE.ETHERNET, ethernet({type: 0x0800}, ipv4({src: '1.1.1.1', dst: '2.2.2.2', proto: 1}, icmp(3, 1, ipv4({src: '2.2.2.2', dst: '1.1.1.1', proto: 6}, tcp({sport: 5, dport: 6})).subarray(0, 28))))],
  [LINKTYPE.ETHERNET, ethernet({type: 0x0806}, arp({op: 1, senderMac: '02:00:00:00:00:01', senderIp: '1.2.3.4', targetIp: '1.2.3.5'}))],
  [LINKTYPE.LINUX_SLL, sll({proto: 0x86dd}, ipv6({src: '::1', dst: '::2', proto: 6, ext: [{type: 0}, {type: 43, body: [0, 0, 0, 0, 0, 0]}, {type: 44, more: true}, {type: 51}]}, tcp({sport: 1, dport: 2})))],
  [LINKTYPE.LINUX_SLL2, sll2({proto: 0x86dd}, ipv6({src: '::1', dst: '::2', proto: 58}, icmp(1, 4, ipv6({src: '::2', dst: '::1', proto: 17, ext: [{type: 60}]}, udp({sport: 1, dport: 2})))))],
  [LINKTYPE.NULL, nullHdr(30, true, ipv6({src: '::1', dst: '::2', proto: 41}, ipv6({src: '::3', dst: '::4', proto: 6}, tcp({sport: 1, dport: 2}))))],
  [LINKTYPE.RAW, ipv4({src: '1.1.1.1', dst: '2.2.2.2', proto: 6, options: [7, 7, 4, 0, 0, 0, 0]}, tcp({sport: 1, dport: 2}))],
]

function checkInvariants(p: Packet, start: number, end: number): void {
  expect([Stop.Ok, Stop.Truncated, Stop.Malformed, Stop.Unsupported]).toContain(p.stop)
  const inFrame = (off: number, len: number) => off === -1 || (off >= start && off + len <= end)
  expect(inFrame(p.macSrcOff, 6)).toBe(true)
  expect(inFrame(p.macDstOff, 6)).toBe(true)
  expect(inFrame(p.arpSenderMacOff, 6)).toBe(true)
  expect(inFrame(p.arpTargetMacOff, 6)).toBe(true)
  expect(p.l3Off === -1 || (p.l3Off >= start && p.l3Off <= end)).toBe(true)
  expect(p.l4Off === -1 || (p.l4Off >= start && p.l4Off <= end)).toBe(true)
  expect(p.payloadCaptured).toBeGreaterThanOrEqual(0)
  expect(p.payloadCaptured).toBeLessThanOrEqual(p.payloadLen)
  if (p.payloadOff !== -1) expect(p.payloadOff + p.payloadCaptured).toBeLessThanOrEqual(end)
  expect(p.sackCount).toBeLessThanOrEqual(4)
  expect(p.vlanCount).toBeGreaterThanOrEqual(0)
}

/** Decode `frame` placed at `start` in a buffer whose bytes after it are `fill`. */
function decodeWithTrailer(frame: Uint8Array, start: number, lt: number, fill: number, pkt: Packet): Packet {
  const buf = new Uint8Array(start + frame.length + 64).fill(fill)
  buf.set(frame, start)
  return decodeFrame(buf, start, frame.length, lt, pkt)
}

/** Every field a consumer may read; SACK edges past sackCount are stale by design. */
function snapshot(p: Packet): string {
  const sack = {sackLeft: Array.from(p.sackLeft.subarray(0, p.sackCount)), sackRight: Array.from(p.sackRight.subarray(0, p.sackCount))}
  return JSON.stringify({...p, data: undefined, dirty: undefined, ...sack}, (_k, v: unknown) => (v instanceof Uint32Array ? Array.from(v) : v))
}

const a = new Packet()
const b = new Packet()

function checkFrame(frame: Uint8Array, lt: number, start: number): void {
  decodeWithTrailer(frame, start, lt, 0x00, a)
  checkInvariants(a, start, start + frame.length)
  decodeWithTrailer(frame, start, lt, 0xff, b)
  expect(snapshot(b)).toBe(snapshot(a))
  // The reused packets carry every earlier frame's history: reset must leave nothing of it.
  expect(snapshot(a)).toBe(snapshot(decodeWithTrailer(frame, start, lt, 0x00, new Packet())))
}

describe('hostile input', () => {
  it('random bytes on every link type', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 200}), fc.constantFrom(...LTS), fc.nat(16), (bytes, lt, start) => {
        checkFrame(bytes, lt, start)
      }),
      {numRuns: 3000},
    )
  })

  it('mutated and cut valid frames', () => {
    const seedArb = fc.constantFrom(...seeds)
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({min: 0, max: 255})), {maxLength: 6})
    fc.assert(
      fc.property(seedArb, mutation, fc.nat(), fc.nat(16), ([lt, seed], muts, cut, start) => {
        const f = seed.slice()
        for (const [pos, val] of muts) f[pos % f.length] = val
        checkFrame(f.subarray(0, cut % (f.length + 1)), lt, start)
      }),
      {numRuns: 5000},
    )
  })

  it('seeds decode cleanly before mutation', () => {
    for (const [lt, f] of seeds) {
      decodeFrame(f, 0, f.length, lt, a)
      expect(a.stop).toBe(Stop.Ok)
    }
  })
})
