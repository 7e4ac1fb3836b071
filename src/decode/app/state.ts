/**
 * The bounded application state of one TCP connection, written by the MySQL and PostgreSQL
 * framers. Numbers and bounded byte slots only: a connection costs one fixed record whatever the
 * traffic, and nothing here points into a packet buffer. The object is a view of one record of a
 * pool (records.ts), moved by `bind` to the connection being decoded; a standalone state has a
 * pool of one.
 */
import {ByteSlot} from './slot.js'
import * as R from './records.js'

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
export const COMMAND_BYTES = R.B_CMD_TEXT[2]

export class AppState {
  readonly serverVersion: ByteSlot
  readonly user: ByteSlot
  readonly database: ByteSlot
  readonly application: ByteSlot
  /** The last client command's text (or schema, table, PID …). */
  readonly cmdText: ByteSlot
  /** Prepared statement the command refers to (MySQL id digits, PostgreSQL name); empty if none. */
  readonly cmdStatement: ByteSlot
  readonly errState: ByteSlot
  readonly errSeverity: ByteSlot
  readonly errMessage: ByteSlot

  /** The state of the record `r` has in view; without `r`, a standalone state as a new connection has it. */
  readonly r: R.AppRecords

  constructor(records?: R.AppRecords) {
    const r = records ?? new R.AppRecords(0)
    this.r = r
    const slot = ([li, off, cap]: R.SlotSpec) => new ByteSlot(cap, r, li, off)
    this.serverVersion = slot(R.B_SERVER_VERSION)
    this.user = slot(R.B_USER)
    this.database = slot(R.B_DATABASE)
    this.application = slot(R.B_APPLICATION)
    this.cmdText = slot(R.B_CMD_TEXT)
    this.cmdStatement = slot(R.B_CMD_STATEMENT)
    this.errState = slot(R.B_ERR_STATE)
    this.errSeverity = slot(R.B_ERR_SEVERITY)
    this.errMessage = slot(R.B_ERR_MESSAGE)
    if (!records) {
      r.ensure(1)
      this.reset()
    }
  }

  get proto(): AppProto {
    return this.r.nums[this.r.o + R.T_PROTO] as AppProto
  }
  set proto(v: AppProto) {
    this.r.nums[this.r.o + R.T_PROTO] = v
  }
  get opaque(): Opaque {
    return this.r.nums[this.r.o + R.T_OPAQUE] as Opaque
  }
  set opaque(v: Opaque) {
    this.r.nums[this.r.o + R.T_OPAQUE] = v
  }
  /** MySQL connection id from the greeting, or PostgreSQL backend PID from BackendKeyData; -1 unknown. */
  get sessionId(): number {
    return this.r.nums[this.r.o + R.T_SESSION_ID]
  }
  set sessionId(v: number) {
    this.r.nums[this.r.o + R.T_SESSION_ID] = v
  }

  // ---- the last client command ----
  /** Protocol-specific code (see mysql.ts / postgres.ts `commandName`); -1 none yet. */
  get cmdKind(): number {
    return this.r.nums[this.r.o + R.T_CMD_KIND]
  }
  set cmdKind(v: number) {
    this.r.nums[this.r.o + R.T_CMD_KIND] = v
  }
  /** The text came from an earlier prepare (statement re-executed by id or name). */
  get cmdTextFromPrepare(): boolean {
    return this.r.nums[this.r.o + R.T_CMD_FROM_PREPARE] !== 0
  }
  set cmdTextFromPrepare(v: boolean) {
    this.r.nums[this.r.o + R.T_CMD_FROM_PREPARE] = v ? 1 : 0
  }
  /** False while the command's bytes are still arriving (noted by `snapshot`). */
  get cmdComplete(): boolean {
    return this.r.nums[this.r.o + R.T_CMD_COMPLETE] !== 0
  }
  set cmdComplete(v: boolean) {
    this.r.nums[this.r.o + R.T_CMD_COMPLETE] = v ? 1 : 0
  }
  get cmdFrame(): number {
    return this.r.nums[this.r.o + R.T_CMD_FRAME]
  }
  get cmdTime(): number {
    return this.r.nums[this.r.o + R.T_CMD_TIME]
  }
  /** Seconds of silence on the connection before the command; -1 when it was the first thing seen. */
  get cmdIdleBefore(): number {
    return this.r.nums[this.r.o + R.T_CMD_IDLE]
  }
  get commands(): number {
    return this.r.nums[this.r.o + R.T_COMMANDS]
  }
  set commands(v: number) {
    this.r.nums[this.r.o + R.T_COMMANDS] = v
  }

