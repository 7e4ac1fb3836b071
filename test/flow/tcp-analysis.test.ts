import {describe, expect, it} from 'vitest'
import {
  TCP_A_ACK_LOST_PACKET,
  TCP_A_DUPLICATE_ACK,
  TCP_A_FAST_RETRANSMISSION,
  TCP_A_KEEP_ALIVE,
  TCP_A_KEEP_ALIVE_ACK,
  TCP_A_LOST_PACKET,
  TCP_A_OUT_OF_ORDER,
  TCP_A_RETRANSMISSION,
  TCP_A_REUSED_PORTS,
  TCP_A_SPURIOUS_RETRANSMISSION,
  TCP_A_WINDOW_FULL,
  TCP_A_WINDOW_UPDATE,
  TCP_A_ZERO_WINDOW,
  TCP_A_ZERO_WINDOW_PROBE,
  TCP_A_ZERO_WINDOW_PROBE_ACK,
  tsharkFlags,
} from '../../src/flow/tcp-analysis.js'
import type {FlowSummary} from '../../src/flow/tracker.js'
import {A, Driver, F, P, R, S} from './builder.js'

/** Client ISN 1000, server ISN 5000; SYN at 0 ms, SYN/ACK at 1 ms, ACK at 2 ms (iRTT 2 ms). */
function handshake(d: Driver, opts: {wscaleC?: number; wscaleS?: number; isnC?: number; isnS?: number} = {}) {
  const c = opts.isnC ?? 1000
  const s = opts.isnS ?? 5000
  const r1 = d.tcp({from: 'c', seq: c, flags: S, t: 0, wscale: opts.wscaleC})
  const r2 = d.tcp({from: 's', seq: s, ack: c + 1, flags: S | A, t: 1, wscale: opts.wscaleS})
  const r3 = d.tcp({from: 'c', seq: c + 1, ack: s + 1, t: 2})
  return [r1, r2, r3]
}

describe('TCP analysis: clean conversation', () => {
  it('flags nothing on a handshake, data both ways and a close', () => {
    const d = new Driver()
    const rs = [
      ...handshake(d),
      d.tcp({from: 'c', seq: 1001, ack: 5001, flags: A | P, len: 100, t: 10}),
      d.tcp({from: 's', seq: 5001, ack: 1101, t: 11}),
      d.tcp({from: 's', seq: 5001, ack: 1101, flags: A | P, len: 300, t: 12}),
      d.tcp({from: 'c', seq: 1101, ack: 5301, t: 13}),
      d.tcp({from: 'c', seq: 1101, ack: 5301, flags: F | A, t: 20}),
      d.tcp({from: 's', seq: 5301, ack: 1102, flags: F | A, t: 21}),
      d.tcp({from: 'c', seq: 1102, ack: 5302, t: 22}),
    ]
    expect(rs.map((r) => r.flags)).toEqual(rs.map(() => 0))
    expect(rs.every((r) => r.analysed)).toBe(true)
    expect(new Set(rs.map((r) => r.id)).size).toBe(1)
  })
})

describe('TCP analysis: LVS-DR director duplicates (one direction only)', () => {
  it('same SYN twice → retransmission', () => {
    const d = new Driver()
    expect(d.tcp({from: 'c', seq: 1000, flags: S, t: 0}).flags).toBe(0)
    expect(d.tcp({from: 'c', seq: 1000, flags: S, t: 0.05}).flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('same data segment twice → retransmission (not out-of-order: the end equals nextseq)', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1})
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, flags: A | P, t: 2}).flags).toBe(0)
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, flags: A | P, t: 2.05}).flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('pure ACK twice → duplicate ACK #1 then #2, pointing at the original', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    const first = d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1})
    const dup1 = d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1.05})
    const dup2 = d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1.1})
    expect(first.flags).toBe(0)
    expect(dup1).toMatchObject({flags: TCP_A_DUPLICATE_ACK, dupAckNum: 1, dupAckFrame: first.frame})
    expect(dup2).toMatchObject({flags: TCP_A_DUPLICATE_ACK, dupAckNum: 2, dupAckFrame: first.frame})
    // A new ACK number resets the count.
    expect(d.tcp({from: 'c', seq: 1001, ack: 6001, t: 2}).flags).toBe(0)
    expect(d.tcp({from: 'c', seq: 1001, ack: 6001, t: 2.05}).dupAckNum).toBe(1)
  })

  it('a 1-byte data segment seen twice is a keep-alive, which supersedes retransmission', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1, flags: A | P, t: 1})
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1, flags: A | P, t: 1.05}).flags).toBe(TCP_A_KEEP_ALIVE)
  })

  it('a RST seen twice is not flagged', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 'c', seq: 1001, flags: R, t: 1})
    expect(d.tcp({from: 'c', seq: 1001, flags: R, t: 1.05}).flags).toBe(0)
  })
})

