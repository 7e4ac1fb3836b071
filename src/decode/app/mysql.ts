/**
 * MySQL / MariaDB client-server protocol framing: 3-byte little-endian length + 1-byte sequence
 * id. Enough is understood to name the last client command, keep the server's error packets and
 * version, and know whether a command was still waiting for its answer when the connection broke.
 * Packet layouts: https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html
 */
import {CLIENT_SIDE, Framer, type FramerSide, le16, le24, le32, nul, SERVER_SIDE, W_EXTRA} from './framer.js'

const W_CONTINUATION = W_EXTRA
import {SESSION} from './records.js'
import {Session} from './session.js'
import {AppState, Opaque, Phase} from './state.js'

// Capability flags (both sides announce; the session uses what both set).
const CLIENT_CONNECT_WITH_DB = 0x8
const CLIENT_COMPRESS = 0x20
const CLIENT_PROTOCOL_41 = 0x200
const CLIENT_SSL = 0x800
const CLIENT_SECURE_CONNECTION = 0x8000
const CLIENT_PLUGIN_AUTH_LENENC = 0x200000
const CLIENT_DEPRECATE_EOF = 0x1000000
const CLIENT_ZSTD = 0x4000000
const CLIENT_QUERY_ATTRIBUTES = 0x8000000
const SERVER_MORE_RESULTS_EXISTS = 0x8

/** Pseudo command codes for the login messages (real commands are 0..255). */
export const MY_HANDSHAKE_RESPONSE = 0x100
export const MY_SSL_REQUEST = 0x101

export const COM = {
  SLEEP: 0x00, QUIT: 0x01, INIT_DB: 0x02, QUERY: 0x03, FIELD_LIST: 0x04, CREATE_DB: 0x05, DROP_DB: 0x06,
  REFRESH: 0x07, SHUTDOWN: 0x08, STATISTICS: 0x09, PROCESS_INFO: 0x0a, CONNECT: 0x0b, PROCESS_KILL: 0x0c,
  DEBUG: 0x0d, PING: 0x0e, TIME: 0x0f, DELAYED_INSERT: 0x10, CHANGE_USER: 0x11, BINLOG_DUMP: 0x12,
  TABLE_DUMP: 0x13, CONNECT_OUT: 0x14, REGISTER_SLAVE: 0x15, STMT_PREPARE: 0x16, STMT_EXECUTE: 0x17,
  STMT_SEND_LONG_DATA: 0x18, STMT_CLOSE: 0x19, STMT_RESET: 0x1a, SET_OPTION: 0x1b, STMT_FETCH: 0x1c,
  DAEMON: 0x1d, BINLOG_DUMP_GTID: 0x1e, RESET_CONNECTION: 0x1f, CLONE: 0x20, STMT_BULK_EXECUTE: 0xfa,
} as const

const NAMES: Record<number, string> = {}
for (const [k, v] of Object.entries(COM)) NAMES[v] = `COM_${k}`
NAMES[MY_HANDSHAKE_RESPONSE] = 'HandshakeResponse'
NAMES[MY_SSL_REQUEST] = 'SSLRequest'

/** Name of a MySQL command code as MySQL's docs spell it ("COM_QUERY"). */
export function mysqlCommandName(code: number): string {
  return NAMES[code] ?? `COM_0x${code.toString(16).padStart(2, '0')}`
}

/** Commands the server never answers: the client does not wait after them. */
function unanswered(cmd: number): boolean {
  return cmd === COM.QUIT || cmd === COM.STMT_CLOSE || cmd === COM.STMT_SEND_LONG_DATA
}

const enum Login {
  /** Waiting for the server greeting. */
  Greeting,
  /** Handshake response / auth exchange until the server's OK. */
  Auth,
  Command,
}

const enum Resp {
  None,
  First,
  Columns,
  ColumnsEof,
  Rows,
  /** Skip `skip` packets (prepare: parameter and column definitions), then done. */
  Skip,
}

