/**
 * Open-addressing table of transport endpoints (IP version, address words, port, protocol) → dense
 * index. Lookups take the packet's numbers, so matching a packet against the service list or the
 * flow list builds no string or key object. IPv4 addresses are stored as [0, 0, 0, addr].
 */
import {ipv4ToString, ipv6ToString} from '../../decode/format.js'
import type {Packet} from '../../decode/packet.js'

export class EndpointTable {
  size = 0
  private cap = 0
  private mask = 0
  private slots = new Int32Array(0)
  private ver = new Uint8Array(0)
  private proto = new Uint8Array(0)
  private port = new Uint16Array(0)
  private words = new Uint32Array(0)

  constructor(initial = 64) {
    this.resize(Math.max(16, initial))
  }

  /** Index of the endpoint, or -1. `w` holds the address words (IPv4: w[3]). */
  find(v: number, w: ArrayLike<number>, port: number, proto: number): number {
    let s = hash(v, w, port, proto) & this.mask
    for (;;) {
      const i = this.slots[s]
      if (i < 0) return -1
      if (this.same(i, v, w, port, proto)) return i
      s = (s + 1) & this.mask
    }
  }

  /** IPv4 fast path. */
  find4(addr: number, port: number, proto: number): number {
    let s = hash4(addr, port, proto) & this.mask
    for (;;) {
      const i = this.slots[s]
      if (i < 0) return -1
      const k = i * 4
      if (this.ver[i] === 4 && this.port[i] === port && this.proto[i] === proto && this.words[k + 3] === addr) return i
      s = (s + 1) & this.mask
    }
  }

  /** Index of the endpoint, inserted when new. */
  add(v: number, w: ArrayLike<number>, port: number, proto: number): number {
    const found = v === 4 ? this.find4(w[3] >>> 0, port, proto) : this.find(v, w, port, proto)
    if (found >= 0) return found
    if ((this.size + 1) * 2 > this.cap) this.resize(this.cap * 2)
    const i = this.size++
    this.ver[i] = v
    this.proto[i] = proto
    this.port[i] = port
    const k = i * 4
    for (let j = 0; j < 4; j++) this.words[k + j] = v === 4 && j < 3 ? 0 : w[j]
    this.place(i)
    return i
  }

  /** Source (which = 0) or destination (1) endpoint of a decoded packet: index or -1. */
  findPacket(pkt: Packet, which: 0 | 1): number {
    if (pkt.ipVersion === 4) {
      return which === 0 ? this.find4(pkt.v4Src, pkt.sport, pkt.proto) : this.find4(pkt.v4Dst, pkt.dport, pkt.proto)
    }
    return which === 0 ? this.find(6, pkt.v6Src, pkt.sport, pkt.proto) : this.find(6, pkt.v6Dst, pkt.dport, pkt.proto)
  }

  addPacket(pkt: Packet, which: 0 | 1): number {
    if (pkt.ipVersion === 4) {
      SCRATCH[3] = which === 0 ? pkt.v4Src : pkt.v4Dst
      return this.add(4, SCRATCH, which === 0 ? pkt.sport : pkt.dport, pkt.proto)
    }
    return this.add(6, which === 0 ? pkt.v6Src : pkt.v6Dst, which === 0 ? pkt.sport : pkt.dport, pkt.proto)
  }

  /** Address text of entry i (allocates: per flow or service, not per packet). */
  addrString(i: number): string {
    const k = i * 4
    if (this.ver[i] === 4) return ipv4ToString(this.words[k + 3])
    return ipv6ToString(this.words.subarray(k, k + 4))
  }

  endpointString(i: number): string {
    const a = this.addrString(i)
    return this.ver[i] === 6 ? `[${a}]:${this.port[i]}` : `${a}:${this.port[i]}`
  }

  versionOf(i: number): number {
    return this.ver[i]
  }
  portOf(i: number): number {
    return this.port[i]
  }
  protoOf(i: number): number {
    return this.proto[i]
  }
  /** Address words of entry i (a view; copy to keep). */
  wordsOf(i: number): Uint32Array {
    return this.words.subarray(i * 4, i * 4 + 4)
  }

  private same(i: number, v: number, w: ArrayLike<number>, port: number, proto: number): boolean {
    if (this.ver[i] !== v || this.port[i] !== port || this.proto[i] !== proto) return false
    const k = i * 4
    if (v === 4) return this.words[k + 3] === w[3] >>> 0
    return this.words[k] === w[0] >>> 0 && this.words[k + 1] === w[1] >>> 0 && this.words[k + 2] === w[2] >>> 0 && this.words[k + 3] === w[3] >>> 0
  }

  private place(i: number): void {
    const k = i * 4
    const v = this.ver[i]
    const h = v === 4 ? hash4(this.words[k + 3], this.port[i], this.proto[i]) : hash(v, this.words.subarray(k, k + 4), this.port[i], this.proto[i])
    let s = h & this.mask
    while (this.slots[s] >= 0) s = (s + 1) & this.mask
    this.slots[s] = i
  }

  private resize(cap: number): void {
    const n = this.size
    const ver = new Uint8Array(cap)
    ver.set(this.ver.subarray(0, n))
    const proto = new Uint8Array(cap)
    proto.set(this.proto.subarray(0, n))
    const port = new Uint16Array(cap)
    port.set(this.port.subarray(0, n))
    const words = new Uint32Array(cap * 4)
    words.set(this.words.subarray(0, n * 4))
    this.ver = ver
    this.proto = proto
    this.port = port
    this.words = words
    this.cap = cap
    this.mask = cap - 1
    this.slots = new Int32Array(cap).fill(-1)
    for (let i = 0; i < n; i++) this.place(i)
  }
}

const SCRATCH = new Uint32Array(4)

function mix(h: number, k: number): number {
  h = Math.imul(h ^ k, 0x9e3779b1)
  return h ^ (h >>> 15)
}

function hash4(addr: number, port: number, proto: number): number {
  return mix(mix(mix(0x2545f491, addr), port), proto) >>> 0
}

function hash(v: number, w: ArrayLike<number>, port: number, proto: number): number {
  if (v === 4) return hash4(w[3] >>> 0, port, proto)
  return mix(mix(mix(mix(mix(mix(0x2545f491, w[0]), w[1]), w[2]), w[3]), port), proto) >>> 0
}
