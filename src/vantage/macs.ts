/**
 * Small integer ids for the MAC addresses of a capture (there are few): the hot paths compare and store ids,
 * never 48-bit doubles, which V8 would box on every call and field store.
 */
const CAP = 1 << 16
const BUCKETS = CAP * 2

export class MacRegistry {
  private readonly hi = new Int32Array(CAP)
  private readonly lo = new Int32Array(CAP)
  private readonly bucket = new Int32Array(BUCKETS).fill(-1)
  private readonly values = new Float64Array(CAP)
  private readonly names: string[] = []
  private n = 0

  /** Id of the MAC at data[off..off+6), -1 when off < 0, -2 when the registry is full. */
  id(data: Uint8Array, off: number): number {
    if (off < 0) return -1
    const h = (data[off] << 16) | (data[off + 1] << 8) | data[off + 2]
    const l = (data[off + 3] << 16) | (data[off + 4] << 8) | data[off + 5]
    let b = (Math.imul(h ^ (l << 7), 0x9e3779b1) >>> 15) & (BUCKETS - 1)
    for (;;) {
      const i = this.bucket[b]
      if (i < 0) break
      if (this.hi[i] === h && this.lo[i] === l) return i
      b = (b + 1) & (BUCKETS - 1)
    }
    if (this.n >= CAP) return -2
    const i = this.n++
    this.hi[i] = h
    this.lo[i] = l
    this.values[i] = h * 0x1000000 + l
    this.bucket[b] = i
    return i
  }

  /** The MAC as a 48-bit number (-1 for no MAC). */
  value(id: number): number {
    return id < 0 ? -1 : this.values[id]
  }

  /** "aa:bb:cc:dd:ee:ff" ('' for no MAC). */
  name(id: number): string {
    if (id < 0) return ''
    let s = this.names[id]
    if (s === undefined) {
      const hex = (x: number): string => x.toString(16).padStart(6, '0')
      s = `${hex(this.hi[id])}${hex(this.lo[id])}`.replace(/(..)(?!$)/g, '$1:')
      this.names[id] = s
    }
    return s
  }
}
