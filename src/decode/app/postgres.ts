/**
 * PostgreSQL frontend/backend protocol v3 framing. The first client messages are untyped
 * (length + code: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest); an SSL or GSS
 * request is answered by one unframed byte; everything after is type byte + length.
 * Layouts: https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import {u32} from '../bytes.js'
import {CLIENT_SIDE, Framer, nul, SERVER_SIDE} from './framer.js'
import {SESSION} from './records.js'
import {Session} from './session.js'
import {AppState, Opaque, Phase} from './state.js'

export const PG_PROTOCOL_3 = 196608
export const PG_SSL_REQUEST_CODE = 80877103
export const PG_GSSENC_REQUEST_CODE = 80877104
export const PG_CANCEL_REQUEST_CODE = 80877102

/** Pseudo command codes for untyped messages (typed ones use their type byte). */
export const PG_STARTUP = 0x100
export const PG_SSL_REQUEST = 0x101
export const PG_GSSENC_REQUEST = 0x102
export const PG_CANCEL_REQUEST = 0x103

const FRONTEND: Record<number, string> = {
  0x42: 'Bind', 0x43: 'Close', 0x44: 'Describe', 0x45: 'Execute', 0x46: 'FunctionCall', 0x48: 'Flush',
  0x50: 'Parse', 0x51: 'Query', 0x53: 'Sync', 0x58: 'Terminate', 0x63: 'CopyDone', 0x64: 'CopyData',
  0x66: 'CopyFail', 0x70: 'PasswordMessage',
  [PG_STARTUP]: 'StartupMessage', [PG_SSL_REQUEST]: 'SSLRequest', [PG_GSSENC_REQUEST]: 'GSSENCRequest',
  [PG_CANCEL_REQUEST]: 'CancelRequest',
}

/** Backend message types ('R' auth … 'v' NegotiateProtocolVersion). */
const BACKEND = new Uint8Array(128)
for (const c of 'R K S Z E N C T D I 1 2 3 n t s G H W d c A v V'.split(' ')) BACKEND[c.charCodeAt(0)] = 1
const FRONTEND_TYPE = new Uint8Array(128)
for (const k of Object.keys(FRONTEND)) if (Number(k) < 128) FRONTEND_TYPE[Number(k)] = 1

/** Name of a PostgreSQL frontend message code as the protocol docs spell it ("Query"). */
export function pgCommandName(code: number): string {
  return FRONTEND[code] ?? `message 0x${code.toString(16)}`
}

/** What both directions of one PostgreSQL connection share (the record's session words). */
export class PgSession extends Session<PgClient, PgServer> {
  /** The client is still in the untyped startup phase. */
  get startup(): boolean {
    return this.r.nums[this.r.o + SESSION] !== 0
  }
  set startup(v: boolean) {
    this.r.nums[this.r.o + SESSION] = v ? 1 : 0
  }
  /** The client sent SSLRequest/GSSENCRequest: the server's next byte is a bare answer. */
  get awaitingAnswer(): boolean {
    return this.r.nums[this.r.o + SESSION + 1] !== 0
  }
  set awaitingAnswer(v: boolean) {
    this.r.nums[this.r.o + SESSION + 1] = v ? 1 : 0
  }
  /** A Parse/Bind/Execute was already recorded for the current extended-protocol batch. */
  get batchRecorded(): boolean {
    return this.r.nums[this.r.o + SESSION + 2] !== 0
  }
  set batchRecorded(v: boolean) {
    this.r.nums[this.r.o + SESSION + 2] = v ? 1 : 0
  }
  /** As a new connection has it (the framers stay linked). */
  override reset(): void {
    super.reset()
    this.startup = true
  }
}

/** Do typed messages chain up within the segment (type known to `known`, length ≥ 4)? */
function typedChainFits(d: Uint8Array, off: number, len: number, known: Uint8Array): boolean {
  const end = off + len
  let i = off
  for (let n = 0; n < 64; n++) {
    if (i + 5 > end) return false
    const t = d[i]
    if (t >= 128 || !known[t]) return false
    const l = u32(d, i + 1)
    if (l < 4 || l > 0x40000000) return false
    i += 1 + l
    if (i >= end) return true
  }
  return false
}

/** Does a client's first segment look like an untyped startup-phase message? */
export function looksLikeStartup(d: Uint8Array, off: number, len: number): boolean {
  if (len < 8) return false
  const l = u32(d, off)
  const code = u32(d, off + 4)
  if (code === PG_SSL_REQUEST_CODE || code === PG_GSSENC_REQUEST_CODE) return l === 8
  if (code === PG_CANCEL_REQUEST_CODE) return l === 16
  return code >>> 16 === 3 && l >= 8 && l <= 10000
}

