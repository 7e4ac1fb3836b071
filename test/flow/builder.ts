/**
 * Builds TCP/UDP segments straight into a Packet + CaptureRecord (no bytes), so analysis tests
 * state exactly the header fields they are about.
 */
import {newCaptureRecord} from '../../src/capture/record.js'
import type {CaptureRecord} from '../../src/capture/record.js'
import {IPPROTO_TCP, IPPROTO_UDP, Packet, Stop} from '../../src/decode/packet.js'
import {FlowTracker} from '../../src/flow/tracker.js'
import type {FlowTrackerOptions} from '../../src/flow/tracker.js'

export const F = 0x01
export const S = 0x02
export const R = 0x04
export const P = 0x08
export const A = 0x10

export interface SegOpts {
  /** 'c' = client → server, 's' = server → client. */
  from: 'c' | 's'
  seq: number
  ack?: number
  flags?: number
  win?: number
  len?: number
  /** Milliseconds since the start (fractions allowed). */
  t: number
  wscale?: number
  /** Simulate a snaplen cut inside the TCP options. */
  truncatedHeader?: boolean
}

export interface Endpoints {
  client: number
  server: number
  cport: number
  sport: number
}

export const DEFAULT_EP: Endpoints = {client: 0x0a000001, server: 0x0a000002, cport: 40000, sport: 80}

const BASE_SEC = 1_700_000_000

/** One fed TCP segment, kept so a scenario can be written out as a capture for tshark. */
export interface LoggedSeg {
  o: SegOpts
  ep: Endpoints
  /** Our flags for it (Wireshark's ta->flags). */
  flags: number
  dupAckNum: number
}

/** Drives a FlowTracker with built segments; keeps frame numbers. */
export class Driver {
  readonly tracker: FlowTracker
  readonly rec: CaptureRecord = newCaptureRecord()
  readonly pkt = new Packet()
  readonly log: LoggedSeg[] = []
  frame = 0

  constructor(
    opts: FlowTrackerOptions = {},
    readonly ep: Endpoints = DEFAULT_EP,
  ) {
    this.tracker = new FlowTracker(opts)
  }

  /** Feed one TCP segment; returns {id, flags, dupAckNum, dupAckFrame, frame}. */
  tcp(o: SegOpts, ep: Endpoints = this.ep) {
    const len = o.len ?? 0
    const p = this.pkt
    p.reset(new Uint8Array(0))
    p.ipVersion = 4
    p.proto = IPPROTO_TCP
    p.l3Off = 14
    p.ipHdrLen = 20
    p.tcpHdrLen = 20
    p.ipTotalLen = 40 + len
    p.l4Off = 34
    p.v4Src = o.from === 'c' ? ep.client : ep.server
    p.v4Dst = o.from === 'c' ? ep.server : ep.client
    p.sport = o.from === 'c' ? ep.cport : ep.sport
    p.dport = o.from === 'c' ? ep.sport : ep.cport
    p.seq = o.seq >>> 0
    p.ack = (o.ack ?? 0) >>> 0
    p.tcpFlags = o.flags ?? A
    p.window = o.win ?? 1000
    p.wscale = o.wscale ?? -1
    p.payloadLen = len
    p.stop = o.truncatedHeader ? Stop.Truncated : Stop.Ok
    this.stamp(o.t, 14 + 40 + len)
    const id = this.tracker.observe(this.rec, p)
    const r = this.tracker.result
    this.log.push({o, ep, flags: r.flags, dupAckNum: r.dupAckNum})
    return {id, flags: r.flags, dupAckNum: r.dupAckNum, dupAckFrame: r.dupAckFrame, frame: this.frame, analysed: r.analysed}
  }

  udp(from: 'c' | 's', t: number, len: number, ep: Endpoints = this.ep): number {
    const p = this.pkt
    p.reset(new Uint8Array(0))
    p.ipVersion = 4
    p.proto = IPPROTO_UDP
    p.l3Off = 14
    p.ipHdrLen = 20
    p.ipTotalLen = 28 + len
    p.l4Off = 34
    p.v4Src = from === 'c' ? ep.client : ep.server
    p.v4Dst = from === 'c' ? ep.server : ep.client
    p.sport = from === 'c' ? ep.cport : ep.sport
    p.dport = from === 'c' ? ep.sport : ep.cport
    p.udpLen = 8 + len
    p.payloadLen = len
    this.stamp(t, 14 + 28 + len)
    return this.tracker.observe(this.rec, p)
  }

  /** Capture time of a segment as the Driver stamps it. */
  static time(tMs: number): {sec: number; nsec: number} {
    const ns = Math.round(tMs * 1e6)
    return {sec: BASE_SEC + Math.floor(ns / 1e9), nsec: ns % 1e9}
  }

  private stamp(tMs: number, wireLen: number): void {
    this.frame++
    const ns = Math.round(tMs * 1e6)
    this.rec.frame = this.frame
    this.rec.tsSec = BASE_SEC + Math.floor(ns / 1e9)
    this.rec.tsNsec = ns % 1e9
    this.rec.offset = 0
    this.rec.caplen = wireLen
    this.rec.origlen = wireLen
    this.rec.fcsLen = 0
  }
}
