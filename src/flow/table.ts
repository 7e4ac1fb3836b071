/**
 * Flow table: one entry per conversation, keyed like Wireshark's conversation table — IP version,
 * transport protocol and the address/port 4-tuple, both directions on one entry (MAC, VLAN and
 * interface are not part of the key). Open addressing with linear probing over the packet's own
 * numbers: no string or object is built to look a packet up. Evicted slots are recycled, so memory
 * follows the number of flows alive at once, not the size of the capture.
 *
 * Layout is chosen for the per-frame lookup: each bucket holds (slot + 1, hash) side by side, so a
 * probe rejects a foreign entry without touching its key; the key itself (hash, version/protocol,
 * both ports, both addresses) heads the slot's block in the shared FlowStore, next to the state
 * the caller reads right after the lookup.
 */
import type {Packet} from '../decode/packet.js'
import {CHUNK_SHIFT, FlowStore, K_A, K_B, K_HASH, K_LIVE, K_META, K_PORTS, blockOf} from './store.js'

/** Scratch for IPv6 address words of the current packet (IPv4 takes the fast path). */
const srcW = new Uint32Array(4)
const dstW = new Uint32Array(4)

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1)
  return (h ^ (h >>> 15)) | 0
}

export class FlowTable {
  /** Number of live flows. */
  size = 0
  /** Slots allocated so far (live + free). */
  private slotsUsed = 0
  private cap = 0
  private freeSlots = new Int32Array(0)
  private freeCount = 0
  /** Buckets: [slot + 1 (0 = empty), hash] pairs. */
  private index = new Int32Array(0)
  /** Bucket count − 1 (a power of two − 1). */
  private mask = 0
  /** Per-slot memory; its size follows the table's slots. */
  readonly store: FlowStore

  /** Direction (0 = Wireshark flow1, 1 = flow2) of the packet last passed to find/insert. */
  dir = 0
  // The last lookup's key, for insert().
  private hash = 0
  private meta = 0
  private ports = 0

  constructor(initialSlots = 1024, store: FlowStore = new FlowStore()) {
    this.store = store
    this.growSlots(initialSlots)
    this.rehash(initialSlots * 2)
  }

  /** Slots the store has room for: every slot handed out is below it. */
  get capacity(): number {
    return this.cap
  }

  /** Find the flow of `pkt` (ports from pkt.sport/dport, protocol pkt.proto); -1 if none. */
  find(pkt: Packet): number {
    const meta = (pkt.ipVersion << 8) | pkt.proto
    const sport = pkt.sport
    const dport = pkt.dport
    if (pkt.ipVersion === 4) {
      const src = pkt.v4Src >>> 0
      const dst = pkt.v4Dst >>> 0
      // Wireshark's direction rule (get_tcp_conversation_data): the greater source address, then
      // the higher source port, is flow1 (dir 0).
      const dir = src !== dst ? (src > dst ? 0 : 1) : sport > dport ? 0 : 1
      const a = dir === 0 ? src | 0 : dst | 0
      const b = dir === 0 ? dst | 0 : src | 0
      const ports = dir === 0 ? (sport << 16) | dport : (dport << 16) | sport
      const h = mix(mix(mix(meta, ports), a), b)
      this.dir = dir
      this.hash = h
      this.meta = meta
      this.ports = ports
      const index = this.index
      const chunks = this.store.i32
      const mask = this.mask
      let i = h & mask
      for (;;) {
        const e = index[2 * i]
        if (e === 0) return -1
        if (index[2 * i + 1] === h) {
          const keys = chunks[(e - 1) >>> CHUNK_SHIFT]
          const o = blockOf(e - 1)
          if (
            keys[o + K_PORTS] === ports &&
            keys[o + K_A + 3] === a &&
            keys[o + K_B + 3] === b &&
            // An IPv4 key's other address words are zero by construction.
            keys[o + K_META] === meta
          )
            return e - 1
        }
        i = (i + 1) & mask
      }
    }
    return this.find6(pkt, meta, sport, dport)
  }

  /** IPv6 (and any non-4 version): the same over four address words. */
  private find6(pkt: Packet, meta: number, sport: number, dport: number): number {
    srcW.set(pkt.v6Src)
    dstW.set(pkt.v6Dst)
    let dir = sport > dport ? 0 : 1
    for (let i = 0; i < 4; i++) {
      if (srcW[i] !== dstW[i]) {
        dir = srcW[i] > dstW[i] ? 0 : 1
        break
      }
    }
    const a = dir === 0 ? srcW : dstW
    const b = dir === 0 ? dstW : srcW
    const ports = dir === 0 ? (sport << 16) | dport : (dport << 16) | sport
    let h = mix(meta, ports)
    for (let i = 0; i < 4; i++) h = mix(h, a[i])
    for (let i = 0; i < 4; i++) h = mix(h, b[i])
    this.dir = dir
    this.hash = h
    this.meta = meta
    this.ports = ports
    let i = h & this.mask
    for (;;) {
      const e = this.index[2 * i]
      if (e === 0) return -1
      if (this.index[2 * i + 1] === h) {
        const k = this.store.i32[(e - 1) >>> CHUNK_SHIFT]
        const o = blockOf(e - 1)
        if (
          k[o + K_PORTS] === ports &&
          k[o + K_META] === meta &&
          k[o + K_A] === (a[0] | 0) &&
          k[o + K_A + 1] === (a[1] | 0) &&
          k[o + K_A + 2] === (a[2] | 0) &&
          k[o + K_A + 3] === (a[3] | 0) &&
          k[o + K_B] === (b[0] | 0) &&
          k[o + K_B + 1] === (b[1] | 0) &&
          k[o + K_B + 2] === (b[2] | 0) &&
          k[o + K_B + 3] === (b[3] | 0)
        )
          return e - 1
      }
      i = (i + 1) & this.mask
    }
  }

