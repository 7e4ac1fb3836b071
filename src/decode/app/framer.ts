/**
 * Incremental length-prefixed message framing over one direction of a TCP byte stream. Bytes
 * arrive in whatever pieces TCP delivered; the framer keeps only the header and the first
 * `capacity` bytes of the current message body (enough to name the message; fewer when the
 * subclass says it reads fewer, see `keepFor`), counts past the rest without storing it, and
 * hands each finished message to the subclass. A hostile length therefore costs a counter,
 * never an allocation, and a segment wholly inside such a rest costs only arithmetic
 * (`skipInside`).
 */
import {copyBytes} from './copy.js'
import * as R from './records.js'
import type {AppState} from './state.js'

export const MAX_FRAMER_CAPACITY = R.MAX_FRAMER_CAPACITY

/**
 * Where every framer assembles the current message while `push` runs. A message still incomplete
 * when `push` returns is saved into the connection's record, and put back here by the next push.
 */
const SCRATCH_HEAD = new Uint8Array(R.HEAD_BYTES)
const SCRATCH_BODY = new Uint8Array(MAX_FRAMER_CAPACITY)
const SCRATCH_BODY_VIEW = new DataView(SCRATCH_BODY.buffer)

// A framer's words in the record (from its region's start).
const W_HEAD_HAVE = 0
const W_HEAD_NEED = 1
const W_BODY_LEN = 2
const W_BODY_SEEN = 3
const W_BODY_KEPT = 4
/** Body bytes worth keeping of the current message (`keepFor`), decided at its first body byte. */
const W_KEEP = 5
const W_MSG_FRAME = 6
const W_MSG_TIME = 7
const W_MSG_IDLE = 8
const W_SYNCED = 9
const W_STOPPED = 10
const W_PARTIAL_NOTED = 11
/** Words a subclass may use. */
export const W_EXTRA = 12

/** The client's or the server's side of a connection: where its words and its saved message live. */
export interface FramerSide {
  words: number
  message: number
}
export const CLIENT_SIDE: FramerSide = {words: R.F_CLIENT, message: R.B_CLIENT_MESSAGE}
export const SERVER_SIDE: FramerSide = {words: R.F_SERVER, message: R.B_SERVER_MESSAGE}

export abstract class Framer {
  /** Header of the current message (complete or not). */
  protected readonly head: Uint8Array = SCRATCH_HEAD
  /** Body prefix of the current message. */
  protected readonly body: Uint8Array = SCRATCH_BODY
  protected readonly r: R.AppRecords
  /** Word of this framer's region, byte of its saved message, in a record. */
  protected readonly w: number
  private readonly m: number

  constructor(
    protected readonly st: AppState,
    protected readonly capacity: number,
    side: FramerSide,
  ) {
    if (capacity > MAX_FRAMER_CAPACITY) throw new RangeError(`framer capacity ${capacity} > ${MAX_FRAMER_CAPACITY}`)
    this.r = st.r
    this.w = side.words
    this.m = side.message
  }

  protected get headHave(): number {
    return this.r.nums[this.r.o + this.w + W_HEAD_HAVE]
  }
  protected get headNeed(): number {
    return this.r.nums[this.r.o + this.w + W_HEAD_NEED]
  }
  /** Body length of the current message, -1 while its header is incomplete. */
  protected get bodyLen(): number {
    return this.r.nums[this.r.o + this.w + W_BODY_LEN]
  }
  protected get bodySeen(): number {
    return this.r.nums[this.r.o + this.w + W_BODY_SEEN]
  }
  protected get bodyKept(): number {
    return this.r.nums[this.r.o + this.w + W_BODY_KEPT]
  }
  protected get msgFrame(): number {
    return this.r.nums[this.r.o + this.w + W_MSG_FRAME]
  }
  protected get msgTime(): number {
    return this.r.nums[this.r.o + this.w + W_MSG_TIME]
  }
  /** Quiet time before the current message started (-1: nothing seen before it). */
  protected get msgIdle(): number {
    return this.r.nums[this.r.o + this.w + W_MSG_IDLE]
  }
  /** False after a gap or nonsense header: input is dropped until `resync` finds a boundary. */
  get synced(): boolean {
    return this.r.nums[this.r.o + this.w + W_SYNCED] !== 0
  }
  /** Encryption or compression began: nothing more to decode in this direction. */
  get stopped(): boolean {
    return this.r.nums[this.r.o + this.w + W_STOPPED] !== 0
  }
  set stopped(v: boolean) {
    this.r.nums[this.r.o + this.w + W_STOPPED] = v ? 1 : 0
  }
  private get partialNoted(): boolean {
    return this.r.nums[this.r.o + this.w + W_PARTIAL_NOTED] !== 0
  }
  private set partialNoted(v: boolean) {
    this.r.nums[this.r.o + this.w + W_PARTIAL_NOTED] = v ? 1 : 0
  }

  /** As a new connection has it (the subclass's words too). */
  reset(): void {
    const n = this.r.nums
    const o = this.r.o + this.w
    n.fill(0, o, o + R.FRAMER_WORDS)
    n[o + W_BODY_LEN] = -1
    n[o + W_MSG_IDLE] = -1
    n[o + W_SYNCED] = 1
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
    // A message that straddles segments continues from the copy the last push saved.
    const n = this.r.nums
    const o = this.r.o + this.w
    if (n[o + W_HEAD_HAVE] > 0) this.restore()
    this.consume(d, off, len, frame, time)
    if (n[o + W_HEAD_HAVE] > 0) this.save()
  }

