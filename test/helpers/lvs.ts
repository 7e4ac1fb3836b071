/**
 * Builds captures of an LVS-DR setup frame by frame: a client talking to a VIP through a director that
 * forwards (or not) each client frame to a real server by rewriting both MACs and decrementing TTL, as IPVS does.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {buildPcap, type PcapRec} from './capture-writer.js'
import {TCP, arp, ethernet, ipv4, sll2, tcp} from './frames.js'

export const HOSTS = {
  client: {ip: '10.9.0.10', mac: '02:00:00:00:00:0a'},
  router: {mac: '02:00:00:00:00:01'},
  director: {ip: '10.9.0.2', mac: '02:00:00:00:00:02'},
  director2: {ip: '10.9.0.3', mac: '02:00:00:00:00:03'},
  rs: [
    {ip: '10.9.0.11', mac: '02:00:00:00:00:0b'},
    {ip: '10.9.0.12', mac: '02:00:00:00:00:0c'},
  ],
  vip: '10.9.0.100',
  port: 3306,
} as const

export interface ClientSeg {
  sport: number
  seq: number
  ack?: number
  flags?: number
  payload?: number[]
  /** IP ID: a genuine retransmission carries a new one. */
  id: number
  ttl?: number
}

const BASE = 1_700_000_000

/** A capture under construction: times are seconds after BASE. */
export class CaptureBuilder {
  readonly recs: PcapRec[] = []

  constructor(private readonly linktype: 1 | 276 = 1) {}

  frame(t: number, bytes: Uint8Array): this {
    const sec = Math.floor(t)
    this.recs.push({sec: BASE + sec, frac: Math.round((t - sec) * 1e6), data: bytes})
    return this
  }

  private l2(src: string, dst: string, ip: Uint8Array, outgoing: boolean): Uint8Array {
    if (this.linktype === 276) return sll2({proto: 0x0800, ifindex: 2, hatype: 1, pktType: outgoing ? 4 : 0, addr: src}, ip)
    return ethernet({src, dst, type: 0x0800}, ip)
  }

  /** Client→VIP frame arriving at the director, and (unless `forwardTo` is null) its forwarded copy. */
  client(t: number, s: ClientSeg, forwardTo: number | null, director: {mac: string} = HOSTS.director): this {
    const seg = tcp({sport: s.sport, dport: HOSTS.port, seq: s.seq, ack: s.ack ?? 0, flags: s.flags ?? TCP.ACK}, s.payload ?? [])
    const ttl = s.ttl ?? 64
    const inbound = ipv4({src: HOSTS.client.ip, dst: HOSTS.vip, proto: 6, id: s.id, ttl, df: true}, seg)
    this.frame(t, this.l2(HOSTS.router.mac, director.mac, inbound, false))
    if (forwardTo !== null) {
      const out = ipv4({src: HOSTS.client.ip, dst: HOSTS.vip, proto: 6, id: s.id, ttl: ttl - 1, df: true}, seg)
      this.frame(t + 20e-6, this.l2(director.mac, HOSTS.rs[forwardTo].mac, out, true))
    }
    return this
  }

  /** The director's own stack answering a client segment it did not forward (tcp_v4_send_reset). */
  directorRst(t: number, sport: number, seq: number, director: {mac: string} = HOSTS.director): this {
    const seg = tcp({sport: HOSTS.port, dport: sport, seq, ack: 0, flags: TCP.RST, window: 0})
    return this.frame(t, this.l2(director.mac, HOSTS.router.mac, ipv4({src: HOSTS.vip, dst: HOSTS.client.ip, proto: 6, id: 0, df: true}, seg), true))
  }

  /** A real server's reply or reset (source VIP, its own MAC). */
  server(t: number, rs: number, o: {dport: number; seq: number; ack: number; flags: number; id: number; payload?: number[]}): this {
    const seg = tcp({sport: HOSTS.port, dport: o.dport, seq: o.seq, ack: o.ack, flags: o.flags}, o.payload ?? [])
    return this.frame(t, this.l2(HOSTS.rs[rs].mac, HOSTS.router.mac, ipv4({src: HOSTS.vip, dst: HOSTS.client.ip, proto: 6, id: o.id}, seg), true))
  }

  /** A client frame as a real server receives it (already forwarded: director MAC, TTL−1). */
  atRealServer(t: number, rs: number, s: ClientSeg, director: {mac: string} = HOSTS.director): this {
    const seg = tcp({sport: s.sport, dport: HOSTS.port, seq: s.seq, ack: s.ack ?? 0, flags: s.flags ?? TCP.ACK}, s.payload ?? [])
    return this.frame(t, this.l2(director.mac, HOSTS.rs[rs].mac, ipv4({src: HOSTS.client.ip, dst: HOSTS.vip, proto: 6, id: s.id, ttl: 63, df: true}, seg), false))
  }

  garp(t: number, mac: string): this {
    const body = arp({op: 1, senderMac: mac, senderIp: HOSTS.vip, targetMac: '00:00:00:00:00:00', targetIp: HOSTS.vip})
    return this.frame(t, ethernet({src: mac, dst: "ff:ff:ff:ff:ff:ff", type: 0x0806}, body))
  }

  bytes(): Uint8Array {
    return buildPcap({linktype: this.linktype}, this.recs)
  }

  /** Write to a temp file and return its path. */
  write(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'lvscope-lvs-'))
    const p = join(dir, name)
    writeFileSync(p, this.bytes())
    return p
  }
}

export const BASE_EPOCH = BASE
