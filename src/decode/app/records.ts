/**
 * Where the protocol trackers keep each connection's state: one fixed record per connection in two flat
 * arrays, numbers (Float64) and bytes. The tracker objects (stream, state, sessions, framers) are one set per
 * pool, bound to a connection's record before each segment, so a segment touches a few neighbouring cache
 * lines found by arithmetic instead of a chain of small objects. That chain (stream → state → slot → buffer →
 * view …, each a cache miss with tens of thousands of live connections) cost about 2 µs a query on the bench
 * captures.
 *
 * Layout, in Float64 words from the record's start, by 64-byte line: what every segment reads first (lines
 * 0-3: sequence tracking, the last command, the session), then each side's framer (lines 4-5 and 6-7), then
 * what is rarely touched.
 */

import {PreparedRing} from './prepared.js'

// ---- line 0: stream (per direction d at S_SEQ + 3 * d: known, next, atStart), which framers, protocol ----
export const S_SEQ = 0
/** Which framers the connection uses (FRAMERS_*). */
export const S_FRAMERS = 6
export const T_PROTO = 7
// ---- lines 1-2: the request phase and the last command ----
export const T_PHASE = 8
/** Time of the last payload segment either way (written by the stream, read by the framers); -1 before any. */
export const T_LAST_ACTIVITY = 9
export const T_CMD_KIND = 10
export const T_CMD_FRAME = 11
export const T_CMD_TIME = 12
export const T_CMD_IDLE = 13
export const T_COMMANDS = 14
export const T_CMD_COMPLETE = 15
export const T_CMD_FROM_PREPARE = 16
// words 17-20: the command text's and statement's lengths (B_CMD_TEXT, B_CMD_STATEMENT)
/** Session words: MySQL's or PostgreSQL's (a connection speaks one; each resets them when chosen). */
export const SESSION = 21
export const SESSION_WORDS = 8
// ---- lines 4-7: the framers ----
export const F_CLIENT = 32
export const F_SERVER = 48
export const FRAMER_WORDS = 14
// ---- rarely touched ----
export const S_SERVER_PORT = 62
export const S_LOOKED = 63
export const S_DUPLICATES = 64
export const S_GAPS = 65
export const S_RESYNCS = 66
export const T_OPAQUE = 67
export const T_SESSION_ID = 68
export const T_ERR_SET = 69
export const T_ERR_NUMBER = 70
export const T_ERR_FRAME = 71
export const T_ERR_TIME = 72
export const T_ERRORS = 73
export const T_MALFORMED = 74
// words 75-88: the other slots' lengths
export const WORDS = 89

/** Byte slots: [word of its length (then of its source length), offset in the byte record, capacity]. */
export type SlotSpec = readonly [number, number, number]
export const B_CMD_TEXT: SlotSpec = [17, 0, 256]
export const B_CMD_STATEMENT: SlotSpec = [19, 256, 64]
export const B_ERR_MESSAGE: SlotSpec = [75, 320, 256]
export const B_ERR_STATE: SlotSpec = [77, 576, 5]
export const B_ERR_SEVERITY: SlotSpec = [79, 584, 16]
export const B_SERVER_VERSION: SlotSpec = [81, 600, 96]
export const B_USER: SlotSpec = [83, 696, 64]
export const B_DATABASE: SlotSpec = [85, 760, 64]
export const B_APPLICATION: SlotSpec = [87, 824, 64]
/** A framer's own copy of a message that straddles segments: header (8 bytes), then the kept body. */
export const B_CLIENT_MESSAGE = 888
export const HEAD_BYTES = 8
/** Largest body prefix a framer may keep (its own copy's room). */
export const MAX_FRAMER_CAPACITY = 512
export const B_SERVER_MESSAGE = B_CLIENT_MESSAGE + HEAD_BYTES + MAX_FRAMER_CAPACITY
export const BYTES = B_SERVER_MESSAGE + HEAD_BYTES + MAX_FRAMER_CAPACITY

export const FRAMERS_NONE = 0
export const FRAMERS_MYSQL = 1
export const FRAMERS_POSTGRES = 2

/** Records per chunk of a pool, as a power of two: 256 × 2,640 bytes ≈ 660 KiB. */
export const POOL_CHUNK_SHIFT = 8

/**
 * The records of one pool, and which one the trackers see (`bind`). Grows a chunk at a time and copies nothing:
 * memory follows the connections open at once, with no doubling copy (the old arrays and the new both alive) on
 * the way. `nums`, `bytes` and `view` are the bound record's chunk, `o` and `b` where the record starts in it.
 */
export class AppRecords {
  capacity = 0
  nums = new Float64Array(0)
  bytes = new Uint8Array(0)
  /** A DataView over `bytes`, for word-wide copies into it. */
  view = new DataView(this.bytes.buffer)
  /** The record in view: its first word in `nums` and first byte in `bytes`. */
  o = 0
  b = 0

  /** Number of the record in view. */
  rec = 0
  private readonly numChunks: Float64Array<ArrayBuffer>[] = []
  private readonly byteChunks: Uint8Array<ArrayBuffer>[] = []
  private readonly viewChunks: DataView<ArrayBuffer>[] = []
  /** Prepared statements per record, made when a connection first prepares one (few do). */
  private readonly rings: (PreparedRing | null)[] = []
  private readonly chunkRecords: number

  /** `chunkShift`: log2 of the records per chunk (0 for a pool that never holds more than one). */
  constructor(private readonly chunkShift = POOL_CHUNK_SHIFT) {
    this.chunkRecords = 1 << chunkShift
  }

  bind(rec: number): void {
    this.rec = rec
    const c = rec >>> this.chunkShift
    this.nums = this.numChunks[c]
    this.bytes = this.byteChunks[c]
    this.view = this.viewChunks[c]
    const i = rec & (this.chunkRecords - 1)
    this.o = i * WORDS
    this.b = i * BYTES
  }

  /** The prepared statements of the connection in view. */
  prepared(): PreparedRing {
    let ring = this.rings[this.rec]
    if (ring === undefined || ring === null) {
      while (this.rings.length <= this.rec) this.rings.push(null)
      ring = this.rings[this.rec] = new PreparedRing(B_CMD_TEXT[2])
    }
    return ring
  }

  clearPrepared(): void {
    this.rings[this.rec]?.clear()
  }

  /** Room for records 0 … n − 1 (the record in view stays in view). */
  ensure(n: number): void {
    if (n <= this.capacity) return
    while (this.capacity < n) {
      const bytes = new Uint8Array(this.chunkRecords * BYTES)
      this.numChunks.push(new Float64Array(this.chunkRecords * WORDS))
      this.byteChunks.push(bytes)
      this.viewChunks.push(new DataView(bytes.buffer))
      this.capacity += this.chunkRecords
    }
    this.bind(this.rec)
  }
}