/** What both directions of one MySQL connection share (the record's session words). */
export class MySqlSession extends Session<MySqlClient, MySqlServer> {
  get login(): Login {
    return this.r.nums[this.r.o + SESSION + 0] as Login
  }
  set login(v: Login) {
    this.r.nums[this.r.o + SESSION + 0] = v
  }
  get serverCaps(): number {
    return this.r.nums[this.r.o + SESSION + 1]
  }
  set serverCaps(v: number) {
    this.r.nums[this.r.o + SESSION + 1] = v
  }
  get clientCaps(): number {
    return this.r.nums[this.r.o + SESSION + 2]
  }
  set clientCaps(v: number) {
    this.r.nums[this.r.o + SESSION + 2] = v
  }
  get resp(): Resp {
    return this.r.nums[this.r.o + SESSION + 3] as Resp
  }
  set resp(v: Resp) {
    this.r.nums[this.r.o + SESSION + 3] = v
  }
  get respCmd(): number {
    return this.r.nums[this.r.o + SESSION + 4]
  }
  set respCmd(v: number) {
    this.r.nums[this.r.o + SESSION + 4] = v
  }
  get columns(): number {
    return this.r.nums[this.r.o + SESSION + 5]
  }
  set columns(v: number) {
    this.r.nums[this.r.o + SESSION + 5] = v
  }
  get skip(): number {
    return this.r.nums[this.r.o + SESSION + 6]
  }
  set skip(v: number) {
    this.r.nums[this.r.o + SESSION + 6] = v
  }
  /** As a new connection has it (the framers stay linked). */
  override reset(): void {
    super.reset()
    this.login = Login.Greeting
    this.serverCaps = -1
    this.resp = Resp.None
    this.respCmd = -1
  }

  /** The capture began after the login: the next sequence-0 client packet is a command. */
  startInCommandPhase(): void {
    this.login = Login.Command
  }

  caps(): number {
    return this.serverCaps < 0 ? this.clientCaps : this.clientCaps & this.serverCaps
  }

}

/** Length-encoded integer at d[i] (within end); `lenencNext` gets the index after it. -1 if cut. */
let lenencNext = 0
function lenenc(d: Uint8Array, i: number, end: number): number {
  if (i >= end) return -1
  const b = d[i]
  if (b < 0xfb) {
    lenencNext = i + 1
    return b
  }
  const n = b === 0xfc ? 2 : b === 0xfd ? 3 : b === 0xfe ? 8 : 0
  if (n === 0 || i + 1 + n > end) return -1
  let v = 0
  for (let k = n - 1; k >= 0; k--) v = v * 256 + d[i + 1 + k]
  lenencNext = i + 1 + n
  return v
}

abstract class MySqlFramer extends Framer {
  constructor(
    st: AppState,
    protected readonly s: MySqlSession,
    capacity: number,
    side: FramerSide,
  ) {
    super(st, capacity, side)
  }

  /** The previous packet was 0xffffff long: this one continues it and starts nothing. */
  protected get continuation(): boolean {
    return this.r.nums[this.r.o + this.w + W_CONTINUATION] !== 0
  }
  private get nextContinuation(): boolean {
    return this.r.nums[this.r.o + this.w + W_CONTINUATION + 1] !== 0
  }

  protected headerSize(): number {
    return 4
  }

  /** A continuation packet is never read (see `message`). */
  protected override keepFor(_first: number): number {
    return this.continuation ? 0 : this.capacity
  }

  protected bodyLength(): number {
    const len = le24(this.head, 0)
    this.r.nums[this.r.o + this.w + W_CONTINUATION] = this.nextContinuation ? 1 : 0
    this.r.nums[this.r.o + this.w + W_CONTINUATION + 1] = len === 0xffffff ? 1 : 0
    return len
  }

  protected get seqId(): number {
    return this.head[3]
  }
}

export class MySqlClient extends MySqlFramer {
  constructor(st: AppState, s: MySqlSession) {
    super(st, s, 512, CLIENT_SIDE)
    s.client = this
  }

  protected plausibleStart(d: Uint8Array, off: number, len: number): boolean {
    // A new command: sequence id 0, a known command byte, a length no longer than a query can be.
    if (len < 5 || d[off + 3] !== 0) return false
    const c = d[off + 4]
    return (c <= COM.CLONE || c === COM.STMT_BULK_EXECUTE) && chainFits(d, off, len)
  }

  protected message(): void {
    if (this.continuation) return
    if (this.s.login !== Login.Command) {
      if (this.seqId === 1 && this.bodyKept >= 4) this.handshakeResponse()
      return
    }
    // In the command phase only sequence 0 starts a command; higher ids are auth or LOCAL INFILE data.
    if (this.seqId !== 0 || this.bodyKept < 1) return
    this.command()
  }

