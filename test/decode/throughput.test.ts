/**
 * Decode throughput over a few hundred thousand in-memory frames laid out back to back in one
 * shared buffer (as the reader delivers them), and a check that the hot loop allocates nothing:
 * a loop that allocated per frame would trigger many young-generation GCs over 300k frames.
 */
import {PerformanceObserver} from 'node:perf_hooks'
import {describe, expect, it} from 'vitest'
import {decodeFrame} from '../../src/decode/decode.js'
import {Packet, Stop} from '../../src/decode/packet.js'
import {TCP, arp, ethernet, icmp, ipv4, ipv6, padTo60, tcp, tcpOpt, udp} from '../helpers/frames.js'

const FRAMES = 300_000

const A = '10.1.0.5'
const VIP = '10.2.0.100'
const kinds: Uint8Array[] = [
  padTo60(ethernet({type: 0x0800}, ipv4({src: A, dst: VIP, proto: 6}, tcp({sport: 40000, dport: 80, flags: TCP.ACK, options: [...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.ts(1, 2)]})))),
  ethernet({type: 0x0800}, ipv4({src: VIP, dst: A, proto: 6}, tcp({sport: 80, dport: 40000, options: [...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.ts(3, 4)]}, new Array<number>(1448).fill(0x61)))),
  ethernet({type: 0x0800, vlans: [{vid: 10}]}, ipv4({src: A, dst: VIP, proto: 6}, tcp({sport: 40001, dport: 3306, flags: TCP.SYN, options: [...tcpOpt.mss(1460), ...tcpOpt.sackPerm(), ...tcpOpt.ts(5, 0), ...tcpOpt.nop(), ...tcpOpt.wscale(7)]}))),
  ethernet({type: 0x0800}, ipv4({src: A, dst: VIP, proto: 6}, tcp({sport: 40002, dport: 80, options: [...tcpOpt.nop(), ...tcpOpt.nop(), ...tcpOpt.sack([[1, 2], [3, 4]])]}))),
  ethernet({type: 0x86dd}, ipv6({src: '2001:db8::5', dst: '2001:db8::100', proto: 6}, tcp({sport: 40003, dport: 443}, new Array<number>(100).fill(1)))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.1', dst: '10.0.0.21', proto: 4}, ipv4({src: A, dst: VIP, proto: 6}, tcp({sport: 40004, dport: 80}, [1, 2, 3])))),
  ethernet({type: 0x0800}, ipv4({src: A, dst: VIP, proto: 17}, udp({sport: 5353, dport: 53}, new Array<number>(40).fill(2)))),
  ethernet({type: 0x0800}, ipv4({src: '10.0.0.254', dst: A, proto: 1}, icmp(3, 3, ipv4({src: A, dst: VIP, proto: 17}, udp({sport: 1, dport: 2})).subarray(0, 28)))),
  padTo60(ethernet({type: 0x0806}, arp({op: 2, senderMac: '02:00:00:00:00:01', senderIp: VIP, targetIp: VIP}))),
]

describe('decode throughput', () => {
  it(`decodes ${FRAMES} frames from a shared buffer without allocating`, () => {
    const offsets = new Int32Array(FRAMES)
    const lens = new Int32Array(FRAMES)
    let total = 0
    for (let i = 0; i < FRAMES; i++) total += kinds[i % kinds.length].length
    const buf = new Uint8Array(total)
    let expectedPayload = 0
    let expectedTcp = 0
    const probe = new Packet()
    for (let i = 0, o = 0; i < FRAMES; i++) {
      const f = kinds[i % kinds.length]
      buf.set(f, o)
      offsets[i] = o
      lens[i] = f.length
      o += f.length
      decodeFrame(f, 0, f.length, 1, probe)
      expectedPayload += probe.payloadLen
      if (probe.proto === 6) expectedTcp++
    }

    const pkt = new Packet()
    let gcs = 0
    const obs = new PerformanceObserver((list) => {
      gcs += list.getEntries().length
    })
    // Warm up (JIT) outside the measurement.
    for (let i = 0; i < 20_000; i++) decodeFrame(buf, offsets[i], lens[i], 1, pkt)

    obs.observe({entryTypes: ['gc']})
    let ok = 0
    let payload = 0
    let tcpFrames = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < FRAMES; i++) {
      decodeFrame(buf, offsets[i], lens[i], 1, pkt)
      if (pkt.stop === Stop.Ok) ok++
      payload += pkt.payloadLen
      if (pkt.proto === 6) tcpFrames++
    }
    const ns = Number(process.hrtime.bigint() - t0)
    obs.disconnect()

    const fps = Math.round(FRAMES / (ns / 1e9))
    console.log(`[decode throughput] ${FRAMES} frames (${(total / 1e6).toFixed(1)} MB) in ${(ns / 1e6).toFixed(1)} ms = ${fps.toLocaleString('en-US')} frames/s; GC events during the loop: ${gcs}`)
    expect(ok).toBe(FRAMES)
    expect(payload).toBe(expectedPayload)
    expect(tcpFrames).toBe(expectedTcp)
    expect(expectedTcp).toBeGreaterThan(FRAMES / 2)
    expect(gcs).toBeLessThanOrEqual(2)
  })
})
