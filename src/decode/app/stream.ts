/**
 * Per-connection application tracker: fed each TCP segment's payload of one flow in capture
 * order, it finds out whether the connection speaks MySQL or PostgreSQL (by content; the port is
 * only a hint for connections whose start was not captured), frames both directions, and keeps
 * the bounded state a finding needs (`AppState`). Segments are deduplicated by sequence number,
 * so a retransmission or the second copy of a DR-forwarded packet is never parsed twice; after a
 * gap the framer waits for a segment that starts a message, and gives up politely if none does.
 *
 * Cheap enough for every database flow: a connection is one fixed record of flat memory (records.ts),
 * reused by the next connection once it closes, and an in-order segment inside a message body that is
 * not kept (a large row, COPY data) costs a few comparisons.
 */
import type {Framer} from './framer.js'
import type {Session} from './session.js'
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
import * as R from './records.js'
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

/**
 * The protocol trackers of many connections: each open connection is a record number (`open`), its state one
 * record of flat memory (records.ts), and one set of tracker objects serves them all, viewing the record of
 * the connection being fed. Memory follows the connections open at once; a closed record is reused.
 */
export class AppConnections {
  private readonly r: R.AppRecords
  private readonly state: AppState
  /** Each protocol's session, client framer and server framer. */
  private readonly mysql: readonly [MySqlSession, MySqlClient, MySqlServer]
  private readonly postgres: readonly [PgSession, PgClient, PgServer]
  private readonly free: number[] = []
  private used = 0

  /** `chunkShift`: the pool grows by 2^chunkShift records at a time (0 for a pool of one connection). */
  constructor(chunkShift = R.POOL_CHUNK_SHIFT) {
    this.r = new R.AppRecords(chunkShift)
    this.state = new AppState(this.r)
    this.mysql = trackers(new MySqlSession(this.state), MySqlClient, MySqlServer)
    this.postgres = trackers(new PgSession(this.state), PgClient, PgServer)
  }

  /** Start tracking a connection whose server port is `serverPort` (a hint only, used when the start was not seen). */
  open(serverPort: number): number {
    let rec = this.free.pop()
    if (rec === undefined) {
      rec = this.used++
      this.r.ensure(this.used)
    }
    this.reset(rec, serverPort)
    return rec
  }

  /** The connection is over: its record goes to the next one opened. */
  close(rec: number): void {
    this.free.push(rec)
  }

  /** Start `rec` over as a new connection (as `open` gives it). */
  reset(rec: number, serverPort: number): void {
    const r = this.r
    r.bind(rec)
    // No framers yet: their words and the session's are set when a protocol is recognised (select).
    r.nums.fill(0, r.o, r.o + R.WORDS)
    r.nums[r.o + R.S_SERVER_PORT] = serverPort
    this.state.reset()
    r.clearPrepared()
  }

  protocol(rec: number): AppProto {
    this.r.bind(rec)
    return this.state.proto
  }

  /** A SYN (or SYN/ACK) from `dir` with this ISN: that direction's payload starts at a message. */
  syn(rec: number, dir: Dir, isn: number): void {
    const r = this.r
    r.bind(rec)
    const q = r.o + R.S_SEQ + 3 * dir
    const n = r.nums
    if (n[q] !== 0) return // a retransmitted SYN, or one after payload: nothing to restart
    n[q] = 1
    n[q + 1] = (isn + 1) >>> 0
    n[q + 2] = 1
  }

  private framer(dir: Dir): Framer | null {
    const which = this.r.nums[this.r.o + R.S_FRAMERS]
    if (which === R.FRAMERS_NONE) return null
    const t = which === R.FRAMERS_MYSQL ? this.mysql : this.postgres
    return dir === Dir.ClientToServer ? t[1] : t[2]
  }

  /** One TCP segment's payload `data[off..off+len)` (len = bytes captured), in capture order. */
  segment(rec: number, dir: Dir, data: Uint8Array, off: number, len: number, seq: number, frame: number, time: number): void {
    const r = this.r
    r.bind(rec)
    const n = r.nums
    if (len <= 0 || n[r.o + R.T_PROTO] === AppProto.None) return
    // Sequence tracking of this direction: known, next, atStart.
    const q = r.o + R.S_SEQ + 3 * dir
    const f = this.framer(dir)
    // The common case (the bulk of a large answer): in order and inside a body that is not kept.
    if (f !== null && n[q] !== 0 && ((seq - n[q + 1]) | 0) === 0 && f.skipInside(len)) {
      n[q + 2] = 0
      n[q + 1] = (seq + len) >>> 0
      n[r.o + R.T_LAST_ACTIVITY] = time
      return
    }
    let skip = 0
    let gap = false
    let start = false
    if (n[q] === 0) {
      n[q] = 1
      // Unknown position in the stream: usable only if the segment itself looks like a start.
      gap = true
    } else {
      const diff = (seq - n[q + 1]) | 0
      if (diff < 0) {
        if (diff + len <= 0) {
          n[r.o + R.S_DUPLICATES]++
          return
        }
        skip = -diff
      } else if (diff > 0) {
        gap = true
        n[r.o + R.S_GAPS]++
      }
      start = n[q + 2] !== 0 && diff === 0
    }
    n[q + 2] = 0
    n[q + 1] = (seq + len) >>> 0
    const o = off + skip
    const m = len - skip
    if (this.state.proto === AppProto.Unknown) this.detect(dir, data, o, m, start)
    // detect() may just have chosen the framers
    const g = this.framer(dir)
    if (g && !g.stopped) {
      if (gap && g.synced) g.desync()
      if (!g.synced && g.resync(data, o, m)) n[r.o + R.S_RESYNCS]++
      g.push(data, o, m, frame, time)
    }
    n[r.o + R.T_LAST_ACTIVITY] = time
  }

