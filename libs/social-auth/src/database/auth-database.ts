import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The one way the module opens a database transaction.
 *
 * Invariant: TypeORM's SQLite drivers share a single connection between all callers, so two
 * concurrent `dataSource.transaction()` calls would nest as savepoints of each other and one
 * request's rollback would undo another's work. On SQLite, transactions are therefore serialised
 * in-process; on PostgreSQL and MariaDB each gets its own pooled connection.
 * @publicApi
 */
@Injectable()
export class AuthDatabase {
  private readonly serialised: boolean;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    this.serialised = type === 'better-sqlite3' || type === 'sqljs' || type === 'capacitor' || type === 'cordova' || type === 'expo';
  }

  /** The dialect family, for the rare statement that differs. */
  get dialect(): 'sqlite' | 'postgres' | 'mysql' {
    const type = this.dataSource.options.type;
    if (type === 'postgres') return 'postgres';
    if (type === 'mysql' || type === 'mariadb') return 'mysql';
    return 'sqlite';
  }

  /** Runs `work` in one transaction: all of it commits, or none of it does. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialised) return this.dataSource.transaction(work);
    const run = this.tail.then(() => this.dataSource.transaction(work));
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * True when `error` is a unique-constraint violation on any supported database. Used where a
 * concurrent insert of the same key is an expected race, not a failure.
 * @internal
 */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number; driverError?: { code?: string; errno?: number } } | null;
  const code = e?.driverError?.code ?? e?.code;
  const errno = e?.driverError?.errno ?? e?.errno;
  return code === '23505' || code === 'ER_DUP_ENTRY' || errno === 1062 || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