export class PgClient extends Framer {
  constructor(
    st: AppState,
    private readonly s: PgSession,
  ) {
    super(st, 512, CLIENT_SIDE)
    s.client = this
  }

  protected headerSize(): number {
    return this.s.startup ? 4 : 5
  }

  protected bodyLength(): number {
    const l = this.s.startup ? u32(this.head, 0) : u32(this.head, 1)
    if (!this.s.startup) {
      const t = this.head[0]
      if (t >= 128 || !FRONTEND_TYPE[t]) return -1
    } else if (l < 8 || l > 10000) return -1
    return l < 4 ? -1 : l - 4
  }

  protected plausibleStart(d: Uint8Array, off: number, len: number): boolean {
    if (this.s.startup) return looksLikeStartup(d, off, len)
    return typedChainFits(d, off, len, FRONTEND_TYPE)
  }

  /** CopyData (COPY FROM STDIN, the bulk of a load) is never read. */
  protected override keepFor(_first: number): number {
    return !this.s.startup && this.head[0] === 0x64 ? 0 : this.capacity
  }

  protected message(): void {
    if (this.s.startup) this.untyped()
    else this.typed()
  }

  private begin(kind: number): void {
    this.st.beginCommand(kind, this.msgFrame, this.msgTime, this.msgIdle)
  }

  private untyped(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    if (end < 4) return
    const code = u32(b, 0)
    if (code === PG_SSL_REQUEST_CODE || code === PG_GSSENC_REQUEST_CODE) {
      this.begin(code === PG_SSL_REQUEST_CODE ? PG_SSL_REQUEST : PG_GSSENC_REQUEST)
      this.s.awaitingAnswer = true
      st.phase = Phase.Sent
      return
    }
    if (code === PG_CANCEL_REQUEST_CODE) {
      this.begin(PG_CANCEL_REQUEST)
      // The PID whose query is to be cancelled; the secret key is not kept.
      if (end >= 8) st.cmdText.setDigits(u32(b, 4))
      st.phase = Phase.Idle
      return
    }
    this.begin(PG_STARTUP)
    st.phase = Phase.Sent
    this.s.startup = false
    // Parameters: name NUL value NUL … NUL.
    let i = 4
    while (i < end && b[i] !== 0) {
      const z1 = nul(b, i, end)
      if (z1 < 0) return
      const z2 = nul(b, z1 + 1, end)
      if (z2 < 0) return
      const slot = paramSlot(st, b, i, z1 - i)
      if (slot) slot.set(b, z1 + 1, z2 - z1 - 1)
      i = z2 + 1
    }
  }

  private typed(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    const s = this.s
    const t = this.head[0]
    switch (t) {
      case 0x51: {
        // Query: the SQL text, NUL-terminated.
        this.begin(t)
        const z = nul(b, 0, end)
        st.cmdText.set(b, 0, z < 0 ? end : z, this.bodyLen - 1)
        break
      }
      case 0x50: {
        // Parse: statement name, query, parameter types.
        const z1 = nul(b, 0, end)
        if (z1 < 0) break
        const z2 = nul(b, z1 + 1, end)
        const qEnd = z2 < 0 ? end : z2
        const total = z2 < 0 ? this.bodyLen - z1 - 1 : z2 - z1 - 1
        s.prepared.addByName(b, 0, z1, z1 + 1, qEnd - z1 - 1, total)
        this.begin(t)
        st.cmdText.set(b, z1 + 1, qEnd - z1 - 1, total)
        st.cmdStatement.set(b, 0, z1)
        s.batchRecorded = true
        break
      }
      case 0x42: {
        // Bind: portal, statement. Names the query when the statement was prepared earlier.
        if (s.batchRecorded) break
        const z1 = nul(b, 0, end)
        if (z1 < 0) break
        const z2 = nul(b, z1 + 1, end)
        if (z2 < 0) break
        this.begin(t)
        st.cmdStatement.set(b, z1 + 1, z2 - z1 - 1)
        const q = s.prepared.byName(b, z1 + 1, z2 - z1 - 1)
        if (q) {
          st.cmdText.copyFrom(q)
          st.cmdTextFromPrepare = true
        }
        s.batchRecorded = true
        break
      }
      case 0x45:
        if (!s.batchRecorded) {
          this.begin(t)
          s.batchRecorded = true
        }
        break
      case 0x53: // Sync ends a batch
        s.batchRecorded = false
        break
      case 0x46: // FunctionCall: the function's OID
        this.begin(t)
        if (end >= 4) st.cmdText.setDigits(u32(b, 0))
        break
      case 0x58: // Terminate
        this.begin(t)
        st.phase = Phase.Idle
        return
      case 0x70: // password / SASL response: recorded by kind only, the content is a credential
        this.begin(t)
        break
    }
    if (t !== 0x64 && t !== 0x63 && st.phase === Phase.Idle) st.phase = Phase.Sent
  }
}