  // ---- request phase ----
  get phase(): Phase {
    return this.r.nums[this.r.o + R.T_PHASE] as Phase
  }
  set phase(v: Phase) {
    this.r.nums[this.r.o + R.T_PHASE] = v
  }

  // ---- the last server error ----
  get errSet(): boolean {
    return this.r.nums[this.r.o + R.T_ERR_SET] !== 0
  }
  /** MySQL error number; 0 for PostgreSQL (its code is the SQLSTATE). */
  get errNumber(): number {
    return this.r.nums[this.r.o + R.T_ERR_NUMBER]
  }
  set errNumber(v: number) {
    this.r.nums[this.r.o + R.T_ERR_NUMBER] = v
  }
  get errFrame(): number {
    return this.r.nums[this.r.o + R.T_ERR_FRAME]
  }
  get errTime(): number {
    return this.r.nums[this.r.o + R.T_ERR_TIME]
  }
  get errors(): number {
    return this.r.nums[this.r.o + R.T_ERRORS]
  }

  /** Messages whose framing or content made no sense (each costs a resync). */
  get malformed(): number {
    return this.r.nums[this.r.o + R.T_MALFORMED]
  }
  set malformed(v: number) {
    this.r.nums[this.r.o + R.T_MALFORMED] = v
  }

  /** Start a new last-command record: kind, where, and how long the connection was quiet before. */
  beginCommand(kind: number, frame: number, time: number, idleBefore: number): void {
    const n = this.r.nums
    const o = this.r.o
    n[o + R.T_CMD_KIND] = kind
    this.cmdText.clear()
    this.cmdStatement.clear()
    n[o + R.T_CMD_FROM_PREPARE] = 0
    n[o + R.T_CMD_COMPLETE] = 1
    n[o + R.T_CMD_FRAME] = frame
    n[o + R.T_CMD_TIME] = time
    n[o + R.T_CMD_IDLE] = idleBefore
    n[o + R.T_COMMANDS]++
  }

  recordError(frame: number, time: number): void {
    const n = this.r.nums
    const o = this.r.o
    n[o + R.T_ERR_SET] = 1
    n[o + R.T_ERR_FRAME] = frame
    n[o + R.T_ERR_TIME] = time
    n[o + R.T_ERRORS]++
  }

  /** As a new connection has it: every field of the state, and every slot empty. */
  reset(): void {
    const n = this.r.nums
    const o = this.r.o
    for (const [w, v] of DEFAULTS) n[o + w] = v
  }
}

/** The state's words and their values in a new connection (the slots' lengths included). */
const DEFAULTS: readonly (readonly [number, number])[] = [
  [R.T_PROTO, AppProto.Unknown],
  [R.T_PHASE, Phase.Idle],
  [R.T_LAST_ACTIVITY, -1],
  [R.T_CMD_KIND, -1],
  [R.T_CMD_FRAME, 0],
  [R.T_CMD_TIME, 0],
  [R.T_CMD_IDLE, -1],
  [R.T_COMMANDS, 0],
  [R.T_CMD_COMPLETE, 1],
  [R.T_CMD_FROM_PREPARE, 0],
  [R.T_OPAQUE, Opaque.No],
  [R.T_SESSION_ID, -1],
  [R.T_ERR_SET, 0],
  [R.T_ERR_NUMBER, 0],
  [R.T_ERR_FRAME, 0],
  [R.T_ERR_TIME, 0],
  [R.T_ERRORS, 0],
  [R.T_MALFORMED, 0],
  ...[R.B_CMD_TEXT, R.B_CMD_STATEMENT, R.B_ERR_MESSAGE, R.B_ERR_STATE, R.B_ERR_SEVERITY, R.B_SERVER_VERSION, R.B_USER, R.B_DATABASE, R.B_APPLICATION].flatMap(
    ([li]) => [[li, 0] as const, [li + 1, 0] as const],
  ),
]
