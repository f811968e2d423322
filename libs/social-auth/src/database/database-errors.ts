/**
 * Whether a thrown value means the database cannot be reached right now (server down or
 * restarting, connection refused, dropped or timed out, pool exhausted while connecting, database
 * gone), as opposed to a failure of the statement itself (constraint, syntax, deadlock), which
 * stays an internal error. Looks through TypeORM's `QueryFailedError.driverError`, `cause` and
 * `AggregateError.errors` (Node's happy-eyeballs connect). Pure: no I/O, no logging.
 *
 * Recognised, per driver:
 * - any: socket errors `ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `EPIPE`, `EHOSTUNREACH`,
 *   `ENETUNREACH`, `ENOTFOUND`, `EAI_AGAIN`, `ECONNABORTED`;
 * - pg: SQLSTATE class 08 (connection exception), `57P01`–`57P03` (admin/crash shutdown, cannot
 *   connect now), `53300` (too many connections), `3D000` (database does not exist); pg's and
 *   pg-pool's messages without a code (`Connection terminated …`, `timeout exceeded when trying to
 *   connect`, `… not queryable`);
 * - mysql2: `fatal` errors without a code (a command on a closed connection), `PROTOCOL_CONNECTION_LOST`,
 *   `PROTOCOL_SEQUENCE_TIMEOUT`, `ER_CON_COUNT_ERROR`, `ER_SERVER_SHUTDOWN`, `ER_BAD_DB_ERROR`,
 *   `ER_CONNECTION_KILLED`, `ER_NORMAL_SHUTDOWN`, `ER_SHUTDOWN_COMPLETE`;
 * - better-sqlite3: `SQLITE_BUSY*`, `SQLITE_LOCKED*` (another process holds the file past the busy
 *   timeout), `SQLITE_CANTOPEN*`, `SQLITE_IOERR*`.
 * @internal
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return someInChain(error, (e) => {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined && (SOCKET_CODES.has(code) || SERVER_CODES.has(code))) return true;
    if (code !== undefined && /^08[0-9A-Z]{3}$/.test(code)) return true;
    if (code !== undefined && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR)(_|$)/.test(code)) return true;
    // mysql2 marks errors after which its connection is unusable as fatal; a coded one (access
    // denied at the handshake, a protocol error) is judged by its code above, not by the flag.
    if (e.fatal === true && code === undefined) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    return code === undefined && PG_MESSAGES.some((pattern) => pattern.test(message));
  });
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

const SERVER_CODES = new Set([
  // PostgreSQL
  '57P01', '57P02', '57P03', '53300', '3D000',
  // MySQL / MariaDB (mysql2's names)
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_BAD_DB_ERROR',
  'ER_CONNECTION_KILLED', 'ER_NORMAL_SHUTDOWN', 'ER_SHUTDOWN_COMPLETE',
]);

/** pg and pg-pool raise these without a code. */
const PG_MESSAGES = [
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
];

interface ErrorLike {
  code?: unknown;
  fatal?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Walks the error, its driver error, its cause and aggregated errors (bounded, cycle-safe). */
function someInChain(error: unknown, test: (e: ErrorLike) => boolean): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 16) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as ErrorLike;
    if (test(e)) return true;
    queue.push(e.driverError, e.cause);
    if (Array.isArray(e.errors)) queue.push(...e.errors.slice(0, 4));
  }
  return false;
}
