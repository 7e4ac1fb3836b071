/**
 * Hand-built TCP conversations covering every analysis flag and edge case. tcp-analysis.test.ts
 * asserts hand-derived expectations on the same kinds of sequences; scenarios-tshark.test.ts writes
 * these to captures and checks them against tshark, so the expectations are the oracle's too.
 */
import {ipv4ToString} from '../../src/decode/format.js'
import {buildPcap} from '../helpers/capture-writer.js'
import {ethernet, ipv4, tcp, tcpOpt} from '../helpers/frames.js'
import {A, Driver, F, P, R, S} from './builder.js'
import type {LoggedSeg} from './builder.js'

function hs(d: Driver, o: {wc?: number; ws?: number; isnC?: number} = {}): void {
  const c = o.isnC ?? 1000
  d.tcp({from: 'c', seq: c, flags: S, t: 0, wscale: o.wc})
  d.tcp({from: 's', seq: 5000, ack: c + 1, flags: S | A, t: 1, wscale: o.ws})
  d.tcp({from: 'c', seq: c + 1, ack: 5001, t: 2})
}

export const SCENARIOS: Record<string, (d: Driver) => void> = {
  'clean conversation': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, flags: A | P, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 11})
    d.tcp({from: 's', seq: 5001, ack: 1101, flags: A | P, len: 300, t: 12})
    d.tcp({from: 'c', seq: 1101, ack: 5301, t: 13})
    d.tcp({from: 'c', seq: 1101, ack: 5301, flags: F | A, t: 20})
    d.tcp({from: 's', seq: 5301, ack: 1102, flags: F | A, t: 21})
    d.tcp({from: 'c', seq: 1102, ack: 5302, t: 22})
  },
  'DR director duplicates': (d) => {
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0})
    d.tcp({from: 'c', seq: 1000, flags: S, t: 0.05})
    d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1})
    d.tcp({from: 'c', seq: 1001, ack: 5001, t: 1.05})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, flags: A | P, t: 2})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, flags: A | P, t: 2.05})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 1, flags: A | P, t: 3})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 1, flags: A | P, t: 3.05})
    d.tcp({from: 'c', seq: 1102, ack: 5001, flags: F | A, t: 4})
    d.tcp({from: 'c', seq: 1102, ack: 5001, flags: F | A, t: 4.05})
    d.tcp({from: 'c', seq: 1103, flags: R, t: 5})
    d.tcp({from: 'c', seq: 1103, flags: R, t: 5.05})
  },
  'lost then out-of-order, then late retransmission': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 10.5})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 11})
    d.tcp({from: 'c', seq: 1401, ack: 5001, len: 100, t: 12})
    d.tcp({from: 'c', seq: 1301, ack: 5001, len: 100, t: 20})
  },
  'spurious retransmission': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 30})
  },
  'fast retransmission after two dup ACKs': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 10.1})
    d.tcp({from: 'c', seq: 1201, ack: 5001, len: 100, t: 10.2})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.1})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 20.2})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 25})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 60})
  },
  'ACKed unseen segment, then the dup-ACK counter quirk': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, flags: F | A, t: 11})
    d.tcp({from: 'c', seq: 1101, ack: 5001, len: 100, t: 12})
    d.tcp({from: 's', seq: 5001, ack: 1301, flags: F | A, t: 13})
  },
  'zero window, probe, probe ACK, window update': (d) => {
    hs(d)
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 0, t: 10})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1, t: 20})
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 0, t: 21})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1, t: 40})
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 0, t: 41})
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 1000, t: 50})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 51})
  },
  'window full with scaling': (d) => {
    hs(d, {wc: 7, ws: 7})
    d.tcp({from: 's', seq: 5001, ack: 1001, win: 10, t: 10})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1000, t: 11})
    d.tcp({from: 'c', seq: 2001, ack: 5001, len: 280, t: 12})
  },
  'window full before the first ACK (is_first_ack)': (d) => {
    hs(d, {wc: 7, ws: 7})
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 1000, t: 10})
  },
  'keep-alive and keep-alive ACK': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, len: 100, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 11})
    d.tcp({from: 'c', seq: 1100, ack: 5001, t: 100})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 101})
    d.tcp({from: 'c', seq: 1100, ack: 5001, len: 1, t: 200})
    d.tcp({from: 's', seq: 5001, ack: 1101, t: 201})
  },
  'reused ports after close': (d) => {
    hs(d)
    d.tcp({from: 'c', seq: 1001, ack: 5001, flags: F | A, t: 10})
    d.tcp({from: 's', seq: 5001, ack: 1002, flags: F | A, t: 11})
    d.tcp({from: 'c', seq: 1002, ack: 5002, t: 12})
    d.tcp({from: 'c', seq: 90000, flags: S, t: 1000})
    d.tcp({from: 's', seq: 70000, ack: 90001, flags: S | A, t: 1001})
    d.tcp({from: 'c', seq: 90001, ack: 70001, t: 1002})
    d.tcp({from: 's', seq: 123456, ack: 90001, flags: S | A, t: 1003})
  },
  'sequence wraparound': (d) => {
    const isn = 0xffffff00
    hs(d, {isnC: isn})
    const s1 = (isn + 1) >>> 0
    const next = (s1 + 300) >>> 0
    d.tcp({from: 'c', seq: s1, ack: 5001, len: 300, t: 10})
    d.tcp({from: 'c', seq: next, ack: 5001, len: 100, t: 11})
    d.tcp({from: 'c', seq: s1, ack: 5001, len: 300, t: 100})
    d.tcp({from: 'c', seq: next + 500, ack: 5001, len: 100, t: 101})
    d.tcp({from: 's', seq: 5001, ack: next + 100, t: 102})
  },
}

function ip(n: number): string {
  return ipv4ToString(n)
}

/** The scenario as a nanosecond pcap of Ethernet/IPv4/TCP frames. */
export function scenarioPcap(log: LoggedSeg[]): Uint8Array {
  return buildPcap(
    {nano: true, linktype: 1},
    log.map(({o, ep}) => {
      const c = o.from === 'c'
      const frame = ethernet(
        {type: 0x0800},
        ipv4(
          {src: ip(c ? ep.client : ep.server), dst: ip(c ? ep.server : ep.client), proto: 6},
          tcp(
            {
              sport: c ? ep.cport : ep.sport,
              dport: c ? ep.sport : ep.cport,
              seq: o.seq >>> 0,
              ack: (o.ack ?? 0) >>> 0,
              flags: o.flags ?? A,
              window: o.win ?? 1000,
              options: o.wscale !== undefined ? [...tcpOpt.nop(), ...tcpOpt.wscale(o.wscale)] : undefined,
            },
            new Uint8Array(o.len ?? 0),
          ),
        ),
      )
      const t = Driver.time(o.t)
      return {sec: t.sec, frac: t.nsec, data: frame}
    }),
  )
}
