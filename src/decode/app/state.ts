/**
 * The bounded application state of one TCP connection, written by the MySQL and PostgreSQL
 * framers. Numbers and bounded byte slots only: a flow holding one of these costs at most a fixed
 * amount whatever the traffic, and nothing here points into a packet buffer. `reset()` makes it
 * new again without giving up the slots' buffers, for a recycled flow.
 */
import {ByteSlot} from './slot.js'

export const AppProto = {Unknown: 0, MySQL: 1, Postgres: 2, /** looked, found neither */ None: 3} as const
export type AppProto = (typeof AppProto)[keyof typeof AppProto]

/** Where the request/response exchange stood at the last segment fed. */
export const Phase = {
  /** No command outstanding (or nothing known). */
  Idle: 0,
  /** The client sent a command and the server has not sent a byte since. */
  Sent: 1,
  /** The server started answering but has not finished. */
  Answering: 2,
} as const
export type Phase = (typeof Phase)[keyof typeof Phase]

/** Why decoding stopped for good on this connection. */
export const Opaque = {No: 0, Tls: 1, GssEnc: 2, Compressed: 3} as const
export type Opaque = (typeof Opaque)[keyof typeof Opaque]

/** Capacity of the kept command text: a little over the ~200 characters shown. */
export const COMMAND_BYTES = 256

export class AppState {
  proto: AppProto = AppProto.Unknown
  opaque: Opaque = Opaque.No
  readonly serverVersion = new ByteSlot(96)
  readonly user = new ByteSlot(64)
  readonly database = new ByteSlot(64)
  readonly application = new ByteSlot(64)
  /** MySQL connection id from the greeting, or PostgreSQL backend PID from BackendKeyData; -1 unknown. */
  sessionId = -1

  // ---- the last client command ----
  /** Protocol-specific code (see mysql.ts / postgres.ts `commandName`); -1 none yet. */
  cmdKind = -1
  readonly cmdText = new ByteSlot(COMMAND_BYTES)
  /** Prepared statement the command refers to (MySQL id digits, PostgreSQL name); empty if none. */
  readonly cmdStatement = new ByteSlot(64)
  /** The text came from an earlier prepare (statement re-executed by id or name). */
  cmdTextFromPrepare = false
  /** False while the command's bytes are still arriving (noted by `AppStream.snapshot`). */
  cmdComplete = true
  cmdFrame = 0
  cmdTime = 0
  /** Seconds of silence on the connection before the command; -1 when it was the first thing seen. */
  cmdIdleBefore = -1
  commands = 0

  // ---- request phase ----
  phase: Phase = Phase.Idle

  // ---- the last server error ----
  errSet = false
  /** MySQL error number; 0 for PostgreSQL (its code is the SQLSTATE). */
  errNumber = 0
  readonly errState = new ByteSlot(5)
  readonly errSeverity = new ByteSlot(16)
  readonly errMessage = new ByteSlot(COMMAND_BYTES)
  errFrame = 0
  errTime = 0
  errors = 0

  /** Time of the last payload segment in either direction (set by the stream); -1 before any. */
  lastActivity = -1

  /** Start a new last-command record: kind, where, and how long the connection was quiet before. */
  beginCommand(kind: number, frame: number, time: number, idleBefore: number): void {
    this.cmdKind = kind
    this.cmdText.clear()
    this.cmdStatement.clear()
    this.cmdTextFromPrepare = false
    this.cmdComplete = true
    this.cmdFrame = frame
    this.cmdTime = time
    this.cmdIdleBefore = idleBefore
    this.commands++
  }

  /** Messages whose framing or content made no sense (each costs a resync). */
  malformed = 0

  /** As freshly constructed (every field above, in order), keeping the slots' buffers. */
  reset(): void {
    this.proto = AppProto.Unknown
    this.opaque = Opaque.No
    this.serverVersion.clear()
    this.user.clear()
    this.database.clear()
    this.application.clear()
    this.sessionId = -1
    this.cmdKind = -1
    this.cmdText.clear()
    this.cmdStatement.clear()
    this.cmdTextFromPrepare = false
    this.cmdComplete = true
    this.cmdFrame = 0
    this.cmdTime = 0
    this.cmdIdleBefore = -1
    this.commands = 0
    this.phase = Phase.Idle
    this.errSet = false
    this.errNumber = 0
    this.errState.clear()
    this.errSeverity.clear()
    this.errMessage.clear()
    this.errFrame = 0
    this.errTime = 0
    this.errors = 0
    this.lastActivity = -1
    this.malformed = 0
  }

  recordError(frame: number, time: number): void {
    this.errSet = true
    this.errFrame = frame
    this.errTime = time
    this.errors++
  }
}