  /** The current message's header and kept body, from the scratch into the record. */
  private save(): void {
    const bytes = this.r.bytes
    const at = this.r.b + this.m
    const h = this.headHave
    for (let k = 0; k < h; k++) bytes[at + k] = SCRATCH_HEAD[k]
    const kept = this.bodyLen >= 0 ? this.bodyKept : 0
    if (kept > 0) copyBytes(this.r.view, at + R.HEAD_BYTES, SCRATCH_BODY, 0, kept)
  }

  /** …and back, for the push that continues it. */
  private restore(): void {
    const bytes = this.r.bytes
    const at = this.r.b + this.m
    const h = this.headHave
    for (let k = 0; k < h; k++) SCRATCH_HEAD[k] = bytes[at + k]
    const kept = this.bodyLen >= 0 ? this.bodyKept : 0
    if (kept > 0) copyBytes(SCRATCH_BODY_VIEW, 0, bytes, at + R.HEAD_BYTES, kept)
  }

  /**
   * The segment `len` bytes long lies inside the current message's body, past what is kept, and
   * does not finish it: account for it and return true (the caller then need not `push` it).
   */
  skipInside(len: number): boolean {
    // Direct reads of the record: this and consume() are the hot paths (accessors here were not inlined).
    const n = this.r.nums
    const o = this.r.o + this.w
    const seen = n[o + W_BODY_SEEN]
    if (n[o + W_BODY_LEN] - seen <= len || seen === 0 || n[o + W_BODY_KEPT] < n[o + W_KEEP] || n[o + W_SYNCED] === 0 || n[o + W_STOPPED] !== 0) return false
    n[o + W_BODY_SEEN] = seen + len
    return true
  }

  private consume(d: Uint8Array, off: number, len: number, frame: number, time: number): void {
    const n = this.r.nums
    const o = this.r.o + this.w
    let i = off
    const end = off + len
    while (i < end) {
      if (n[o + W_STOPPED] !== 0 || n[o + W_SYNCED] === 0) return
      if (n[o + W_BODY_LEN] < 0) {
        // Small counts as integers (the record holds doubles), so the loops index with int32.
        let have = n[o + W_HEAD_HAVE] | 0
        if (have === 0) {
          n[o + W_HEAD_NEED] = this.headerSize(d[i])
          n[o + W_MSG_FRAME] = frame
          n[o + W_MSG_TIME] = time
          // Read from the record, not through an accessor: a time returned by a call V8 does not inline is boxed.
          const last = n[this.r.o + R.T_LAST_ACTIVITY]
          n[o + W_MSG_IDLE] = last < 0 ? -1 : time - last
        }
        const head = this.head
        const need = n[o + W_HEAD_NEED] | 0
        while (have < need && i < end) head[have++] = d[i++]
        n[o + W_HEAD_HAVE] = have
        if (have < need) return
        const bl = this.bodyLength()
        if (bl < 0) {
          this.st.malformed++
          this.desync()
          return
        }
        n[o + W_BODY_LEN] = bl
        n[o + W_BODY_SEEN] = 0
        n[o + W_BODY_KEPT] = 0
        n[o + W_KEEP] = 0
        this.onHeader()
      }
      const bodyLen = n[o + W_BODY_LEN]
      const seen = n[o + W_BODY_SEEN]
      const want = bodyLen - seen
      const take = want < end - i ? want | 0 : end - i
      if (seen === 0 && take > 0) n[o + W_KEEP] = this.keepFor(d[i])
      const kept = n[o + W_BODY_KEPT] | 0
      const room = (n[o + W_KEEP] | 0) - kept
      const keep = take < room ? take : room
      if (keep > 0) {
        copyBytes(SCRATCH_BODY_VIEW, kept, d, i, keep)
        n[o + W_BODY_KEPT] = kept + keep
      }
      n[o + W_BODY_SEEN] = seen + take
      i += take
      if (seen + take === bodyLen) {
        if (n[o + W_PARTIAL_NOTED] !== 0) {
          // snapshot() already counted this message while it was incomplete
          this.st.commands--
          n[o + W_PARTIAL_NOTED] = 0
        }
        this.message()
        n[o + W_HEAD_HAVE] = 0
        n[o + W_BODY_LEN] = -1
      }
    }
  }

  /** Bytes are missing: drop the partial message and wait for a boundary. */
  desync(): void {
    const n = this.r.nums
    const o = this.r.o + this.w
    n[o + W_PARTIAL_NOTED] = 0
    n[o + W_SYNCED] = 0
    n[o + W_HEAD_HAVE] = 0
    n[o + W_BODY_LEN] = -1
  }

  /** At a segment start after a gap: resume if the segment looks like a message start. */
  resync(d: Uint8Array, off: number, len: number): boolean {
    if (this.stopped || len <= 0 || !this.plausibleStart(d, off, len)) return false
    const n = this.r.nums
    const o = this.r.o + this.w
    n[o + W_SYNCED] = 1
    n[o + W_HEAD_HAVE] = 0
    n[o + W_BODY_LEN] = -1
    return true
  }

  /**
   * Interpret the message still arriving from what has come so far (a command cut off by the
   * break is still the last command). The full message, if it completes later, replaces it.
   */
  notePartial(): void {
    if (!this.inMessage || this.partialNoted || this.bodyKept === 0 || this.stopped || !this.synced) return
    this.restore()
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
