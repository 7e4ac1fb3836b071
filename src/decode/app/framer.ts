/**
 * Incremental length-prefixed message framing over one direction of a TCP byte stream. Bytes
 * arrive in whatever pieces TCP delivered; the framer keeps only the header and the first
 * `capacity` bytes of the current message body (enough to name the message; fewer when the
 * subclass says it reads fewer, see `keepFor`), counts past the rest without storing it, and
 * hands each finished message to the subclass. A hostile length therefore costs a counter,
 * never an allocation, and a segment wholly inside such a rest costs only arithmetic
 * (`skipInside`).
 */
import {copyBytes, viewOf} from './copy.js'
import type {AppState} from './state.js'

/** Largest body prefix a framer may keep (the scratch below must hold any framer's). */
export const MAX_FRAMER_CAPACITY = 512

/**
 * Where every framer assembles the current message while `push` runs. Only a message still
 * incomplete when `push` returns is copied into the framer's own buffers (allocated the first
 * time that happens), so a connection whose messages never straddle a segment allocates none.
 */
const SCRATCH_HEAD = new Uint8Array(8)
const SCRATCH_BODY = new Uint8Array(MAX_FRAMER_CAPACITY)
const SCRATCH_BODY_VIEW = viewOf(SCRATCH_BODY)

export abstract class Framer {
  /** Header of the current message: the scratch while `push` runs, else the own copy. */
  protected head: Uint8Array = SCRATCH_HEAD
  protected headHave = 0
  protected headNeed = 0
  /** Body prefix of the current message (see `head`). */
  protected body: Uint8Array = SCRATCH_BODY
  private bodyView: DataView = SCRATCH_BODY_VIEW
  /** Body length of the current message, -1 while its header is incomplete. */
  protected bodyLen = -1
  protected bodySeen = 0
  protected bodyKept = 0
  /** Body bytes worth keeping of the current message (`keepFor`), decided at its first body byte. */
  private keep = 0
  protected msgFrame = 0
  protected msgTime = 0
  /** Quiet time before the current message started (-1: nothing seen before it). */
  protected msgIdle = -1
  /** False after a gap or nonsense header: input is dropped until `resync` finds a boundary. */
  synced = true
  /** Encryption or compression began: nothing more to decode in this direction. */
  stopped = false
  private partialNoted = false
  private ownHead: Uint8Array | null = null
  private ownBody: Uint8Array | null = null
  private ownBodyView: DataView | null = null

  constructor(
    protected readonly st: AppState,
    protected readonly capacity: number,
  ) {
    if (capacity > MAX_FRAMER_CAPACITY) throw new RangeError(`framer capacity ${capacity} > ${MAX_FRAMER_CAPACITY}`)
  }

  /** As freshly constructed, for a recycled connection; the own buffers are kept for reuse. */
  reset(): void {
    this.head = SCRATCH_HEAD
    this.headHave = 0
    this.headNeed = 0
    this.body = SCRATCH_BODY
    this.bodyView = SCRATCH_BODY_VIEW
    this.bodyLen = -1
    this.bodySeen = 0
    this.bodyKept = 0
    this.keep = 0
    this.msgFrame = 0
    this.msgTime = 0
    this.msgIdle = -1
    this.synced = true
    this.stopped = false
    this.partialNoted = false
  }

  /** Header size of the message whose first byte is `first`. */
  protected abstract headerSize(first: number): number
  /** Body length from the complete header, or -1 when the header is nonsense. */
  protected abstract bodyLength(): number
  /** A complete message: header in `head`, body prefix in `body[0..bodyKept)`, `bodyLen` in all. */
  protected abstract message(): void
  /** Does a segment starting at `d[off]` look like the start of a message? */
  protected abstract plausibleStart(d: Uint8Array, off: number, len: number): boolean
  /** Called when a header is complete (before its body). */
  protected onHeader(): void {}
  /**
   * How many body bytes `message()` (and `notePartial`) can need, given the header and the first
   * body byte: less than `capacity` spares copying bytes nobody reads (result rows, COPY data).
   */
  protected keepFor(_first: number): number {
    return this.capacity
  }