describe('TCP analysis: loss and reordering', () => {
  it('lost segment, then the hole filled within the iRTT → out-of-order', () => {
    const d = new Driver()
    handshake(d)
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10}).flags).toBe(0)
    expect(d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 10.5}).flags).toBe(TCP_A_LOST_PACKET)
    expect(d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 11}).flags).toBe(TCP_A_OUT_OF_ORDER)
  })

  it('the hole filled after the iRTT (2 ms) → retransmission', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 10.5})
    expect(d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 12.6}).flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('without a handshake the out-of-order threshold is 3 ms', () => {
    const mk = (t: number) => {
      const d = new Driver()
      d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 0})
      d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 1})
      return d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t}).flags
    }
    expect(mk(3.9)).toBe(TCP_A_OUT_OF_ORDER)
    expect(mk(4.1)).toBe(TCP_A_RETRANSMISSION)
  })

  it('data already ACKed by the peer → spurious retransmission (tshark also counts it as retransmission)', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20})
    const r = d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 30})
    expect(r.flags).toBe(TCP_A_SPURIOUS_RETRANSMISSION)
    expect(tsharkFlags(r.flags)).toBe(TCP_A_SPURIOUS_RETRANSMISSION | TCP_A_RETRANSMISSION)
  })

  it('retransmission right after two duplicate ACKs (< 20 ms) → fast retransmission', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 10.1})
    d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 10.2})
    const ack = d.tcp({from: 's', seq: 5001, ack: 1101, t: 20})
    expect(d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.1})).toMatchObject({dupAckNum: 1, dupAckFrame: ack.frame})
    expect(d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.2})).toMatchObject({dupAckNum: 2})
    const r = d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 25})
    expect(r.flags).toBe(TCP_A_FAST_RETRANSMISSION)
    expect(tsharkFlags(r.flags)).toBe(TCP_A_FAST_RETRANSMISSION | TCP_A_RETRANSMISSION)
  })

  it('the same retransmission 20 ms after the last dup ACK is a plain retransmission', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 10.1})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.1})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.2})
    expect(d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 40.3}).flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('after an ACKed-unseen segment the dup-ACK counter is 0xffffffff (guint32 -1), so a quick FIN retransmission is "fast"', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    expect(d.tcp({from: 's', seq: 5001, ack: 1101, flags: F | A, t: 11}).flags).toBe(0)
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 12})
    expect(d.tcp({from: 's', seq: 5001, ack: 1301, flags: F | A, t: 13}).flags).toBe(
      TCP_A_ACK_LOST_PACKET | TCP_A_FAST_RETRANSMISSION,
    )
  })

  it('an ACK beyond anything seen → ACKed unseen segment, once', () => {
    const d = new Driver()
    handshake(d)
    expect(d.tcp({from: 's', seq: 5001, ack: 2001, t: 10}).flags).toBe(TCP_A_ACK_LOST_PACKET)
    expect(d.tcp({from: 's', seq: 5001, ack: 2001, win: 2000, t: 11}).flags & TCP_A_ACK_LOST_PACKET).toBe(0)
  })
})