  private detect(dir: Dir, d: Uint8Array, off: number, len: number, start: boolean): void {
    const st = this.state
    const n = this.r.nums
    const o = this.r.o
    const port = n[o + R.S_SERVER_PORT]
    if (dir === Dir.ServerToClient && (looksLikeGreeting(d, off, len) || looksLikeGreetingError(d, off, len))) {
      this.select(R.FRAMERS_MYSQL, true)
    } else if (dir === Dir.ClientToServer && looksLikeStartup(d, off, len)) {
      this.select(R.FRAMERS_POSTGRES, true)
    } else if (dir === Dir.ClientToServer && start && d[off] === 0x16 && len >= 3 && d[off + 1] === 0x03) {
      // A TLS ClientHello as the very first bytes (PostgreSQL 17 direct SSL, or a TLS proxy).
      st.proto = POSTGRES_PORTS.includes(port) ? AppProto.Postgres : AppProto.None
      st.opaque = Opaque.Tls
    } else if (dir === Dir.ClientToServer && !start && MYSQL_PORTS.includes(port)) {
      // Capture began mid-connection: a command packet (sequence 0) is recognisable on its own.
      if (len >= 5 && d[off + 3] === 0 && chainFits(d, off, len)) {
        this.select(R.FRAMERS_MYSQL, false)
        this.mysql[0].startInCommandPhase()
      }
    } else if (dir === Dir.ClientToServer && !start && POSTGRES_PORTS.includes(port)) {
      this.select(R.FRAMERS_POSTGRES, false)
      this.postgres[0].startup = false
      if (!this.postgres[1].resync(d, off, len)) this.abandonDetection()
    }
    if (st.proto === AppProto.Unknown && ++n[o + R.S_LOOKED] >= DETECT_SEGMENTS) st.proto = AppProto.None
  }

  private abandonDetection(): void {
    this.r.nums[this.r.o + R.S_FRAMERS] = R.FRAMERS_NONE
    this.state.proto = AppProto.Unknown
  }

  /**
   * The connection speaks MySQL or PostgreSQL (`framers`): that protocol's session and framers start new, and
   * wait for a message boundary unless the connection's start was seen.
   */
  private select(framers: typeof R.FRAMERS_MYSQL | typeof R.FRAMERS_POSTGRES, fromStart: boolean): void {
    this.r.nums[this.r.o + R.S_FRAMERS] = framers
    const my = framers === R.FRAMERS_MYSQL
    this.state.proto = my ? AppProto.MySQL : AppProto.Postgres
    const [session, client, server] = my ? this.mysql : this.postgres
    session.reset()
    client.reset()
    server.reset()
    if (!fromStart) {
      server.desync()
      client.desync()
    }
  }

  /** Everything known about connection `rec`, as terminal-safe strings. Allocates; call per finding. */
  snapshot(rec: number): AppContext {
    const r = this.r
    r.bind(rec)
    const st = this.state
    this.framer(Dir.ClientToServer)?.notePartial()
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
      duplicates: r.nums[r.o + R.S_DUPLICATES],
      gaps: r.nums[r.o + R.S_GAPS],
      resyncs: r.nums[r.o + R.S_RESYNCS],
      malformed: st.malformed,
    }
  }
}

/** A session and the client and server framers that share it. */
function trackers<Ss extends Session<C, S>, C extends Framer, S extends Framer>(
  session: Ss,
  Client: new (st: AppState, s: Ss) => C,
  Server: new (st: AppState, s: Ss) => S,
): readonly [Ss, C, S] {
  return [session, new Client(session.st, session), new Server(session.st, session)]
}

/** One connection's tracker on its own (a pool of one): the tests' and one-off callers' view. */
export class AppStream {
  private readonly pool = new AppConnections(0)
  private readonly rec: number

  /** @param serverPort the connection's server port: a hint only, used when the start was not seen. */
  constructor(serverPort: number) {
    this.rec = this.pool.open(serverPort)
  }

  /** Start over for a new connection, exactly as `new AppStream(serverPort)` would, in the same memory. */
  reset(serverPort: number): void {
    this.pool.reset(this.rec, serverPort)
  }

  get protocol(): AppProto {
    return this.pool.protocol(this.rec)
  }

  syn(dir: Dir, isn: number): void {
    this.pool.syn(this.rec, dir, isn)
  }

  segment(dir: Dir, data: Uint8Array, off: number, len: number, seq: number, frame: number, time: number): void {
    this.pool.segment(this.rec, dir, data, off, len, seq, frame, time)
  }

  snapshot(): AppContext {
    return this.pool.snapshot(this.rec)
  }
}