  private handshakeResponse(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    const caps = le32(b, 0)
    this.s.clientCaps = caps
    if (caps & CLIENT_SSL && this.bodyLen === 32) {
      st.beginCommand(MY_SSL_REQUEST, this.msgFrame, this.msgTime, this.msgIdle)
      this.s.stopBoth(Opaque.Tls)
      return
    }
    st.beginCommand(MY_HANDSHAKE_RESPONSE, this.msgFrame, this.msgTime, this.msgIdle)
    st.phase = Phase.Sent
    if (!(caps & CLIENT_PROTOCOL_41)) {
      // HandshakeResponse320: caps(2) max-packet(3) user NUL …
      const z = nul(b, 5, end)
      if (z > 5) st.user.set(b, 5, z - 5)
      return
    }
    const u = 32
    const z = nul(b, u, end)
    if (z < 0) return
    st.user.set(b, u, z - u)
    // The auth response is skipped, never kept: it is a credential.
    let i = z + 1
    if (caps & CLIENT_PLUGIN_AUTH_LENENC) {
      const n = lenenc(b, i, end)
      if (n < 0) return
      i = lenencNext + n
    } else if (caps & CLIENT_SECURE_CONNECTION) {
      if (i >= end) return
      i = i + 1 + b[i]
    } else {
      const z2 = nul(b, i, end)
      if (z2 < 0) return
      i = z2 + 1
    }
    if (caps & CLIENT_CONNECT_WITH_DB && i < end) {
      const z3 = nul(b, i, end)
      if (z3 > i) st.database.set(b, i, z3 - i)
    }
  }

  private command(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    const s = this.s
    const cmd = b[0]
    st.beginCommand(cmd, this.msgFrame, this.msgTime, this.msgIdle)
    const total = this.bodyLen - 1
    switch (cmd) {
      case COM.QUERY: {
        let i = 1
        if (s.caps() & CLIENT_QUERY_ATTRIBUTES) i = skipQueryAttributes(b, 1, end)
        if (i >= 0) st.cmdText.set(b, i, end - i, this.bodyLen - i)
        break
      }
      case COM.INIT_DB:
        st.database.set(b, 1, end - 1, total)
        st.cmdText.set(b, 1, end - 1, total)
        break
      case COM.STMT_PREPARE:
      case COM.CREATE_DB:
      case COM.DROP_DB:
        st.cmdText.set(b, 1, end - 1, total)
        break
      case COM.FIELD_LIST: {
        const z = nul(b, 1, end)
        st.cmdText.set(b, 1, (z < 0 ? end : z) - 1)
        break
      }
      case COM.CHANGE_USER: {
        const z = nul(b, 1, end)
        if (z > 1) st.user.set(b, 1, z - 1)
        s.login = Login.Auth
        break
      }
      case COM.PROCESS_KILL:
        if (end >= 5) st.cmdText.setDigits(le32(b, 1))
        break
      case COM.STMT_EXECUTE:
      case COM.STMT_CLOSE:
      case COM.STMT_RESET:
      case COM.STMT_FETCH:
      case COM.STMT_SEND_LONG_DATA:
      case COM.STMT_BULK_EXECUTE:
        if (end >= 5) {
          const id = le32(b, 1)
          st.cmdStatement.setDigits(id)
          const t = s.prepared.byId(id)
          if (t) {
            st.cmdText.copyFrom(t)
            st.cmdTextFromPrepare = true
          }
        }
        break
    }
    if (unanswered(cmd)) {
      st.phase = Phase.Idle
      s.resp = Resp.None
    } else {
      st.phase = Phase.Sent
      s.resp = Resp.First
      s.respCmd = cmd
    }
  }
}

/** Scratch for query-attribute parameter types (at most 64 are decoded). */
const paramTypes = new Uint8Array(64)

/**
 * COM_QUERY with query attributes (MySQL 8.0.23+): parameter count, set count, then for
 * parameters a null bitmap, a "types follow" flag, types + names and values, then the query.
 * Returns the query's offset, or -1 when the attributes do not fit in what was kept.
 */
