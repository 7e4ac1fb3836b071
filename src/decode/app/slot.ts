/**
 * A fixed-size byte slot: the only way app-layer state keeps bytes from a packet. It copies at most
 * `capacity` bytes once, so no packet buffer is ever retained and memory per flow is bounded;
 * strings are built only when a finding asks (`text()`), never per packet.
 *
 * The buffer is allocated on the first non-empty write and grows in powers of two up to
 * `capacity`, then is kept across `clear()`: a flow that never fills a slot pays for none, a
 * recycled one pays nothing again, and a short value (a user name) does not cost the full capacity.
 */
import {escapeTerminal} from '../../util/escape.js'
import {copyBytes, copyView, viewOf} from './copy.js'

const UTF8 = new TextDecoder('utf-8', {fatal: false})
const EMPTY = new Uint8Array(0)
const EMPTY_VIEW = viewOf(EMPTY)
/** Smallest buffer allocated: V8 keeps typed arrays up to 64 bytes on its heap, cheap to make. */
const MIN_BYTES = 16
const ON_HEAP_BYTES = 64

export class ByteSlot {
  private buf: Uint8Array = EMPTY
  private view: DataView = EMPTY_VIEW
  /** Bytes kept (≤ capacity). */
  length = 0
  /** Bytes the source had: more than `length` means the copy was cut short. */
  sourceLength = 0

  constructor(readonly capacity: number) {}

  clear(): void {
    this.length = 0
    this.sourceLength = 0
  }

  /** Make room for `n` (≤ capacity) bytes; the old content need not survive. */
  private room(n: number): Uint8Array {
    if (n <= this.buf.length) return this.buf
    let size = MIN_BYTES
    while (size < n) size *= 2
    this.buf = new Uint8Array(size < this.capacity ? size : this.capacity)
    // A view would move a small on-heap buffer off the heap; small copies are short loops anyway.
    this.view = this.buf.length > ON_HEAP_BYTES ? viewOf(this.buf) : EMPTY_VIEW
    return this.buf
  }

  /** Copy `len` bytes from `data[off..]`, keeping the first `capacity`; `total` is the full source size. */
  set(data: Uint8Array, off: number, len: number, total = len): void {
    const n = len < this.capacity ? (len > 0 ? len : 0) : this.capacity
    const b = this.room(n)
    if (this.view !== EMPTY_VIEW) copyBytes(this.view, 0, data, off, n)
    else for (let i = 0; i < n; i++) b[i] = data[off + i]
    this.length = n
    this.sourceLength = total > n ? total : n
  }

  /** Keep the decimal digits of a non-negative integer (no string is built). */
  setDigits(n: number): void {
    let v = Math.floor(Math.abs(n))
    let len = 1
    for (let t = v; t >= 10; t = Math.floor(t / 10)) len++
    if (len > this.capacity) len = this.capacity
    const b = this.room(len)
    for (let i = len - 1; i >= 0; i--) {
      b[i] = 0x30 + (v % 10)
      v = Math.floor(v / 10)
    }
    this.length = len
    this.sourceLength = len
  }

  copyFrom(other: ByteSlot): void {
    const n = other.length < this.capacity ? other.length : this.capacity
    const b = this.room(n)
    if (this.view !== EMPTY_VIEW && other.view !== EMPTY_VIEW) copyView(this.view, 0, other.view, 0, n)
    else for (let i = 0; i < n; i++) b[i] = other.buf[i]
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