describe('TCP analysis: windows and keep-alives', () => {
  it('zero window, zero-window probe, probe ACK, then window update', () => {
    const d = new Driver()
    handshake(d)
    expect(d.tcp({from: 's', seq: 5001, ack: 1001, win: 0, t: 10}).flags).toBe(TCP_A_ZERO_WINDOW)
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1, t: 20}).flags).toBe(TCP_A_ZERO_WINDOW_PROBE)
    expect(d.tcp({from: 's', seq: 5001, ack: 1001, win: 0, t: 21}).flags).toBe(
      TCP_A_ZERO_WINDOW | TCP_A_ZERO_WINDOW_PROBE_ACK,
    )
    expect(d.tcp({from: 's', seq: 5001, ack: 1001, win: 1000, t: 30}).flags).toBe(TCP_A_WINDOW_UPDATE)
    // The probe did not advance nextseq: the real data is neither lost nor retransmitted.
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 31}).flags).toBe(0)
  })

  it('window full uses the peer scale once it has sent its first ACK', () => {
    const d = new Driver()
    handshake(d, {wscaleC: 7, wscaleS: 7})
    expect(d.tcp({from: 's', seq: 5001, ack: 1001, win: 10, t: 10}).flags).toBe(TCP_A_WINDOW_UPDATE)
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1000, t: 11}).flags).toBe(0)
    // 1001 + 10 << 7 = 2281
    expect(d.tcp({from: 'c', seq: 2001, ack: 5001, len: 280, t: 12}).flags).toBe(TCP_A_WINDOW_FULL)
  })

  it('before the peer ACKs (is_first_ack) its window is taken unscaled', () => {
    const d = new Driver()
    handshake(d, {wscaleC: 7, wscaleS: 7})
    // SYN/ACK window 1000, unscaled → edge at 2001.
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1000, t: 10}).flags).toBe(TCP_A_WINDOW_FULL)
  })

  it('window full is off while the scale is unknown (no SYN seen)', () => {
    const d = new Driver()
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 100, t: 0})
    expect(d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 1}).flags).toBe(0)
  })

  it('keep-alive and keep-alive ACK', () => {
    const d = new Driver()
    handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 11})
    expect(d.tcp({from: 'c', seq: 1100, ack: 5001, t: 100}).flags).toBe(TCP_A_KEEP_ALIVE)
    expect(d.tcp({from: 's', seq: 5001, ack: 1101, t: 101}).flags).toBe(TCP_A_KEEP_ALIVE_ACK)
  })
})

