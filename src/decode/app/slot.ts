/**
 * A fixed-size byte slot: the only way app-layer state keeps bytes from a packet. It copies at most
 * `capacity` bytes once, so no packet buffer is ever retained and memory per flow is bounded;
 * strings are built only when a finding asks (`text()`), never per packet.
 *
 * A standalone slot owns its bytes; a connection's slots are windows into its pool's records (records.ts),
 * onto whichever record the pool has in view.
 */
import {copyBytes} from './copy.js'
import {AppRecords} from './records.js'

const UTF8 = new TextDecoder('utf-8', {fatal: false})

export class ByteSlot {
  private readonly r: AppRecords
  /** Byte offset of the slot's bytes, and word offset of its two lengths, within the record in view. */
  private readonly off: number
  private readonly li: number

  /** A standalone slot, or (with `r`) a slot of the records of a pool: lengths at word `li`, bytes at `off`. */
  constructor(
    readonly capacity: number,
    r?: AppRecords,
    li = 0,
    off = 0,
  ) {
    if (r) {
      this.r = r
      this.off = off
      this.li = li
    } else {
      // The same class as a pool's records, so every slot's accesses see one object shape.
      const own = new AppRecords()
      own.nums = new Float64Array(2)
      own.bytes = new Uint8Array(capacity)
      own.view = new DataView(own.bytes.buffer)
      this.r = own
      this.off = 0
      this.li = 0
    }
  }

  /** Bytes kept (≤ capacity). */
  get length(): number {
    return this.r.nums[this.r.o + this.li]
  }
  set length(n: number) {
    this.r.nums[this.r.o + this.li] = n
  }
  /** Bytes the source had: more than `length` means the copy was cut short. */
  get sourceLength(): number {
    return this.r.nums[this.r.o + this.li + 1]
  }
  set sourceLength(n: number) {
    this.r.nums[this.r.o + this.li + 1] = n
  }

  clear(): void {
    this.length = 0
    this.sourceLength = 0
  }

  /** Copy `len` bytes from `data[off..]`, keeping the first `capacity`; `total` is the full source size. */
  set(data: Uint8Array, off: number, len: number, total = len): void {
    const n = len < this.capacity ? (len > 0 ? len : 0) : this.capacity
    copyBytes(this.r.view, this.r.b + this.off, data, off, n)
    this.length = n
    this.sourceLength = total > n ? total : n
  }

  /** Keep the decimal digits of a non-negative integer (no string is built). */
  setDigits(n: number): void {
    let v = Math.floor(Math.abs(n))
    let len = 1
    for (let t = v; t >= 10; t = Math.floor(t / 10)) len++
    if (len > this.capacity) len = this.capacity
    const b = this.r.bytes
    const at = this.r.b + this.off
    for (let i = len - 1; i >= 0; i--) {
      b[at + i] = 0x30 + (v % 10)
      v = Math.floor(v / 10)
    }
    this.length = len
    this.sourceLength = len
  }

  copyFrom(other: ByteSlot): void {
    const n = other.length < this.capacity ? other.length : this.capacity
    copyBytes(this.r.view, this.r.b + this.off, other.r.bytes, other.r.b + other.off, n)
    this.length = n
    this.sourceLength = other.sourceLength
  }

  /** True when the slot holds exactly the bytes `data[off..off+len)` (a short name comparison). */
  equals(data: Uint8Array, off: number, len: number): boolean {
    if (len !== this.sourceLength || len !== this.length) return false
    const b = this.r.bytes
    const at = this.r.b + this.off
    for (let i = 0; i < len; i++) if (b[at + i] !== data[off + i]) return false
    return true
  }

  /**
   * The text as sent (not escaped: each renderer escapes for its own output), shortened to `max` characters
   * with "…" (also when the slot cut the source). `collapse` turns whitespace runs into one space, for query text spread over lines.
   */
  text(max = 200, collapse = false): string {
    let raw = UTF8.decode(this.r.bytes.subarray(this.r.b + this.off, this.r.b + this.off + this.length)).replace(/\uFFFD/g, '?')
    // A query's line breaks read as spaces rather than \x0a.
    if (collapse) raw = raw.replace(/[ \t\r\n]+/g, ' ').trim()
    const s = raw
    const cut = this.sourceLength > this.length
    if (s.length > max) return `${s.slice(0, max - 1)}…`
    return cut ? `${s}…` : s
  }
}
