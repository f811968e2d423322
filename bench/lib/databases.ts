import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { databaseOptions } from '../../src/config/database.config';
import { dropDatabase, freshDatabase } from './pg';

/** The three databases the module supports; the refresh suite measures it on each. */
export type BenchDatabaseKind = 'postgres' | 'mariadb' | 'sqlite';

/** MariaDB server of the benchmarks; override with BENCH_MARIADB_URL. */
export const MARIADB_BASE_URL = process.env.BENCH_MARIADB_URL || 'mysql://root@127.0.0.1:3306/test';

export interface BenchDatabase {
  kind: BenchDatabaseKind;
  /** The demo's DATABASE_URL form, what the bench server is given. */
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database `name` of `kind` with the module's schema (its migrations): on the PostgreSQL
 * server of lib/pg.ts, on the MariaDB server of MARIADB_BASE_URL, or an SQLite file in a
 * temporary directory.
 */
export async function freshBenchDatabase(kind: BenchDatabaseKind, name: string): Promise<BenchDatabase> {
  if (kind === 'postgres') return { kind, url: await freshDatabase(name), drop: () => dropDatabase(name) };
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const url = `sqlite:${join(dir, `${name}.sqlite`)}`;
    await migrate(url);
    return { kind, url, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const admin = async (sql: string) => {
    const base = new URL(MARIADB_BASE_URL);
    const ds = new DataSource({ type: 'mysql', host: base.hostname, port: Number(base.port || 3306), username: decodeURIComponent(base.username) || 'root', password: decodeURIComponent(base.password) || '', database: base.pathname.slice(1) || 'test' });
    await ds.initialize();
    try {
      await ds.query(sql);
    } finally {
      await ds.destroy();
    }
  };
  await admin(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(MARIADB_BASE_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return { kind, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

async function migrate(url: string): Promise<void> {
  const dataSource = new DataSource(databaseOptions(url));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
