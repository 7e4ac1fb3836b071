/**
 * Per-connection application tracker: fed each TCP segment's payload of one flow in capture
 * order, it finds out whether the connection speaks MySQL or PostgreSQL (by content; the port is
 * only a hint for connections whose start was not captured), frames both directions, and keeps
 * the bounded state a finding needs (`AppState`). Segments are deduplicated by sequence number,
 * so a retransmission or the second copy of a DR-forwarded packet is never parsed twice; after a
 * gap the framer waits for a segment that starts a message, and gives up politely if none does.
 *
 * Cheap enough for every database flow: a new stream allocates no buffers (they come when a slot is
 * first written or a message straddles segments), `reset()` recycles one stream with everything it
 * allocated for the next flow of a flow-table slot, and an in-order segment inside a message body
 * that is not kept (a large row, COPY data) costs a few comparisons.
 */
import type {Framer} from './framer.js'
import {
  looksLikeGreeting,
  looksLikeGreetingError,
  MySqlClient,
  mysqlCommandName,
  MySqlServer,
  MySqlSession,
  chainFits,
} from './mysql.js'
import {looksLikeStartup, PgClient, pgCommandName, PgServer, PgSession} from './postgres.js'
import {AppProto, AppState, Opaque, Phase} from './state.js'

/** Direction of a segment: from the connection's initiator (client) or from the server. */
export const Dir = {ClientToServer: 0, ServerToClient: 1} as const
export type Dir = (typeof Dir)[keyof typeof Dir]

/** Ports that hint a protocol when the connection's start was not captured. */
export const MYSQL_PORTS: readonly number[] = [3306, 3307, 3308, 4000, 4406, 6033, 6446, 6447]
export const POSTGRES_PORTS: readonly number[] = [5432, 5433, 5434, 6432]

/** Payload segments looked at, per connection, before deciding it is neither protocol. */
const DETECT_SEGMENTS = 8

export interface AppCommand {
  /** Protocol name of the command: "COM_QUERY", "COM_PING", "Query", "Parse", "StartupMessage" … */
  kind: string
  /** Query text (or schema, table, PID …), terminal-safe, whitespace collapsed, ≤ 200 chars; null if none. */
  text: string | null
  /** Prepared statement it ran (MySQL id, PostgreSQL name; "" = unnamed), null if none. */
  statement: string | null
  /** The text was taken from the earlier prepare of `statement`. */
  textFromPrepare: boolean
  /** False when the break cut the command off while it was being sent. */
  complete: boolean
  frame: number
  time: number
  /** Quiet time on the connection before it (in the caller's time unit); null if it came first. */
  idleBefore: number | null
}

export interface AppServerError {
  /** MySQL error number as text ("1146"); the SQLSTATE for PostgreSQL ("42P01"). */
  code: string
  /** SQLSTATE ("42S02"), null when the packet had none (MySQL pre-4.1 / pre-handshake). */
  sqlState: string | null
  /** PostgreSQL severity ("ERROR", "FATAL"); null for MySQL. */
  severity: string | null
  message: string
  frame: number
  time: number
}

export interface AppContext {
  protocol: 'mysql' | 'postgresql' | null
  /** Decoding stopped here because the rest is encrypted or compressed. */
  opaque: 'tls' | 'gssapi' | 'compressed' | null
  serverVersion: string | null
  user: string | null
  database: string | null
  application: string | null
  /** MySQL connection id / PostgreSQL backend PID (as in the server's logs and process list). */
  sessionId: number | null
  lastCommand: AppCommand | null
  lastError: AppServerError | null
  /** At the last segment: 'reply' = a command was sent and nothing came back yet; 'rest' = mid-answer. */
  awaiting: 'none' | 'reply' | 'rest'
  commands: number
  errors: number
  /** Segments ignored as already seen, holes in the byte stream, successful resyncs, nonsense headers. */
  duplicates: number
  gaps: number
  resyncs: number
  malformed: number
}

class DirSeq {
  known = false
  next = 0
  /** The ISN is known and no payload has been consumed yet: the next byte starts a message. */
  atStart = false

  reset(): void {
    this.known = false
    this.next = 0
    this.atStart = false
  }
}