  /**
   * Add a flow for `pkt`; call right after a find() for the same packet returned -1 (it reuses
   * that lookup's key, hash and direction). Returns the slot. May grow the per-slot arrays:
   * callers check `capacity` afterwards.
   */
  insert(pkt: Packet): number {
    let s: number
    if (this.freeCount > 0) {
      s = this.freeSlots[--this.freeCount]
    } else {
      if (this.slotsUsed >= this.cap) this.growSlots(this.slotsUsed + 1)
      s = this.slotsUsed++
    }
    if ((this.size + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2)
    const k = this.store.i32[s >>> CHUNK_SHIFT]
    const o = blockOf(s)
    k[o + K_HASH] = this.hash
    k[o + K_META] = this.meta
    k[o + K_PORTS] = this.ports
    if (pkt.ipVersion === 4) {
      const src = pkt.v4Src | 0
      const dst = pkt.v4Dst | 0
      const a = this.dir === 0 ? src : dst
      const b = this.dir === 0 ? dst : src
      for (let i = 0; i < 3; i++) k[o + K_A + i] = k[o + K_B + i] = 0
      k[o + K_A + 3] = a
      k[o + K_B + 3] = b
    } else {
      // srcW/dstW still hold this packet's words from find6().
      const a = this.dir === 0 ? srcW : dstW
      const b = this.dir === 0 ? dstW : srcW
      for (let i = 0; i < 4; i++) {
        k[o + K_A + i] = a[i] | 0
        k[o + K_B + i] = b[i] | 0
      }
    }
    k[o + K_LIVE] = 1
    this.place(s, this.hash)
    this.size++
    return s
  }

  /** Remove a flow; its slot is recycled by a later insert. */
  remove(s: number): void {
    if (!this.isLive(s)) return
    const m = this.mask
    const idx = this.index
    let i = this.key(s, K_HASH) & m
    while (idx[2 * i] !== s + 1) i = (i + 1) & m
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i
    for (;;) {
      j = (j + 1) & m
      const e = idx[2 * j]
      if (e === 0) break
      const h = idx[2 * j + 1]
      const home = h & m
      // Move e into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        idx[2 * i] = e
        idx[2 * i + 1] = h
        i = j
      }
    }
    idx[2 * i] = 0
    idx[2 * i + 1] = 0
    this.store.i32[s >>> CHUNK_SHIFT][blockOf(s) + K_LIVE] = 0
    this.freeSlots[this.freeCount++] = s
    this.size--
  }

  /** IP version (4/6) and protocol of a slot's key. */
  ipVersion(s: number): number {
    return this.key(s, K_META) >>> 8
  }
  protocol(s: number): number {
    return this.key(s, K_META) & 0xff
  }
  /** Port of the flow1 (dir 0) or flow2 (dir 1) endpoint. */
  port(s: number, dir: number): number {
    const p = this.key(s, K_PORTS)
    return dir === 0 ? p >>> 16 : p & 0xffff
  }
  /** Address words of an endpoint (a fresh copy; for building strings once per flow). */
  addrWords(s: number, dir: number): Uint32Array {
    const o = blockOf(s) + (dir === 0 ? K_A : K_B)
    return new Uint32Array(this.store.i32[s >>> CHUNK_SHIFT].subarray(o, o + 4))
  }
  /** IPv4 address of an endpoint as an unsigned number. */
  addrV4(s: number, dir: number): number {
    return this.key(s, (dir === 0 ? K_A : K_B) + 3) >>> 0
  }

  isLive(s: number): boolean {
    return this.key(s, K_LIVE) === 1
  }

  /** Word `w` of a slot's key. */
  private key(s: number, w: number): number {
    return this.store.i32[s >>> CHUNK_SHIFT][blockOf(s) + w]
  }

  /** Highest slot index ever handed out + 1 (iterate [0, slotLimit) and test `live`). */
  get slotLimit(): number {
    return this.slotsUsed
  }

  private place(s: number, h: number): void {
    const m = this.mask
    let i = h & m
    while (this.index[2 * i] !== 0) i = (i + 1) & m
    this.index[2 * i] = s + 1
    this.index[2 * i + 1] = h
  }

  private rehash(n: number): void {
    let size = 16
    while (size < n) size *= 2
    this.index = new Int32Array(size * 2)
    this.mask = size - 1
    for (let s = 0; s < this.slotsUsed; s++) if (this.isLive(s)) this.place(s, this.key(s, K_HASH))
  }

  private growSlots(n: number): void {
    this.store.grow(n)
    this.cap = this.store.capacity
    if (this.freeSlots.length < this.cap) {
      const f = new Int32Array(Math.max(this.cap, this.freeSlots.length * 2))
      f.set(this.freeSlots)
      this.freeSlots = f
    }
  }
}
