/**
 * Which earlier frame a retransmission repeats: per flow and direction, the last few segments that carried
 * data (or SYN/FIN), with their sequence ranges. Kept by flow slot in one growable array: no allocation per
 * frame, memory follows the live flows.
 */

/** Segments remembered per direction: a retransmission repeats one of the last few unacknowledged ones. */
const K = 32
/** Per slot: flow id + 1, next write per direction, then 2 × K × (seq, length, frame). */
const HEAD = 3
const STRIDE = HEAD + 2 * K * 3

export class RetransmissionOrigins {
  private a = new Float64Array(STRIDE * 256)

  /**
   * Account one TCP segment of flow `flowId` held in `slot`. A segment that is not a retransmission is
   * remembered when it carries sequence space; for a retransmission, returns the frame that first sent its
   * sequence number (0 when it is no longer remembered).
   */
  observe(slot: number, flowId: number, isOrig: boolean, seq: number, seqLen: number, frame: number, retransmission: boolean): number {
    if (slot < 0) return 0
    const base = slot * STRIDE
    if (base + STRIDE > this.a.length) {
      const grown = new Float64Array(Math.max(base + STRIDE, this.a.length * 2))
      grown.set(this.a)
      this.a = grown
    }
    const a = this.a
    if (a[base] !== flowId + 1) {
      // The slot held another flow: forget its segments.
      a.fill(0, base, base + STRIDE)
      a[base] = flowId + 1
    }
    const dir = isOrig ? 0 : 1
    const ring = base + HEAD + dir * K * 3
    if (!retransmission) {
      if (seqLen <= 0) return 0
      const i = a[base + 1 + dir]
      a[ring + i * 3] = seq
      a[ring + i * 3 + 1] = seqLen
      a[ring + i * 3 + 2] = frame
      a[base + 1 + dir] = (i + 1) % K
      return 0
    }
    // Newest first: the same starting sequence number, else the segment whose range holds it.
    let covering = 0
    for (let j = 1; j <= K; j++) {
      const i = (a[base + 1 + dir] - j + K) % K
      const f = a[ring + i * 3 + 2]
      if (f === 0) break
      const s = a[ring + i * 3]
      if (s === seq) return f
      if (covering === 0 && ((seq - s) >>> 0) < a[ring + i * 3 + 1]) covering = f
    }
    return covering
  }
}