function skipQueryAttributes(b: Uint8Array, i: number, end: number): number {
  const count = lenenc(b, i, end)
  if (count < 0) return -1
  i = lenencNext
  if (lenenc(b, i, end) < 0) return -1
  i = lenencNext
  if (count === 0) return i
  if (count > 64) return -1
  const bitmapAt = i
  i += (count + 7) >> 3
  if (i >= end || b[i] !== 1) return -1
  i++
  // Each parameter: type (2 bytes) then its name; the values follow all of them.
  for (let p = 0; p < count; p++) {
    if (i >= end) return -1
    paramTypes[p] = b[i]
    const n = lenenc(b, i + 2, end)
    if (n < 0) return -1
    i = lenencNext + n
  }
  for (let p = 0; p < count && i <= end; p++) {
    if (b[bitmapAt + (p >> 3)] & (1 << (p & 7))) continue
    const fixed = fixedSize(paramTypes[p])
    if (fixed > 0) i += fixed
    else {
      const n = lenenc(b, i, end)
      if (n < 0) return -1
      i = lenencNext + n
    }
  }
  return i <= end ? i : -1
}

/** Binary-protocol value sizes for fixed-width types (0: length-encoded). */
function fixedSize(t: number): number {
  switch (t) {
    case 0x01: // TINY
      return 1
    case 0x02: // SHORT
    case 0x0d: // YEAR
      return 2
    case 0x03: // LONG
    case 0x09: // INT24
    case 0x04: // FLOAT
      return 4
    case 0x05: // DOUBLE
    case 0x08: // LONGLONG
      return 8
    default:
      return 0
  }
}

/** Bytes of a non-error server packet that `response` can read (≥ 1 + 9 + 9 + 2 of an OK packet). */
const RESPONSE_BYTES = 32

export class MySqlServer extends MySqlFramer {
  constructor(st: AppState, s: MySqlSession) {
    super(st, s, 384, SERVER_SIDE)
    s.server = this
  }

  protected plausibleStart(d: Uint8Array, off: number, len: number): boolean {
    return len >= 5 && chainFits(d, off, len)
  }

  protected override onHeader(): void {
    if (this.st.phase === Phase.Sent && this.s.login === Login.Command) this.st.phase = Phase.Answering
  }

  /**
   * Only ERR packets and the greeting are read beyond their first bytes: everything `response`
   * looks at (OK/EOF status, prepare-OK ids, column count) lies in the first 21, and only in an
   * OK (0x00), EOF (0xfe) or a length-encoded integer longer than one byte (0xfb..0xfd); of any
   * other packet only the first byte is read. Result rows, the bulk of the traffic, then cost a
   * one-byte copy. (The client cannot move the login phase to or from Greeting meanwhile.)
   */
  protected override keepFor(first: number): number {
    if (this.continuation) return 0
    if (first === 0xff || this.s.login === Login.Greeting) return this.capacity
    return first === 0x00 || first >= 0xfb ? RESPONSE_BYTES : 1
  }

  protected message(): void {
    if (this.continuation || this.bodyKept < 1) return
    const s = this.s
    const first = this.body[0]
    if (first === 0xff) {
      if (this.error()) this.done()
      return
    }
    if (s.login === Login.Greeting) {
      if (first === 0x0a) this.greeting()
      s.login = Login.Auth
      return
    }
    if (s.login === Login.Auth) {
      if (first === 0x00) {
        s.login = Login.Command
        this.done()
        const c = s.caps()
        if (c & (CLIENT_COMPRESS | CLIENT_ZSTD) && s.serverCaps >= 0) s.stopBoth(Opaque.Compressed)
      }
      return
    }
    this.response(first)
  }

  private greeting(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    const z = nul(b, 1, end)
    if (z < 0) return
    st.serverVersion.set(b, 1, z - 1)
    if (z + 5 <= end) st.sessionId = le32(b, z + 1)
    // After the version: thread id(4), auth data(8), filler(1), caps low(2), charset(1), status(2), caps high(2).
    const capsAt = z + 1 + 4 + 8 + 1
    if (capsAt + 2 <= end) {
      let caps = le16(b, capsAt)
      if (capsAt + 7 <= end) caps += le16(b, capsAt + 5) * 0x10000
      this.s.serverCaps = caps
    }
  }

  /** ERR packet; false for MariaDB progress reports (code 0xffff), which are not errors. */
  private error(): boolean {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    if (end < 3) return false
    const code = le16(b, 1)
    if (code === 0xffff) return false
    st.errNumber = code
    st.errSeverity.clear()
    let i = 3
    if (end >= 9 && b[3] === 0x23 /* # */) {
      st.errState.set(b, 4, 5)
      i = 9
    } else st.errState.clear()
    st.errMessage.set(b, i, end - i, this.bodyLen - i)
    st.recordError(this.msgFrame, this.msgTime)
    return true
  }