function paramSlot(st: AppState, b: Uint8Array, off: number, len: number) {
  if (eq(b, off, len, 'user')) return st.user
  if (eq(b, off, len, 'database')) return st.database
  if (eq(b, off, len, 'application_name')) return st.application
  return null
}

function eq(b: Uint8Array, off: number, len: number, ascii: string): boolean {
  if (len !== ascii.length) return false
  for (let i = 0; i < len; i++) if (b[off + i] !== ascii.charCodeAt(i)) return false
  return true
}

export class PgServer extends Framer {
  constructor(
    st: AppState,
    private readonly s: PgSession,
  ) {
    super(st, 384, SERVER_SIDE)
    s.server = this
  }

  protected headerSize(first: number): number {
    // The answer to SSLRequest/GSSENCRequest is one bare byte ('S', 'G' or 'N'); an old server
    // may instead send a normal ErrorResponse.
    return this.s.awaitingAnswer && first !== 0x45 ? 1 : 5
  }

  protected bodyLength(): number {
    if (this.headNeed === 1) return 0
    const t = this.head[0]
    const l = u32(this.head, 1)
    if (t >= 128 || !BACKEND[t] || l < 4) return -1
    return l - 4
  }

  protected plausibleStart(d: Uint8Array, off: number, len: number): boolean {
    return typedChainFits(d, off, len, BACKEND)
  }

  /** Only BackendKeyData, ParameterStatus and ErrorResponse are read: DataRow & co. are not copied. */
  protected override keepFor(_first: number): number {
    const t = this.head[0]
    return this.headNeed === 5 && (t === 0x4b || t === 0x53 || t === 0x45) ? this.capacity : 0
  }

  protected override onHeader(): void {
    if (this.st.phase === Phase.Sent && this.headNeed === 5) this.st.phase = Phase.Answering
  }

  protected message(): void {
    const st = this.st
    const s = this.s
    if (this.headNeed === 1) {
      s.awaitingAnswer = false
      const a = this.head[0]
      st.phase = Phase.Idle
      if (a === 0x53) s.stopBoth(Opaque.Tls)
      else if (a === 0x47) s.stopBoth(Opaque.GssEnc)
      return
    }
    s.awaitingAnswer = false
    const b = this.body
    const end = this.bodyKept
    switch (this.head[0]) {
      case 0x5a: // ReadyForQuery
        st.phase = Phase.Idle
        break
      case 0x4b: // BackendKeyData: PID + secret key (the key is not kept)
        if (end >= 4) st.sessionId = u32(b, 0)
        break
      case 0x53: {
        // ParameterStatus: name NUL value NUL
        const z1 = nul(b, 0, end)
        if (z1 < 0) break
        const z2 = nul(b, z1 + 1, end)
        if (z2 < 0) break
        if (eq(b, 0, z1, 'server_version')) st.serverVersion.set(b, z1 + 1, z2 - z1 - 1)
        else if (eq(b, 0, z1, 'application_name') && st.application.length === 0)
          st.application.set(b, z1 + 1, z2 - z1 - 1)
        break
      }
      case 0x45:
        this.error()
        break
    }
  }

  /** ErrorResponse: (field type, NUL-terminated value)* 0. */
  private error(): void {
    const b = this.body
    const end = this.bodyKept
    const st = this.st
    st.errNumber = 0
    st.errState.clear()
    st.errSeverity.clear()
    st.errMessage.clear()
    let haveV = false
    let i = 0
    while (i < end && b[i] !== 0) {
      const f = b[i]
      const z = nul(b, i + 1, end)
      const vEnd = z < 0 ? end : z
      const vLen = vEnd - i - 1
      if (f === 0x43) st.errState.set(b, i + 1, vLen)
      else if (f === 0x4d) st.errMessage.set(b, i + 1, vLen, z < 0 ? this.bodyLen - i - 1 : vLen)
      // 'V' (9.6+) is never translated; 'S' may be, so 'V' wins when both are present.
      else if (f === 0x56) {
        st.errSeverity.set(b, i + 1, vLen)
        haveV = true
      } else if (f === 0x53 && !haveV) st.errSeverity.set(b, i + 1, vLen)
      if (z < 0) break
      i = z + 1
    }
    st.recordError(this.msgFrame, this.msgTime)
  }
}