export class AppStream {
  readonly state = new AppState()
  private client: Framer | null = null
  private server: Framer | null = null
  private readonly seqs = [new DirSeq(), new DirSeq()]
  private looked = 0
  duplicates = 0
  gaps = 0
  resyncs = 0
  // Protocol machinery made on first recognition and kept across reset() for the next flow.
  private mySession: MySqlSession | null = null
  private myClient: MySqlClient | null = null
  private myServer: MySqlServer | null = null
  private pgSession: PgSession | null = null
  private pgClient: PgClient | null = null
  private pgServer: PgServer | null = null

  /** @param serverPort the connection's server port: a hint only, used when the start was not seen. */
  constructor(private serverPort: number) {}

  /**
   * Start over for a new connection, exactly as `new AppStream(serverPort)` would, but keeping the
   * buffers and protocol objects this one already allocated (a recycled flow-table slot).
   * Earlier `snapshot()` results are unaffected: they hold strings only.
   */
  reset(serverPort: number): void {
    this.serverPort = serverPort
    this.state.reset()
    this.client = null
    this.server = null
    this.seqs[0].reset()
    this.seqs[1].reset()
    this.looked = 0
    this.duplicates = 0
    this.gaps = 0
    this.resyncs = 0
  }

  get protocol(): AppProto {
    return this.state.proto
  }

  /** A SYN (or SYN/ACK) from `dir` with this ISN: that direction's payload starts at a message. */
  syn(dir: Dir, isn: number): void {
    const q = this.seqs[dir]
    if (q.known) return // a retransmitted SYN, or one after payload: nothing to restart
    q.known = true
    q.next = (isn + 1) >>> 0
    q.atStart = true
  }

  /** One TCP segment's payload `data[off..off+len)` (len = bytes captured), in capture order. */
  segment(dir: Dir, data: Uint8Array, off: number, len: number, seq: number, frame: number, time: number): void {
    if (len <= 0 || this.state.proto === AppProto.None) return
    const q = this.seqs[dir]
    const f = dir === Dir.ClientToServer ? this.client : this.server
    // The common case (the bulk of a large answer): in order and inside a body that is not kept.
    if (f !== null && q.known && ((seq - q.next) | 0) === 0 && f.skipInside(len)) {
      q.atStart = false
      q.next = (seq + len) >>> 0
      this.state.lastActivity = time
      return
    }
    let skip = 0
    let gap = false
    let start = false
    if (!q.known) {
      q.known = true
      // Unknown position in the stream: usable only if the segment itself looks like a start.
      gap = true
    } else {
      const diff = (seq - q.next) | 0
      if (diff < 0) {
        if (diff + len <= 0) {
          this.duplicates++
          return
        }
        skip = -diff
      } else if (diff > 0) {
        gap = true
        this.gaps++
      }
      start = q.atStart && diff === 0
    }
    q.atStart = false
    q.next = (seq + len) >>> 0
    const o = off + skip
    const n = len - skip
    if (this.state.proto === AppProto.Unknown) this.detect(dir, data, o, n, start)
    // detect() may just have made the framers
    const g = dir === Dir.ClientToServer ? this.client : this.server
    if (g && !g.stopped) {
      if (gap && g.synced) g.desync()
      if (!g.synced && g.resync(data, o, n)) this.resyncs++
      g.push(data, o, n, frame, time)
    }
    this.state.lastActivity = time
  }

  private detect(dir: Dir, d: Uint8Array, off: number, len: number, start: boolean): void {
    const st = this.state
    if (dir === Dir.ServerToClient && (looksLikeGreeting(d, off, len) || looksLikeGreetingError(d, off, len))) {
      this.mysql(true)
    } else if (dir === Dir.ClientToServer && looksLikeStartup(d, off, len)) {
      this.postgres(true)
    } else if (dir === Dir.ClientToServer && start && d[off] === 0x16 && len >= 3 && d[off + 1] === 0x03) {
      // A TLS ClientHello as the very first bytes (PostgreSQL 17 direct SSL, or a TLS proxy).
      st.proto = POSTGRES_PORTS.includes(this.serverPort) ? AppProto.Postgres : AppProto.None
      st.opaque = Opaque.Tls
    } else if (dir === Dir.ClientToServer && !start && MYSQL_PORTS.includes(this.serverPort)) {
      // Capture began mid-connection: a command packet (sequence 0) is recognisable on its own.
      if (len >= 5 && d[off + 3] === 0 && chainFits(d, off, len)) this.mysql(false)
    } else if (dir === Dir.ClientToServer && !start && POSTGRES_PORTS.includes(this.serverPort)) {
      const s = this.postgres(false)
      s.startup = false
      if (!this.client?.resync(d, off, len)) this.abandonDetection()
    }
    if (st.proto === AppProto.Unknown && ++this.looked >= DETECT_SEGMENTS) st.proto = AppProto.None
  }