describe('TCP analysis: reused ports and sequence wraparound', () => {
  it('a SYN with a new ISN after a closed conversation → new flow, reused_ports', () => {
    const evicted: FlowSummary[] = []
    const d = new Driver({onEvict: (f) => evicted.push(f)})
    const [syn] = handshake(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, flags: F | A, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1002, flags: F | A, t: 11})
    d.tcp({from: 'c', seq: 1002, ack: 5002, t: 12})
    const again = d.tcp({from: 'c', seq: 90000, flags: S, t: 1000})
    expect(again.flags).toBe(TCP_A_REUSED_PORTS)
    expect(again.id).not.toBe(syn.id)
    expect(evicted).toHaveLength(1)
    expect(evicted[0]).toMatchObject({id: syn.id, reason: 'reused-ports', state: 'SF'})
    // The new conversation starts clean.
    expect(d.tcp({from: 's', seq: 70000, ack: 90001, flags: S | A, t: 1001}).flags).toBe(0)
    const live = d.tracker.flows()
    expect(live).toHaveLength(1)
    expect(live[0].reusedPortsOf).toBe(syn.id)
  })

  it('a SYN with the same ISN stays in the conversation and is a retransmission', () => {
    const d = new Driver()
    const a = d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    const b = d.tcp({from: 'c', seq: 1000, flags: S, t: 1000})
    expect(b.id).toBe(a.id)
    expect(b.flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('a SYN/ACK with a new ISN is flagged but keeps the conversation (Wireshark 4.0)', () => {
    const d = new Driver()
    handshake(d)
    const r = d.tcp({from: 's', seq: 123456, ack: 1001, flags: S | A, t: 50})
    expect(r.flags & TCP_A_REUSED_PORTS).toBe(TCP_A_REUSED_PORTS)
    expect(d.tracker.flows()).toHaveLength(1)
  })

  it('handles sequence numbers wrapping at 2^32', () => {
    const isn = 0xffffff00
    const d = new Driver()
    handshake(d, {isnC: isn})
    const s1 = (isn + 1) >>> 0
    expect(d.tcp({from: 'c', seq: s1, ack: 5001, len: 300, t: 10}).flags).toBe(0) // crosses 2^32
    const next = (s1 + 300) >>> 0
    expect(next).toBeLessThan(1000)
    expect(d.tcp({from: 'c', seq: next, ack: 5001, len: 100, t: 11}).flags).toBe(0)
    expect(d.tcp({from: 'c', seq: s1, ack: 5001, len: 300, t: 100}).flags).toBe(TCP_A_RETRANSMISSION)
    expect(d.tcp({from: 'c', seq: next + 500, ack: 5001, len: 100, t: 101}).flags).toBe(TCP_A_LOST_PACKET)
    // The server's ACK across the wrap is not "unseen".
    expect(d.tcp({from: 's', seq: 5001, ack: next + 100, t: 102}).flags).toBe(0)
  })
})

describe('TCP analysis: which frames are analysed', () => {
  it('skips IP fragments and non-TCP', () => {
    const d = new Driver()
    d.pkt.reset(new Uint8Array(0))
    d.pkt.ipVersion = 4
    d.pkt.proto = 6
    d.pkt.fragment = true
    expect(d.tracker.observe(d.rec, d.pkt)).toBe(-1)
    expect(d.tracker.result.analysed).toBe(false)
    expect(d.udp('c', 0, 10)).toBeGreaterThanOrEqual(0)
    expect(d.tracker.result.analysed).toBe(false)
  })

  it('still analyses a segment whose options were cut by the snaplen', () => {
    const d = new Driver()
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    const r = d.tcp({from: 'c', seq: 1000, flags: S, t: 1, truncatedHeader: true})
    expect(r.analysed).toBe(true)
    expect(r.flags).toBe(TCP_A_RETRANSMISSION)
  })

  it('counts twin copies (a DR director sees each client segment twice) as two segments against the bound', () => {
    const d = new Driver({maxUnackedSegments: 50})
    handshake(d)
    let seq = 1001
    for (let i = 0; i < 40; i++) {
      d.tcp({from: 'c', seq, ack: 5001, len: 10, t: 10 + i})
      // The forwarded copy: same segment, flagged as Wireshark does.
      expect(d.tcp({from: 'c', seq, ack: 5001, len: 10, t: 10.01 + i}).flags).toBe(TCP_A_RETRANSMISSION)
      seq += 10
    }
    // 25 segments × 2 copies fill the list; equal ends share a pool node, so 25 nodes are held.
    expect(d.tracker.unackedSegments).toBe(25)
    // An ACK of the first 10 segments frees their 20 entries, leaving room for 20 more entries.
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 100})
    expect(d.tracker.unackedSegments).toBe(15)
    for (let i = 0; i < 15; i++) d.tcp({from: 'c', seq: seq + i * 10, ack: 5001, len: 10, t: 200 + i})
    // 30 of the old entries + 15 new ones: below the bound, all pushed.
    expect(d.tracker.unackedSegments).toBe(30)
    // Evicting the flow hands every node back.
    d.tracker.flush()
    expect(d.tracker.unackedSegments).toBe(0)
  })

  it('bounds the unacked-segment list per direction and frees it on ACK', () => {
    const d = new Driver({maxUnackedSegments: 50})
    handshake(d)
    let seq = 1001
    for (let i = 0; i < 200; i++) {
      d.tcp({from: 'c', seq, ack: 5001, len: 10, t: 10 + i})
      seq += 10
    }
    expect(d.tracker.unackedSegments).toBe(50)
    d.tcp({from: 's', seq: 5001, ack: seq, t: 500})
    expect(d.tracker.unackedSegments).toBe(0)
  })
})
