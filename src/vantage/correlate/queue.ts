/**
 * The sightings of one capture read from its current chunk, as numbers, waiting to be merged with
 * the other captures'. Refilled (from index 0) only when drained, so it holds one chunk's worth.
 */
/** Bytes per sighting in a packed batch; field blocks are laid out widest first so views stay aligned. */
const BYTES_PER_SIGHTING = 40

export class SightingQueue {
  n = 0
  r = 0
  t: Float64Array<ArrayBuffer> = new Float64Array(4096)
  frame: Float64Array<ArrayBuffer> = new Float64Array(4096)
  a: Uint32Array<ArrayBuffer> = new Uint32Array(4096)
  b: Uint32Array<ArrayBuffer> = new Uint32Array(4096)
  flow: Int32Array<ArrayBuffer> = new Int32Array(4096)
  point: Int8Array<ArrayBuffer> = new Int8Array(4096)
  seq: Uint32Array<ArrayBuffer> = new Uint32Array(4096)
  len: Uint32Array<ArrayBuffer> = new Uint32Array(4096)
  flags: Uint8Array<ArrayBuffer> = new Uint8Array(4096)
  rsTarget: Int16Array<ArrayBuffer> = new Int16Array(4096)

  push(t: number, frame: number, a: number, b: number, flow: number, point: number, seq: number, len: number, flags: number, rsTarget: number): void {
    if (this.n === this.t.length) this.grow()
    const i = this.n++
    this.t[i] = t
    this.frame[i] = frame
    this.a[i] = a
    this.b[i] = b
    this.flow[i] = flow
    this.point[i] = point
    this.seq[i] = seq
    this.len[i] = len
    this.flags[i] = flags
    this.rsTarget[i] = rsTarget
  }

  /** Views over a packed batch (see `pack`): the queue then reads that batch. */
  adopt(buf: ArrayBuffer, n: number): void {
    const c = buf.byteLength / BYTES_PER_SIGHTING
    this.t = new Float64Array(buf, 0, c)
    this.frame = new Float64Array(buf, 8 * c, c)
    this.a = new Uint32Array(buf, 16 * c, c)
    this.b = new Uint32Array(buf, 20 * c, c)
    this.flow = new Int32Array(buf, 24 * c, c)
    this.seq = new Uint32Array(buf, 28 * c, c)
    this.len = new Uint32Array(buf, 32 * c, c)
    this.rsTarget = new Int16Array(buf, 36 * c, c)
    this.point = new Int8Array(buf, 38 * c, c)
    this.flags = new Uint8Array(buf, 39 * c, c)
    this.n = n
    this.r = 0
  }

  /** Copy the queued sightings into one transferable buffer (read back with `adopt`). */
  pack(): ArrayBuffer {
    const c = Math.max(1, this.n)
    const buf = new ArrayBuffer(c * BYTES_PER_SIGHTING)
    const n = this.n
    new Float64Array(buf, 0, c).set(this.t.subarray(0, n))
    new Float64Array(buf, 8 * c, c).set(this.frame.subarray(0, n))
    new Uint32Array(buf, 16 * c, c).set(this.a.subarray(0, n))
    new Uint32Array(buf, 20 * c, c).set(this.b.subarray(0, n))
    new Int32Array(buf, 24 * c, c).set(this.flow.subarray(0, n))
    new Uint32Array(buf, 28 * c, c).set(this.seq.subarray(0, n))
    new Uint32Array(buf, 32 * c, c).set(this.len.subarray(0, n))
    new Int16Array(buf, 36 * c, c).set(this.rsTarget.subarray(0, n))
    new Int8Array(buf, 38 * c, c).set(this.point.subarray(0, n))
    new Uint8Array(buf, 39 * c, c).set(this.flags.subarray(0, n))
    return buf
  }

  clear(): void {
    this.n = 0
    this.r = 0
  }

  private grow(): void {
    const n = this.t.length * 2
    const f64 = (x: Float64Array): Float64Array<ArrayBuffer> => {
      const y = new Float64Array(n)
      y.set(x)
      return y
    }
    const u32 = (x: Uint32Array): Uint32Array<ArrayBuffer> => {
      const y = new Uint32Array(n)
      y.set(x)
      return y
    }
    this.t = f64(this.t)
    this.frame = f64(this.frame)
    this.a = u32(this.a)
    this.b = u32(this.b)
    this.seq = u32(this.seq)
    this.len = u32(this.len)
    const flow = new Int32Array(n)
    flow.set(this.flow)
    this.flow = flow
    const point = new Int8Array(n)
    point.set(this.point)
    this.point = point
    const flags = new Uint8Array(n)
    flags.set(this.flags)
    this.flags = flags
    const rs = new Int16Array(n)
    rs.set(this.rsTarget)
    this.rsTarget = rs
  }
}
