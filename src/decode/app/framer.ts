/**
 * Incremental length-prefixed message framing over one direction of a TCP byte stream. Bytes
 * arrive in whatever pieces TCP delivered; the framer keeps only the header and the first
 * `capacity` bytes of the current message body (enough to name the message), counts past the
 * rest without storing it, and hands each finished message to the subclass. A hostile length
 * therefore costs a counter, never an allocation.
 */
import type {AppState} from './state.js'

export abstract class Framer {
  protected readonly head = new Uint8Array(8)
  protected headHave = 0
  protected headNeed = 0
  protected readonly body: Uint8Array
  /** Body length of the current message, -1 while its header is incomplete. */
  protected bodyLen = -1
  protected bodySeen = 0
  protected bodyKept = 0
  protected msgFrame = 0
  protected msgTime = 0
  /** Quiet time before the current message started (-1: nothing seen before it). */
  protected msgIdle = -1
  /** False after a gap or nonsense header: input is dropped until `resync` finds a boundary. */
  synced = true
  /** Encryption or compression began: nothing more to decode in this direction. */
  stopped = false

  constructor(
    protected readonly st: AppState,
    capacity: number,
  ) {
    this.body = new Uint8Array(capacity)
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

  push(d: Uint8Array, off: number, len: number, frame: number, time: number): void {
    let i = off
    const end = off + len
    const cap = this.body.length
    while (i < end) {
      if (this.stopped || !this.synced) return
      if (this.bodyLen < 0) {
        if (this.headHave === 0) {
          this.headNeed = this.headerSize(d[i])
          this.msgFrame = frame
          this.msgTime = time
          this.msgIdle = this.st.lastActivity < 0 ? -1 : time - this.st.lastActivity
        }
        while (this.headHave < this.headNeed && i < end) this.head[this.headHave++] = d[i++]
        if (this.headHave < this.headNeed) return
        const bl = this.bodyLength()
        if (bl < 0) {
          this.st.malformed++
          this.desync()
          return
        }
        this.bodyLen = bl
        this.bodySeen = 0
        this.bodyKept = 0
        this.onHeader()
      }
      const want = this.bodyLen - this.bodySeen
      const n = want < end - i ? want : end - i
      const room = cap - this.bodyKept
      const keep = n < room ? n : room
      for (let k = 0; k < keep; k++) this.body[this.bodyKept + k] = d[i + k]
      this.bodyKept += keep
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

  private partialNoted = false

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
