/**
 * What the user saw when the connection broke, in the client's own words, so a finding can say
 * "this is the RST behind your `Lost connection to server during query`". Each text says where
 * it comes from and whether it was reproduced (see `how`): lines marked "measured" were printed
 * by the client installed here (mariadb 15.1 / libmariadb 10.11.19, psql / libpq 15.18) against
 * a throwaway server on 127.0.0.1, with a loopback proxy causing the break.
 */

export type BreakKind =
  /** RST after the client sent a command, before (or during) the answer. */
  | 'reset-during-query'
  /** RST in reply to the first client packet after the connection sat idle (LVS entry expired). */
  | 'reset-idle'
  /** FIN from the server side (server process ended it, idle timeout), then the client's next command. */
  | 'server-closed'
  /** The client retransmits and nothing answers (real server gone, expire_nodest_conn=0). */
  | 'blackhole'
  /** The client's next command on the dead connection, where the client reconnects by itself. */
  | 'reconnect'
  /** A new connection is refused (RST to SYN). */
  | 'connect-refused'

export type ClientProgram = 'mariadb' | 'mysql' | 'psql'

export interface SymptomInput {
  protocol: 'mysql' | 'postgresql'
  kind: BreakKind
  /** Session was TLS-encrypted (changes libpq's wording). */
  tls?: boolean
  /** Interactive session (prompt) rather than `-e` / `-c` / script. Default false. */
  interactive?: boolean
  /** The server's last error, when it sent one just before closing (MySQL ERR / PostgreSQL FATAL). */
  serverError?: {code: string; sqlState: string | null; severity: string | null; message: string} | null
}

export interface Symptom {
  client: ClientProgram
  /** Exactly what the client prints (lines joined with "\n"; `%line` / `%host` / `%id` are placeholders). */
  text: string
  /** Where the string comes from in the client's source. */
  source: string
  /** "measured …" when reproduced here, "source" when taken from the client's code only. */
  how: string
}

const MEASURED_MARIADB = 'measured: mariadb 15.1 (libmariadb 10.11.19), loopback'
const MEASURED_PSQL = 'measured: psql/libpq 15.18, loopback'
const LIBMARIADB = 'libmariadb ma_errmsg.c client_errors[]'
const LIBMYSQL = 'mysql-server libmysql/errmsg.cc (Oracle client)'
const LIBPQ_READ = 'libpq fe-secure.c pqsecure_raw_read (EPIPE/ECONNRESET)'
const LIBPQ_TLS = 'libpq fe-secure-openssl.c pgtls_read (SSL_ERROR_SYSCALL)'

export const PSQL_CLOSED =
  'server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.'

/** The error line a MySQL client prints for an error number, as `mysql`/`mariadb` format it. */
export function mysqlErrorLine(code: string, sqlState: string | null, message: string, atLine = false): string {
  return `ERROR ${code} (${sqlState ?? 'HY000'})${atLine ? ' at line %line' : ''}: ${message}`
}

/**
 * The messages the user most likely saw, most likely first. Nothing here is derived from packet
 * bytes except `serverError`, which the caller took from `AppStream.snapshot()` (already escaped).
 */
export function userSymptoms(input: SymptomInput): Symptom[] {
  return input.protocol === 'mysql' ? mysql(input) : postgres(input)
}

