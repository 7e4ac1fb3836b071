/**
 * Per-flow fate counts, keyed by the client endpoint (address, port, protocol) — the one part of a
 * flow that neither DR, TUN nor NAT rewrites. Numbers in typed arrays; the text of the client and
 * service endpoints is built only when the result is assembled.
 */
import type {CorrelationFlow} from '../../report/report.js'
import type {Packet} from '../../decode/packet.js'
import {EndpointTable} from './endpoints.js'

export const F_MATCHED = 0
export const F_LOST = 1
export const F_NOT_FORWARDED = 2
export const F_ONLY_RS = 3
const FIELDS = 4

/** Seconds to the µs; null where no packet gave a time. */
const micro = (t: number): number | null => (Number.isNaN(t) ? null : Math.round(t * 1e6) / 1e6)

export class FlowStats {
  readonly clients = new EndpointTable(1024)
  private service = new Int32Array(1024)
  // Uint32, not Float64: a count per client flow for every flow a capture ever had (millions on captures of short
  // connections); a flow's packets stay far below 2^32.
  private counts = new Uint32Array(1024 * FIELDS)
  // First and last reference time of each flow's counted packets (NaN: none yet), for the report's activity strip.
  private times = new Float64Array(1024 * 2).fill(NaN)
  private fast = new Uint32Array(4096 * 4)
  private fastMask = 4095
  private fastUsed = 0

  constructor(private readonly services: EndpointTable) {}

  get size(): number {
    return this.clients.size
  }

  /** Flow id of a request (client = source) or reply (client = destination); `svc` is the service index. */
  idOf(pkt: Packet, clientSide: 0 | 1, svc: number): number {
    if (pkt.ipVersion === 4) {
      // Hot path: one interleaved probe array (address, port|proto, id+1) keeps a lookup in one cache line.
      const addr = clientSide === 0 ? pkt.v4Src : pkt.v4Dst
      const pp = ((clientSide === 0 ? pkt.sport : pkt.dport) | (pkt.proto << 16)) >>> 0
      const fast = this.fast
      const mask = this.fastMask
      let h = Math.imul(addr ^ Math.imul(pp, 0x85ebca6b), 0x9e3779b1)
      h = (h ^ (h >>> 15)) & mask
      for (;;) {
        const k = h * 4
        const v = fast[k + 2]
        if (v === 0) break
        if (fast[k] === addr && fast[k + 1] === pp) return v - 1
        h = (h + 1) & mask
      }
      const id = this.newFlow(pkt, clientSide, svc)
      const k = h * 4
      fast[k] = addr
      fast[k + 1] = pp
      fast[k + 2] = id + 1
      if (++this.fastUsed * 2 > mask) this.growFast()
      return id
    }
    const id = this.clients.findPacket(pkt, clientSide)
    return id >= 0 ? id : this.newFlow(pkt, clientSide, svc)
  }

  /** Flow id of a client endpoint given as numbers (flows announced by a worker). */
  idOfKey(ver: number, words: ArrayLike<number>, port: number, proto: number, svc: number): number {
    const found = ver === 4 ? this.clients.find4(words[3] >>> 0, port, proto) : this.clients.find(ver, words, port, proto)
    if (found >= 0) return found
    const id = this.clients.add(ver, words, port, proto)
    if (id >= this.service.length) this.grow()
    this.service[id] = svc
    if (ver === 4) {
      // Keep the IPv4 fast index in step, so idOf finds flows registered this way.
      const pp = (port | (proto << 16)) >>> 0
      const addr = words[3] >>> 0
      let h = Math.imul(addr ^ Math.imul(pp, 0x85ebca6b), 0x9e3779b1)
      h = (h ^ (h >>> 15)) & this.fastMask
      while (this.fast[h * 4 + 2] !== 0) h = (h + 1) & this.fastMask
      this.fast[h * 4] = addr
      this.fast[h * 4 + 1] = pp
      this.fast[h * 4 + 2] = id + 1
      if (++this.fastUsed * 2 > this.fastMask) this.growFast()
    }
    return id
  }

  /** Service index of a flow (-1 unknown). */
  serviceOf(flow: number): number {
    return this.service[flow]
  }

  private newFlow(pkt: Packet, clientSide: 0 | 1, svc: number): number {
    const id = this.clients.addPacket(pkt, clientSide)
    if (id >= this.service.length) this.grow()
    this.service[id] = svc
    return id
  }

  private growFast(): void {
    const old = this.fast
    const size = (this.fastMask + 1) * 2
    this.fast = new Uint32Array(size * 4)
    this.fastMask = size - 1
    for (let k = 0; k < old.length; k += 4) {
      if (old[k + 2] === 0) continue
      let h = Math.imul(old[k] ^ Math.imul(old[k + 1], 0x85ebca6b), 0x9e3779b1)
      h = (h ^ (h >>> 15)) & this.fastMask
      while (this.fast[h * 4 + 2] !== 0) h = (h + 1) & this.fastMask
      this.fast.set(old.subarray(k, k + 4), h * 4)
    }
  }

  inc(flow: number, field: number): void {
    this.counts[flow * FIELDS + field]++
  }

  /** Widen the flow's time span to `t` (reference clock). */
  seen(flow: number, t: number): void {
    const k = flow * 2
    if (!(this.times[k] <= t)) this.times[k] = t
    if (!(this.times[k + 1] >= t)) this.times[k + 1] = t
  }

  get(flow: number, field: number): number {
    return this.counts[flow * FIELDS + field]
  }

  clientString(flow: number): string {
    return this.clients.endpointString(flow)
  }

  serviceString(flow: number): string {
    const s = this.service[flow]
    return s >= 0 ? this.services.endpointString(s) : '?'
  }

  /**
   * Flows with any counted packet, those with problems first, at most `max`. Times are kept relative to `baseSec`
   * on the pass's tracking clock (within the clocks' uncertainty of the final one); `baseSec` makes them epochs.
   */
  list(max: number, baseSec = 0): {flows: CorrelationFlow[]; omitted: number} {
    const ids: number[] = []
    for (let i = 0; i < this.size; i++) {
      const k = i * FIELDS
      if (this.counts[k] + this.counts[k + 1] + this.counts[k + 2] + this.counts[k + 3] > 0) ids.push(i)
    }
    const bad = (i: number): number => this.counts[i * FIELDS + 1] + this.counts[i * FIELDS + 2] + this.counts[i * FIELDS + 3]
    ids.sort((a, b) => bad(b) - bad(a) || a - b)
    const flows = ids.slice(0, max).map((i) => ({
      client: this.clientString(i),
      service: this.serviceString(i),
      matched: this.get(i, F_MATCHED),
      lostOnPath: this.get(i, F_LOST),
      notForwarded: this.get(i, F_NOT_FORWARDED),
      onlyAtRealServer: this.get(i, F_ONLY_RS),
      firstEpoch: micro(baseSec + this.times[i * 2]),
      lastEpoch: micro(baseSec + this.times[i * 2 + 1]),
    }))
    return {flows, omitted: Math.max(0, ids.length - max)}
  }

  private grow(): void {
    const s = new Int32Array(this.service.length * 2)
    s.set(this.service)
    this.service = s
    const c = new Uint32Array(this.counts.length * 2)
    c.set(this.counts)
    this.counts = c
    const t = new Float64Array(this.times.length * 2).fill(NaN)
    t.set(this.times)
    this.times = t
  }
}
