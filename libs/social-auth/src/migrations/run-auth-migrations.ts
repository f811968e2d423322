import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, Migration, MigrationExecutor, QueryRunner } from 'typeorm';
import { AuthSetupError } from '../errors/auth.error';

/** Options of {@link runAuthMigrations}. @publicApi */
export interface AuthMigrationRunOptions {
  /**
   * Milliseconds to wait for the lock while another instance migrates; past it the call throws
   * an {@link AuthSetupError} (nothing was run by this instance).
   * @default 120000
   */
  lockTimeout?: number;
  /**
   * TypeORM's transaction mode for the run: one transaction per migration, all in one, or none.
   * @default 'each'
   */
  transaction?: 'all' | 'each' | 'none';
  /**
   * Name of the database lock. Instances that migrate the same database must use the same name.
   * @default 'nest_social_auth_migrations'
   */
  lockName?: string;
}

/** Polling interval of the PostgreSQL lock (MariaDB's `GET_LOCK` waits on the server). */
const POLL_MS = 100;

/**
 * Runs the DataSource's pending migrations (its `migrations` list: `AUTH_MIGRATIONS` and the host's
 * own) while holding a database lock, so any number of instances may start at once on a fresh
 * database: one migrates, the others wait for the lock, then find nothing left to run and go on.
 * TypeORM's own `runMigrations` and `migrationsRun: true` take no lock; two instances starting
 * together both create the same tables and one of them fails.
 *
 * Invariants:
 * - PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) keyed by `lockName`, per database.
 *   MariaDB/MySQL: `GET_LOCK(lockName + database)` (a server-wide name, so the database is part of
 *   it). Both are held by the one connection that runs the migrations and vanish with it, so an
 *   instance that dies while migrating never leaves the lock behind.
 * - SQLite: no lock. A SQLite file belongs to one process; instances that share a database use a
 *   database server.
 * - The lock is always released (or its connection closed) before this returns or throws.
 * @returns the migrations this call ran (empty when another instance had run them).
 * @throws {AuthSetupError} when the DataSource is not initialised, or the lock was not free within `lockTimeout`.
 * @example
 * const dataSource = await new DataSource({ ...options, migrations: AUTH_MIGRATIONS }).initialize();
 * await runAuthMigrations(dataSource);
 * @publicApi
 */
export async function runAuthMigrations(dataSource: DataSource, options: AuthMigrationRunOptions = {}): Promise<Migration[]> {
  const lockTimeout = options.lockTimeout ?? 120_000;
  const lockName = options.lockName ?? 'nest_social_auth_migrations';
  if (!dataSource.isInitialized) throw new AuthSetupError('runAuthMigrations: initialise the DataSource first (await dataSource.initialize()).');
  if (!Number.isFinite(lockTimeout) || lockTimeout < 0) throw new RangeError('runAuthMigrations: lockTimeout must be a number of milliseconds ≥ 0');
  const runner = dataSource.createQueryRunner();
  try {
    const lock = migrationLock(runner, lockName);
    if (lock && !(await lock.acquire(lockTimeout))) {
      throw new AuthSetupError(
        `runAuthMigrations: another instance held the migration lock "${lockName}" for more than ${Math.round(lockTimeout / 1000)} s; it may still be migrating (a long migration) or be stuck: check it, then start again.`,
      );
    }
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = options.transaction ?? 'each';
      return await executor.executePendingMigrations();
    } finally {
      // An unlock fails when its connection broke, and a broken connection holds no lock any more.
      await lock?.release().catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

interface MigrationLock {
  acquire(timeoutMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/** The lock of the runner's database, on the runner's own connection; undefined for SQLite. */
function migrationLock(runner: QueryRunner, lockName: string): MigrationLock | undefined {
  const type = runner.connection.options.type;
  if (type === 'postgres') {
    // Advisory locks are per database already; the key is 64 bits of the name's SHA-256.
    const key = BigInt.asIntN(64, BigInt(`0x${createHash('sha256').update(lockName).digest('hex').slice(0, 16)}`)).toString();
    return {
      acquire: async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const [row] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key])) as Array<{ locked: boolean }>;
          if (row?.locked === true) return true;
          if (Date.now() >= deadline) return false;
          await sleep(POLL_MS);
        }
      },
      release: async () => void (await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key])),
    };
  }
  if (type === 'mysql' || type === 'mariadb') {
    // GET_LOCK names are server-wide and at most 64 characters: the database goes in, hashed.
    const database = String((runner.connection.options as { database?: string }).database ?? '');
    const name = `${lockName.slice(0, 40)}:${createHash('sha256').update(database).digest('hex').slice(0, 16)}`;
    return {
      acquire: async (timeoutMs) => {
        const [row] = (await runner.query('SELECT GET_LOCK(?, ?) AS locked', [name, Math.ceil(timeoutMs / 1000)])) as Array<{ locked: number | string | null }>;
        return Number(row?.locked) === 1;
      },
      release: async () => void (await runner.query('SELECT RELEASE_LOCK(?)', [name])),
    };
  }
  return undefined;
}
