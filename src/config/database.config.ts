import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from '@nest-social-auth/core';
import { DatabaseUrlError, databaseKind } from './database-url';

export { DatabaseKind, DatabaseUrlError, databaseKind } from './database-url';

/**
 * Parses `DATABASE_URL` (`sqlite:./data/app.sqlite`, `sqlite::memory:`, `postgres://…`,
 * `mysql://…` or `mariadb://…`) into TypeORM options. Schema changes always come from
 * migrations; `synchronize` stays off.
 */
export function databaseOptions(url: string, extra: { entities?: DataSourceOptions['entities'] } = {}): DataSourceOptions {
  const entities = extra.entities ?? AUTH_ENTITIES;
  const common = { entities, migrations: AUTH_MIGRATIONS, migrationsRun: false, synchronize: false, logging: false } as const;
  const kind = databaseKind(url);
  if (kind === 'sqlite') {
    const path = url.slice('sqlite:'.length);
    if (!path) throw new DatabaseUrlError('DATABASE_URL: sqlite URL needs a path, e.g. sqlite:./data/app.sqlite');
    const database = path === ':memory:' ? ':memory:' : resolve(path);
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    // WAL lets readers proceed during a write; busy_timeout waits instead of failing with SQLITE_BUSY.
    return { ...common, type: 'better-sqlite3', database, enableWAL: database !== ':memory:', prepareDatabase: (db: { pragma(s: string): unknown }) => void db.pragma('busy_timeout = 5000') };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('DATABASE_URL is not a valid URL');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!database) throw new DatabaseUrlError('DATABASE_URL must name a database, e.g. postgres://postgres@127.0.0.1:5432/app');
  const connection = {
    host: parsed.hostname || '127.0.0.1',
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    database,
  };
  if (kind === 'postgres') {
    return { ...common, type: 'postgres', ...connection, port: Number(parsed.port || 5432), extra: { max: 10, connectionTimeoutMillis: 5000 } };
  }
  // MariaDB is the server the demo supports for mysql:// URLs; TypeORM's "mariadb" driver reads its
  // catalogue correctly (with "mysql" it sees phantom changes on every nullable column).
  return {
    ...common,
    type: 'mariadb',
    ...connection,
    port: Number(parsed.port || 3306),
    charset: 'utf8mb4_bin',
    timezone: 'Z',
    connectTimeout: 5000,
    extra: { connectionLimit: 10 },
  };
}
