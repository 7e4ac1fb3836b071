/**
 * Throughput of FlowTracker (flow table + TCP analysis + history) on a large synthetic sequence:
 * 2,000,000 frames over 20,000 concurrent connections (handshake, request, 6 data/ACK exchanges,
 * some retransmissions, close), fields precomputed so only the tracker is timed. Logs frames/s;
 * asserts only what must hold regardless of machine speed (memory follows concurrency).
 */
import {describe, expect, it} from 'vitest'
import {newCaptureRecord} from '../../src/capture/record.js'
import {IPPROTO_TCP, Packet} from '../../src/decode/packet.js'
import {FlowTracker} from '../../src/flow/tracker.js'

const FRAMES = 2_000_000
const CONC = 20_000
const PER_CONN = 20

describe('FlowTracker throughput', () => {
  it(`processes ${FRAMES} synthetic frames`, () => {
    // Precompute one connection's 20-frame script (direction, flags, seq/ack offsets, length).
    const fromC = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1]
    const flags = [2, 18, 16, 24, 16, 24, 16, 24, 16, 24, 16, 24, 16, 24, 24, 17, 17, 16, 16, 16]
    const len = [0, 0, 0, 200, 0, 1400, 0, 1400, 0, 1400, 0, 1400, 0, 1400, 200, 0, 0, 0, 0, 0]
    const seqC = new Float64Array(PER_CONN)
    const seqS = new Float64Array(PER_CONN)
    let c = 1001
    let s = 5001
    for (let i = 0; i < PER_CONN; i++) {
      seqC[i] = i === 0 ? 1000 : c
      seqS[i] = i === 1 ? 5000 : s
      if (i === 14) seqC[i] = 1001 // a retransmission of the request
      else if (fromC[i] && i > 0) c += len[i] + (flags[i] & 1)
      if (!fromC[i] && i > 1) s += len[i] + (flags[i] & 1)
    }
    const rec = newCaptureRecord()
    const pkt = new Packet()
    let evicted = 0
    const tracker = new FlowTracker({idleTimeoutSec: 5, idleMinFrames: 50_000, onEvict: () => evicted++})
    let flagged = 0
    let peak = 0
    const t0 = performance.now()
    for (let f = 0; f < FRAMES; f++) {
      // Connection n runs its 20 frames interleaved with CONC-1 others: frame f is step (f / CONC) % 20.
      const step = Math.floor(f / CONC) % PER_CONN
      const conn = (f % CONC) + CONC * Math.floor(f / (CONC * PER_CONN))
      const c2s = fromC[step] === 1
      pkt.ipVersion = 4
      pkt.proto = IPPROTO_TCP
      pkt.stop = 0
      pkt.fragment = false
      pkt.l3Off = 14
      pkt.ipHdrLen = 20
      pkt.tcpHdrLen = 20
      pkt.ipTotalLen = 40 + len[step]
      const client = 0x0a000000 + (conn >>> 16)
      const cport = 1024 + (conn & 0xffff) % 60000
      pkt.v4Src = c2s ? client : 0xc0a80001
      pkt.v4Dst = c2s ? 0xc0a80001 : client
      pkt.sport = c2s ? cport : 443
      pkt.dport = c2s ? 443 : cport
      pkt.seq = c2s ? seqC[step] : seqS[step]
      pkt.ack = step === 0 ? 0 : c2s ? seqS[Math.min(step, PER_CONN - 1)] : seqC[step]
      pkt.tcpFlags = flags[step]
      pkt.window = 500
      pkt.wscale = step < 2 ? 7 : -1
      rec.frame = f + 1
      rec.tsSec = 1_700_000_000 + Math.floor(f / 100_000)
      rec.tsNsec = (f % 100_000) * 10_000
      rec.origlen = 54 + len[step]
      rec.offset = 0
      tracker.observe(rec, pkt)
      if (tracker.result.flags) flagged++
      if ((f & 0xffff) === 0) peak = Math.max(peak, tracker.liveFlows)
    }
    const ms = performance.now() - t0
    console.log(
      `FlowTracker: ${FRAMES} frames in ${ms.toFixed(0)} ms = ${Math.round(FRAMES / (ms / 1000)).toLocaleString('en')} frames/s; ` +
        `flagged ${flagged}; peak live flows ${peak}; evicted ${evicted}; unacked nodes ${tracker.unackedSegments}`,
    )
    expect(flagged).toBeGreaterThan(0)
    expect(evicted).toBeGreaterThan(0)
    // 100,000 connections in all; memory follows the ~20,000 alive at once plus the idle window.
    expect(peak).toBeLessThan(CONC * 4)
  })
})
