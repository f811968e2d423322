import { QueryFailedError } from 'typeorm';
import { isDatabaseUnreachable } from './database-errors';

/** An error as a driver raises it: an Error with extra fields. */
function driverError(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

/** TypeORM's wrapper around a failed statement (it copies the driver error's fields too). */
function queryFailed(driver: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], driver);
}

describe('isDatabaseUnreachable: the database cannot be reached (503), or the statement failed (500)', () => {
  it.each<[string, unknown]>([
    // Any driver: the socket.
    ['connection refused', driverError('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' })],
    ['connection reset', driverError('read ECONNRESET', { code: 'ECONNRESET' })],
    ['connect timed out', driverError('connect ETIMEDOUT', { code: 'ETIMEDOUT' })],
    ['broken pipe', driverError('write EPIPE', { code: 'EPIPE' })],
    ['host unreachable', driverError('connect EHOSTUNREACH', { code: 'EHOSTUNREACH' })],
    ['DNS failure', driverError('getaddrinfo ENOTFOUND db', { code: 'ENOTFOUND' })],
    ['happy-eyeballs AggregateError of refusals', Object.assign(new AggregateError([driverError('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED' })], ''), {})],
    // pg
    ['pg: server closed the connection', driverError('Connection terminated unexpectedly')],
    ['pg: connection timeout', driverError('Connection terminated due to connection timeout', { cause: driverError('Connection terminated') })],
    ['pg-pool: no connection within connectionTimeoutMillis', driverError('timeout exceeded when trying to connect')],
    ['pg: a client whose connection broke', driverError('Client has encountered a connection error and is not queryable')],
    ['pg: backend terminated (pg_terminate_backend, 57P01) inside a statement', queryFailed(driverError('terminating connection due to administrator command', { code: '57P01' }))],
    ['pg: crash shutdown 57P02', driverError('terminating connection because of crash of another server process', { code: '57P02' })],
    ['pg: starting up 57P03', driverError('the database system is starting up', { code: '57P03' })],
    ['pg: too many connections 53300', driverError('sorry, too many clients already', { code: '53300' })],
    ['pg: database dropped 3D000', driverError('database "app" does not exist', { code: '3D000' })],
    ['pg: connection failure 08006', driverError('connection failure', { code: '08006' })],
    ['pg: could not connect 08001', driverError('could not connect', { code: '08001' })],
    // mysql2 / MariaDB
    ['mysql2: connection lost', driverError('Connection lost: The server closed the connection.', { code: 'PROTOCOL_CONNECTION_LOST', fatal: true })],
    ['mysql2: command on a closed connection', driverError("Can't add new command when connection is in closed state", { fatal: true })],
    ['mysql2: handshake timed out', driverError('connect ETIMEDOUT', { code: 'ETIMEDOUT', fatal: true })],
    ['MariaDB: too many connections', driverError('Too many connections', { code: 'ER_CON_COUNT_ERROR', errno: 1040 })],
    ['MariaDB: server shutting down', queryFailed(driverError('Server shutdown in progress', { code: 'ER_SERVER_SHUTDOWN', errno: 1053 }))],
    ['MariaDB: connection killed', driverError('Connection was killed', { code: 'ER_CONNECTION_KILLED', errno: 1927, fatal: true })],
    ['MariaDB: database dropped', driverError("Unknown database 'app'", { code: 'ER_BAD_DB_ERROR', errno: 1049 })],
    // better-sqlite3
    ['SQLite: busy past busy_timeout', queryFailed(driverError('database is locked', { code: 'SQLITE_BUSY' }))],
    ['SQLite: busy snapshot', driverError('database is locked', { code: 'SQLITE_BUSY_SNAPSHOT' })],
    ['SQLite: table locked', driverError('database table is locked', { code: 'SQLITE_LOCKED' })],
    ['SQLite: cannot open the file', driverError('unable to open database file', { code: 'SQLITE_CANTOPEN' })],
    ['SQLite: disk I/O error', driverError('disk I/O error', { code: 'SQLITE_IOERR_WRITE' })],
  ])('unreachable: %s', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['pg: unique violation', queryFailed(driverError('duplicate key value violates unique constraint', { code: '23505' }))],
    ['pg: syntax error', queryFailed(driverError('syntax error at or near "SELEC"', { code: '42601' }))],
    ['pg: deadlock', queryFailed(driverError('deadlock detected', { code: '40P01' }))],
    ['pg: serialization failure', driverError('could not serialize access', { code: '40001' })],
    ['pg: statement timeout (57014: load, not an outage)', driverError('canceling statement due to statement timeout', { code: '57014' })],
    ['pg: a client the app closed itself', driverError('Client was closed and is not queryable')],
    ['pg-pool: used after end()', driverError('Cannot use a pool after calling end on the pool')],
    ['mysql2: duplicate entry', queryFailed(driverError("Duplicate entry 'x' for key 'PRIMARY'", { code: 'ER_DUP_ENTRY', errno: 1062 }))],
    ['mysql2: deadlock', driverError('Deadlock found', { code: 'ER_LOCK_DEADLOCK', errno: 1213 })],
    ['mysql2: lock wait timeout', driverError('Lock wait timeout exceeded', { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 })],
    ['mysql2: access denied at the handshake (fatal, but a configuration error)', driverError("Access denied for user 'app'", { code: 'ER_ACCESS_DENIED_ERROR', fatal: true })],
    ['mysql2: the app closed its pool', driverError('Pool is closed.')],
    ['SQLite: constraint', driverError('UNIQUE constraint failed', { code: 'SQLITE_CONSTRAINT_UNIQUE' })],
    ['SQLite: no such table', driverError('no such table: auth_sessions', { code: 'SQLITE_ERROR' })],
    ['SQLite: corrupt file', driverError('database disk image is malformed', { code: 'SQLITE_CORRUPT' })],
    ['a plain Error', new Error('boom')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['an Error whose message only mentions a refusal', new Error('upstream said ECONNREFUSED')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    ['undefined', undefined],
    ['a cycle of causes', (() => { const a = new Error('a'); a.cause = new Error('b', { cause: a }); return a; })()],
  ])('not unreachable: %s', (_name, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
  });
});