  push(d: Uint8Array, off: number, len: number, frame: number, time: number): void {
    this.consume(d, off, len, frame, time)
    // A message still arriving must not stay in the scratch the next push (of any framer) reuses.
    if (this.headHave > 0 && this.head === SCRATCH_HEAD) {
      const h = (this.ownHead ??= new Uint8Array(SCRATCH_HEAD.length))
      for (let k = 0; k < this.headHave; k++) h[k] = SCRATCH_HEAD[k]
      this.head = h
    }
    if (this.bodyLen >= 0 && this.bodyKept > 0 && this.body === SCRATCH_BODY) {
      if (this.ownBody === null) {
        this.ownBody = new Uint8Array(this.capacity)
        this.ownBodyView = viewOf(this.ownBody)
      }
      const v = this.ownBodyView as DataView
      copyBytes(v, 0, SCRATCH_BODY, 0, this.bodyKept)
      this.body = this.ownBody
      this.bodyView = v
    }
  }

  /**
   * The segment `len` bytes long lies inside the current message's body, past what is kept, and
   * does not finish it: account for it and return true (the caller then need not `push` it).
   */
  skipInside(len: number): boolean {
    if (this.bodyLen - this.bodySeen <= len || this.bodySeen === 0 || this.bodyKept < this.keep || !this.synced || this.stopped) return false
    this.bodySeen += len
    return true
  }

  private consume(d: Uint8Array, off: number, len: number, frame: number, time: number): void {
    let i = off
    const end = off + len
    while (i < end) {
      if (this.stopped || !this.synced) return
      if (this.bodyLen < 0) {
        if (this.headHave === 0) {
          this.head = SCRATCH_HEAD
          this.body = SCRATCH_BODY
          this.bodyView = SCRATCH_BODY_VIEW
          this.headNeed = this.headerSize(d[i])
          this.msgFrame = frame
          this.msgTime = time
          this.msgIdle = this.st.lastActivity < 0 ? -1 : time - this.st.lastActivity
        }
        const head = this.head
        const need = this.headNeed
        let have = this.headHave
        while (have < need && i < end) head[have++] = d[i++]
        this.headHave = have
        if (have < need) return
        const bl = this.bodyLength()
        if (bl < 0) {
          this.st.malformed++
          this.desync()
          return
        }
        this.bodyLen = bl
        this.bodySeen = 0
        this.bodyKept = 0
        this.keep = 0
        this.onHeader()
      }
      const want = this.bodyLen - this.bodySeen
      const n = want < end - i ? want : end - i
      if (this.bodySeen === 0 && n > 0) this.keep = this.keepFor(d[i])
      const room = this.keep - this.bodyKept
      const keep = n < room ? n : room
      if (keep > 0) {
        const at = this.bodyKept
        copyBytes(this.bodyView, at, d, i, keep)
        this.bodyKept = at + keep
      }
      this.bodySeen += n
      i += n
      if (this.bodySeen === this.bodyLen) {
        if (this.partialNoted) {
          // snapshot() already counted this message while it was incomplete
          this.st.commands--
          this.partialNoted = false
        }
        this.message()
        this.headHave = 0
        this.bodyLen = -1
      }
    }
  }

  /** Bytes are missing: drop the partial message and wait for a boundary. */
  desync(): void {
    this.partialNoted = false
    this.synced = false
    this.headHave = 0
    this.bodyLen = -1
  }

  /** At a segment start after a gap: resume if the segment looks like a message start. */
  resync(d: Uint8Array, off: number, len: number): boolean {
    if (this.stopped || len <= 0 || !this.plausibleStart(d, off, len)) return false
    this.synced = true
    this.headHave = 0
    this.bodyLen = -1
    return true
  }

  /**
   * Interpret the message still arriving from what has come so far (a command cut off by the
   * break is still the last command). The full message, if it completes later, replaces it.
   */
  notePartial(): void {
    if (!this.inMessage || this.partialNoted || this.bodyKept === 0 || this.stopped || !this.synced) return
    const commands = this.st.commands
    this.message()
    if (this.st.commands !== commands) {
      this.st.cmdComplete = false
      this.partialNoted = true
    }
  }

  /** True while a message's header is complete and its body partly received. */
  get inMessage(): boolean {
    return this.bodyLen >= 0 && this.bodySeen < this.bodyLen
  }
}

/** Little-endian unsigned 16/24/32-bit reads (MySQL). */
export function le16(d: Uint8Array, i: number): number {
  return d[i] | (d[i + 1] << 8)
}
export function le24(d: Uint8Array, i: number): number {
  return d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)
}
export function le32(d: Uint8Array, i: number): number {
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0
}

/** Index of the first 0 byte in d[from..end), or -1. */
export function nul(d: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (d[i] === 0) return i
  return -1
}