function mysql(i: SymptomInput): Symptom[] {
  const batch = !i.interactive
  const out: Symptom[] = []
  const lost = (client: ClientProgram): Symptom =>
    client === 'mariadb'
      ? {client, text: mysqlErrorLine('2013', 'HY000', 'Lost connection to server during query', batch), source: `${LIBMARIADB} 2013 CR_SERVER_LOST`, how: MEASURED_MARIADB}
      : {client, text: mysqlErrorLine('2013', 'HY000', 'Lost connection to MySQL server during query', batch), source: `${LIBMYSQL} 2013 CR_SERVER_LOST`, how: 'source'}
  const gone = (client: ClientProgram): Symptom =>
    client === 'mariadb'
      ? {client, text: mysqlErrorLine('2006', 'HY000', 'Server has gone away', batch), source: `${LIBMARIADB} 2006 CR_SERVER_GONE_ERROR`, how: MEASURED_MARIADB}
      : {client, text: mysqlErrorLine('2006', 'HY000', 'MySQL server has gone away', batch), source: `${LIBMYSQL} 2006 CR_SERVER_GONE_ERROR`, how: 'source'}
  // A server that says why before closing (MySQL 8.0.24+ ER_CLIENT_INTERACTION_TIMEOUT 4031, a
  // KILL, a shutdown) has that error printed instead of the generic one.
  if (i.serverError && i.kind === 'server-closed') {
    const e = i.serverError
    out.push({client: 'mysql', text: mysqlErrorLine(e.code, e.sqlState, e.message, batch), source: 'the ERR packet in the capture', how: 'capture'})
  }
  switch (i.kind) {
    case 'reset-during-query':
    case 'reset-idle':
    case 'server-closed':
      // Measured: RST in reply to the command, RST mid-query, FIN before or during the command
      // all give 2013 with the MariaDB client (the write succeeds, the read fails). Oracle's
      // client prints 2006 instead when it notices the dead socket before sending.
      out.push(lost('mariadb'), lost('mysql'))
      if (i.kind === 'server-closed') out.push(gone('mysql'))
      break
    case 'reconnect':
      out.push({
        client: 'mariadb',
        text: `${mysqlErrorLine('2006', 'HY000', 'Server has gone away')}\nNo connection. Trying to reconnect...\nConnection id:    %id\nCurrent database: %db`,
        source: `${LIBMARIADB} 2006; client/mysql.cc reconnect`,
        how: `${MEASURED_MARIADB} (interactive, the command after a 2013; the command is then re-run)`,
      })
      out.push(gone('mysql'))
      break
    case 'blackhole':
      out.push({
        client: 'mariadb',
        text: '',
        source: 'no read timeout in the mariadb/mysql CLI',
        how: `${MEASURED_MARIADB}: no output for 11 s of drops; the kernel gives up after tcp_retries2 (~15 min), then 2013`,
      })
      out.push(lost('mariadb'), lost('mysql'))
      break
    case 'connect-refused':
      out.push({client: 'mariadb', text: "ERROR 2002 (HY000): Can't connect to server on '%host' (115)", source: `${LIBMARIADB} "Can't connect to server on"`, how: MEASURED_MARIADB})
      out.push({client: 'mysql', text: "ERROR 2003 (HY000): Can't connect to MySQL server on '%host:%port' (111)", source: `${LIBMYSQL} 2003 CR_CONN_HOST_ERROR`, how: 'source'})
      break
  }
  return out
}

function postgres(i: SymptomInput): Symptom[] {
  const tail = i.interactive
    ? 'The connection to the server was lost. Attempting reset: Succeeded.'
    : 'connection to server was lost'
  const tailSrc = 'psql common.c CheckConnection'
  const out: Symptom[] = []
  const fatal =
    i.serverError && (i.serverError.severity === 'FATAL' || i.serverError.severity === 'PANIC')
      ? `${i.serverError.severity}:  ${i.serverError.message}\n`
      : ''
  switch (i.kind) {
    case 'reset-during-query':
    case 'reset-idle':
    case 'reconnect':
      if (i.tls) {
        // Measured: libpq reports the reset twice on a TLS connection.
        out.push({client: 'psql', text: `${fatal}${PSQL_CLOSED}\n${PSQL_CLOSED}\n${tail}`, source: `${LIBPQ_TLS}; ${tailSrc}`, how: MEASURED_PSQL})
      } else {
        out.push({client: 'psql', text: `${fatal}${PSQL_CLOSED}\n${tail}`, source: `${LIBPQ_READ}; ${tailSrc}`, how: MEASURED_PSQL})
      }
      break
    case 'server-closed':
      if (i.tls) {
        out.push({client: 'psql', text: `${fatal}SSL SYSCALL error: EOF detected\n${tail}`, source: `${LIBPQ_TLS}; ${tailSrc}`, how: `${MEASURED_PSQL} (FIN without FATAL)`})
        if (fatal) out.push({client: 'psql', text: `${fatal}SSL connection has been closed unexpectedly\n${tail}`, source: `${LIBPQ_TLS} (SSL_ERROR_ZERO_RETURN)`, how: `${MEASURED_PSQL} (pg_terminate_backend)`})
      } else {
        out.push({client: 'psql', text: `${fatal}${PSQL_CLOSED}\n${tail}`, source: `${LIBPQ_READ} / pqReadData EOF; ${tailSrc}`, how: MEASURED_PSQL})
      }
      break
    case 'blackhole':
      out.push({
        client: 'psql',
        text: `could not receive data from server: Connection timed out\n${tail}`,
        source: `${LIBPQ_READ} default case (ETIMEDOUT)`,
        how: `${MEASURED_PSQL} with tcp_user_timeout=3000; without it the query hangs until tcp_retries2 (~15 min)`,
      })
      // Not reproducible on Linux libpq ≥ 9 (ECONNRESET is mapped to the text above); clients
      // built where the errno is not mapped print the errno text instead.
      out.push({client: 'psql', text: `could not receive data from server: Connection reset by peer\n${tail}`, source: `${LIBPQ_READ} default case`, how: 'source (not produced by libpq 15 on Linux)'})
      break
    case 'connect-refused':
      out.push({
        client: 'psql',
        text: 'psql: error: connection to server at "%host", port %port failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
        source: 'libpq fe-connect.c connectFailureMessage',
        how: MEASURED_PSQL,
      })
      break
  }
  return out
}