  private response(first: number): void {
    const s = this.s
    const b = this.body
    const end = this.bodyKept
    switch (s.resp) {
      case Resp.First:
        if (first === 0x00 && s.respCmd === COM.STMT_PREPARE && end >= 9) {
          s.prepared.addById(le32(b, 1), this.st.cmdText)
          const cols = le16(b, 5)
          const params = le16(b, 7)
          const eofs = s.caps() & CLIENT_DEPRECATE_EOF ? 0 : (cols > 0 ? 1 : 0) + (params > 0 ? 1 : 0)
          s.skip = cols + params + eofs
          if (s.skip > 0) s.resp = Resp.Skip
          else this.done()
        } else if (first === 0x00) {
          this.okOrEof(false)
        } else if (first === 0xfe && this.bodyLen < 9) {
          this.done()
        } else if (first === 0xfb) {
          // LOCAL INFILE request: the client sends the file, then the server answers again.
        } else if (s.respCmd === COM.FIELD_LIST) {
          s.resp = Resp.Rows
        } else if (s.respCmd === COM.QUERY || s.respCmd === COM.STMT_EXECUTE || s.respCmd === COM.STMT_FETCH) {
          const n = lenenc(b, 0, end)
          if (n <= 0) this.done()
          else {
            s.columns = n
            s.resp = Resp.Columns
          }
        } else this.done()
        break
      case Resp.Columns:
        if (--s.columns <= 0) s.resp = s.caps() & CLIENT_DEPRECATE_EOF ? Resp.Rows : Resp.ColumnsEof
        break
      case Resp.ColumnsEof:
        s.resp = Resp.Rows
        break
      case Resp.Rows:
        if (first === 0xfe && this.bodyLen < 0xffffff) this.okOrEof(this.bodyLen < 9)
        break
      case Resp.Skip:
        if (--s.skip <= 0) this.done()
        break
      default:
        // An answer to nothing we saw (e.g. capture started mid-exchange): nothing to track.
        break
    }
  }

  /** OK or EOF ending a result: another result follows when the status says so. */
  private okOrEof(eof: boolean): void {
    const b = this.body
    const end = this.bodyKept
    let status = 0
    if (eof) {
      if (end >= 5) status = le16(b, 3)
    } else if (lenenc(b, 1, end) >= 0 && lenenc(b, lenencNext, end) >= 0 && lenencNext + 2 <= end) {
      status = le16(b, lenencNext)
    }
    if (status & SERVER_MORE_RESULTS_EXISTS) this.s.resp = Resp.First
    else this.done()
  }

  private done(): void {
    this.s.resp = Resp.None
    this.st.phase = Phase.Idle
  }
}

/**
 * Do the packet headers in this segment chain up: each length lands on the next header, and the
 * last packet ends exactly at the segment end or continues past it. Random bytes rarely do.
 */
export function chainFits(d: Uint8Array, off: number, len: number): boolean {
  const end = off + len
  let i = off
  for (let n = 0; n < 64; n++) {
    if (i + 4 > end) return false
    const l = le24(d, i)
    if (l === 0 && n === 0) return false
    i += 4 + l
    if (i >= end) return true
  }
  return false
}

/** Does this look like the start of a MySQL server greeting (protocol 10)? */
export function looksLikeGreeting(d: Uint8Array, off: number, len: number): boolean {
  if (len < 6) return false
  const l = le24(d, off)
  if (d[off + 3] !== 0 || l < 10 || l > 1024 || d[off + 4] !== 0x0a) return false
  // The version string: printable ASCII up to its NUL.
  const end = off + (len < l + 4 ? len : l + 4)
  for (let i = off + 5; i < end; i++) {
    const c = d[i]
    if (c === 0) return i > off + 5
    if (c < 0x20 || c > 0x7e) return false
  }
  return false
}

/** Does this look like a MySQL ERR packet sent instead of a greeting (e.g. "Too many connections")? */
export function looksLikeGreetingError(d: Uint8Array, off: number, len: number): boolean {
  if (len < 8) return false
  const l = le24(d, off)
  return d[off + 3] === 0 && d[off + 4] === 0xff && l + 4 === len && l < 1024
}
