/**
 * A fixed-size byte slot: the only way app-layer state keeps bytes from a packet. It copies at most
 * `capacity` bytes once, so no packet buffer is ever retained and memory per flow is constant;
 * strings are built only when a finding asks (`text()`), never per packet.
 */
import {escapeTerminal} from '../../util/escape.js'

const UTF8 = new TextDecoder('utf-8', {fatal: false})

export class ByteSlot {
  private readonly buf: Uint8Array
  /** Bytes kept (≤ capacity). */
  length = 0
  /** Bytes the source had: more than `length` means the copy was cut short. */
  sourceLength = 0

  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity)
  }

  clear(): void {
    this.length = 0
    this.sourceLength = 0
  }

  /** Copy `len` bytes from `data[off..]`, keeping the first `capacity`; `total` is the full source size. */
  set(data: Uint8Array, off: number, len: number, total = len): void {
    const n = len < this.capacity ? len : this.capacity
    for (let i = 0; i < n; i++) this.buf[i] = data[off + i]
    this.length = n
    this.sourceLength = total > n ? total : n
  }

  /** Keep the decimal digits of a non-negative integer (no string is built). */
  setDigits(n: number): void {
    let v = Math.floor(Math.abs(n))
    let len = 1
    for (let t = v; t >= 10; t = Math.floor(t / 10)) len++
    if (len > this.capacity) len = this.capacity
    for (let i = len - 1; i >= 0; i--) {
      this.buf[i] = 0x30 + (v % 10)
      v = Math.floor(v / 10)
    }
    this.length = len
    this.sourceLength = len
  }

  copyFrom(other: ByteSlot): void {
    const n = other.length < this.capacity ? other.length : this.capacity
    for (let i = 0; i < n; i++) this.buf[i] = other.buf[i]
    this.length = n
    this.sourceLength = other.sourceLength
  }

  /** True when the slot holds exactly the bytes `data[off..off+len)` (a short name comparison). */
  equals(data: Uint8Array, off: number, len: number): boolean {
    if (len !== this.sourceLength || len !== this.length) return false
    for (let i = 0; i < len; i++) if (this.buf[i] !== data[off + i]) return false
    return true
  }

  /**
   * Terminal-safe text, shortened to `max` characters with "…" (also when the slot cut the
   * source). `collapse` turns whitespace runs into one space, for query text spread over lines.
   */
  text(max = 200, collapse = false): string {
    let raw = UTF8.decode(this.buf.subarray(0, this.length)).replace(/\uFFFD/g, '?')
    // Collapse before escaping, so a query's line breaks read as spaces rather than \x0a.
    if (collapse) raw = raw.replace(/[ \t\r\n]+/g, ' ').trim()
    const s = escapeTerminal(raw)
    const cut = this.sourceLength > this.length
    if (s.length > max) return `${s.slice(0, max - 1)}…`
    return cut ? `${s}…` : s
  }
}
