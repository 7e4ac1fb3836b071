/**
 * Flow table: one entry per conversation, keyed like Wireshark's conversation table — IP version,
 * transport protocol and the address/port 4-tuple, both directions on one entry (MAC, VLAN and
 * interface are not part of the key). Open addressing with linear probing over the packet's own
 * numbers: no string or object is built to look a packet up. Per-flow numbers live in
 * struct-of-arrays indexed by a slot; evicted slots are recycled, so memory follows the number of
 * flows alive at once, not the size of the capture.
 */
import type {Packet} from '../decode/packet.js'

/** Scratch for the current packet's address words (IPv4 as [0, 0, 0, addr]). */
const srcW = new Uint32Array(4)
const dstW = new Uint32Array(4)

function loadAddrs(pkt: Packet): void {
  if (pkt.ipVersion === 4) {
    srcW[0] = srcW[1] = srcW[2] = 0
    dstW[0] = dstW[1] = dstW[2] = 0
    srcW[3] = pkt.v4Src
    dstW[3] = pkt.v4Dst
  } else {
    srcW.set(pkt.v6Src)
    dstW.set(pkt.v6Dst)
  }
}

/**
 * Wireshark's direction rule (get_tcp_conversation_data): compare source and destination address
 * (bytes, i.e. big-endian words unsigned); if equal, the higher source port wins; 0 = flow1.
 */
function directionOfScratch(sport: number, dport: number): number {
  for (let i = 0; i < 4; i++) {
    if (srcW[i] !== dstW[i]) return srcW[i] > dstW[i] ? 0 : 1
  }
  return sport > dport ? 0 : 1
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1)
  return (h ^ (h >>> 15)) | 0
}

export class FlowTable {
  /** Number of live flows. */
  size = 0
  /** Slots allocated so far (live + free); arrays are at least this long. */
  private slotsUsed = 0
  private cap = 0
  private freeSlots = new Int32Array(0)
  private freeCount = 0
  private index = new Int32Array(0)
  private mask = 0

  // ---- key, per slot: flow1 endpoint (addr words 0-3, port) then flow2 endpoint (words 4-7, port) ----
  private keyWords = new Uint32Array(0)
  private keyPort1 = new Uint16Array(0)
  private keyPort2 = new Uint16Array(0)
  private keyVer = new Uint8Array(0)
  private keyProto = new Uint8Array(0)
  private keyHash = new Int32Array(0)
  private live = new Uint8Array(0)

  /** Direction (0 = Wireshark flow1, 1 = flow2) of the packet last passed to find/insert. */
  dir = 0
  private hash = 0

  constructor(initialSlots = 1024) {
    this.growSlots(initialSlots)
    this.rehash(initialSlots * 2)
  }

  /** Capacity of the per-slot arrays; callers size their own arrays to it. */
  get capacity(): number {
    return this.cap
  }

  /** Find the flow of `pkt` (ports from pkt.sport/dport, protocol pkt.proto); -1 if none. */
  find(pkt: Packet): number {
    loadAddrs(pkt)
    const dir = directionOfScratch(pkt.sport, pkt.dport)
    this.dir = dir
    const a = dir === 0 ? srcW : dstW
    const b = dir === 0 ? dstW : srcW
    const p1 = dir === 0 ? pkt.sport : pkt.dport
    const p2 = dir === 0 ? pkt.dport : pkt.sport
    let h = mix(pkt.ipVersion * 256 + pkt.proto, (p1 << 16) | p2)
    for (let i = 0; i < 4; i++) h = mix(h, a[i])
    for (let i = 0; i < 4; i++) h = mix(h, b[i])
    this.hash = h
    let i = h & this.mask
    for (;;) {
      const e = this.index[i]
      if (e === 0) return -1
      const s = e - 1
      if (
        this.keyHash[s] === h &&
        this.keyPort1[s] === p1 &&
        this.keyPort2[s] === p2 &&
        this.keyProto[s] === pkt.proto &&
        this.keyVer[s] === pkt.ipVersion &&
        this.sameAddrs(s, a, b)
      )
        return s
      i = (i + 1) & this.mask
    }
  }