  private abandonDetection(): void {
    this.client = null
    this.server = null
    this.state.proto = AppProto.Unknown
  }

  private mysql(fromStart: boolean): void {
    let s = this.mySession
    if (s === null || this.myClient === null || this.myServer === null) {
      s = this.mySession = new MySqlSession()
      this.myClient = new MySqlClient(this.state, s)
      this.myServer = new MySqlServer(this.state, s)
    } else {
      s.reset()
      this.myClient.reset()
      this.myServer.reset()
    }
    this.state.proto = AppProto.MySQL
    this.client = this.myClient
    this.server = this.myServer
    if (!fromStart) {
      s.startInCommandPhase()
      this.server.desync()
      this.client.desync()
    }
  }

  private postgres(fromStart: boolean): PgSession {
    let s = this.pgSession
    if (s === null || this.pgClient === null || this.pgServer === null) {
      s = this.pgSession = new PgSession()
      this.pgClient = new PgClient(this.state, s)
      this.pgServer = new PgServer(this.state, s)
    } else {
      s.reset()
      this.pgClient.reset()
      this.pgServer.reset()
    }
    this.state.proto = AppProto.Postgres
    this.client = this.pgClient
    this.server = this.pgServer
    if (!fromStart) {
      this.server.desync()
      this.client.desync()
    }
    return s
  }

  /** Everything known about the connection, as terminal-safe strings. Allocates; call per finding. */
  snapshot(): AppContext {
    const st = this.state
    this.client?.notePartial()
    const my = st.proto === AppProto.MySQL
    const opt = (s: {length: number; text(max?: number): string}) => (s.length > 0 ? s.text(200) : null)
    let lastCommand: AppCommand | null = null
    if (st.cmdKind >= 0) {
      lastCommand = {
        kind: my ? mysqlCommandName(st.cmdKind) : pgCommandName(st.cmdKind),
        text: st.cmdText.length > 0 ? st.cmdText.text(200, true) : null,
        statement: st.cmdStatement.sourceLength > 0 || (!my && st.cmdKind === 0x50) ? st.cmdStatement.text(64) : null,
        textFromPrepare: st.cmdTextFromPrepare,
        complete: st.cmdComplete,
        frame: st.cmdFrame,
        time: st.cmdTime,
        idleBefore: st.cmdIdleBefore < 0 ? null : st.cmdIdleBefore,
      }
    }
    let lastError: AppServerError | null = null
    if (st.errSet) {
      const state = opt(st.errState)
      lastError = {
        code: my ? String(st.errNumber) : (state ?? ''),
        sqlState: state,
        severity: opt(st.errSeverity),
        message: st.errMessage.text(200),
        frame: st.errFrame,
        time: st.errTime,
      }
    }
    return {
      protocol: my ? 'mysql' : st.proto === AppProto.Postgres ? 'postgresql' : null,
      opaque: st.opaque === Opaque.Tls ? 'tls' : st.opaque === Opaque.GssEnc ? 'gssapi' : st.opaque === Opaque.Compressed ? 'compressed' : null,
      serverVersion: opt(st.serverVersion),
      user: opt(st.user),
      database: opt(st.database),
      application: opt(st.application),
      sessionId: st.sessionId < 0 ? null : st.sessionId,
      lastCommand,
      lastError,
      awaiting: st.phase === Phase.Sent ? 'reply' : st.phase === Phase.Answering ? 'rest' : 'none',
      commands: st.commands,
      errors: st.errors,
      duplicates: this.duplicates,
      gaps: this.gaps,
      resyncs: this.resyncs,
      malformed: st.malformed,
    }
  }
}