  private sameAddrs(s: number, a: Uint32Array, b: Uint32Array): boolean {
    const o = s * 8
    const w = this.keyWords
    return (
      w[o + 3] === a[3] &&
      w[o + 7] === b[3] &&
      w[o] === a[0] &&
      w[o + 1] === a[1] &&
      w[o + 2] === a[2] &&
      w[o + 4] === b[0] &&
      w[o + 5] === b[1] &&
      w[o + 6] === b[2]
    )
  }

  /**
   * Add a flow for `pkt`; call right after a find() for the same packet returned -1 (it reuses
   * that lookup's hash and direction). Returns the slot. May grow the per-slot arrays: callers
   * check `capacity` afterwards.
   */
  insert(pkt: Packet): number {
    let s: number
    if (this.freeCount > 0) {
      s = this.freeSlots[--this.freeCount]
    } else {
      if (this.slotsUsed >= this.cap) this.growSlots(this.cap * 2)
      s = this.slotsUsed++
    }
    if ((this.size + 1) * 2 > this.index.length) this.rehash(this.index.length * 2)
    const dir = this.dir
    const a = dir === 0 ? srcW : dstW
    const b = dir === 0 ? dstW : srcW
    const o = s * 8
    for (let i = 0; i < 4; i++) {
      this.keyWords[o + i] = a[i]
      this.keyWords[o + 4 + i] = b[i]
    }
    this.keyPort1[s] = dir === 0 ? pkt.sport : pkt.dport
    this.keyPort2[s] = dir === 0 ? pkt.dport : pkt.sport
    this.keyVer[s] = pkt.ipVersion
    this.keyProto[s] = pkt.proto
    this.keyHash[s] = this.hash
    this.live[s] = 1
    this.place(s)
    this.size++
    return s
  }

  /** Remove a flow; its slot is recycled by a later insert. */
  remove(s: number): void {
    if (!this.live[s]) return
    const m = this.mask
    let i = this.keyHash[s] & m
    while (this.index[i] !== s + 1) i = (i + 1) & m
    // Backward-shift deletion keeps probe chains intact without tombstones.
    let j = i
    for (;;) {
      j = (j + 1) & m
      const e = this.index[j]
      if (e === 0) break
      const home = this.keyHash[e - 1] & m
      // Move e into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.index[i] = e
        i = j
      }
    }
    this.index[i] = 0
    this.live[s] = 0
    this.freeSlots[this.freeCount++] = s
    this.size--
  }

  /** IP version (4/6) and protocol of a slot's key. */
  ipVersion(s: number): number {
    return this.keyVer[s]
  }
  protocol(s: number): number {
    return this.keyProto[s]
  }
  /** Port of the flow1 (dir 0) or flow2 (dir 1) endpoint. */
  port(s: number, dir: number): number {
    return dir === 0 ? this.keyPort1[s] : this.keyPort2[s]
  }
  /** Address words of an endpoint (a fresh copy; for building strings once per flow). */
  addrWords(s: number, dir: number): Uint32Array {
    const o = s * 8 + dir * 4
    return this.keyWords.slice(o, o + 4)
  }

  isLive(s: number): boolean {
    return this.live[s] === 1
  }

  /** Highest slot index ever handed out + 1 (iterate [0, slotLimit) and test `live`). */
  get slotLimit(): number {
    return this.slotsUsed
  }

  private place(s: number): void {
    let i = this.keyHash[s] & this.mask
    while (this.index[i] !== 0) i = (i + 1) & this.mask
    this.index[i] = s + 1
  }

  private rehash(n: number): void {
    let size = 16
    while (size < n) size *= 2
    this.index = new Int32Array(size)
    this.mask = size - 1
    for (let s = 0; s < this.slotsUsed; s++) if (this.live[s]) this.place(s)
  }

  private growSlots(n: number): void {
    const kw = new Uint32Array(n * 8)
    kw.set(this.keyWords)
    this.keyWords = kw
    this.keyPort1 = extend(this.keyPort1, new Uint16Array(n))
    this.keyPort2 = extend(this.keyPort2, new Uint16Array(n))
    this.keyVer = extend(this.keyVer, new Uint8Array(n))
    this.keyProto = extend(this.keyProto, new Uint8Array(n))
    this.keyHash = extend(this.keyHash, new Int32Array(n))
    this.live = extend(this.live, new Uint8Array(n))
    this.freeSlots = extend(this.freeSlots, new Int32Array(n))
    this.cap = n
  }
}

function extend<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array>(old: T, bigger: T): T {
  bigger.set(old)
  return bigger
}
