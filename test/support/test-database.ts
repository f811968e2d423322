import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { databaseKind } from '../../src/config/database.config';

/** A database created for one test file and dropped after it. */
export interface TestDatabase {
  /** `DATABASE_URL` of the fresh database. */
  url: string;
  kind: 'sqlite' | 'postgres' | 'mariadb';
  drop(): Promise<void>;
}

/**
 * Creates a fresh, empty database on the server named by `DATABASE_URL` (SQLite when unset), so
 * test files never see each other's rows, even when Jest runs them in parallel.
 */
export async function createTestDatabase(baseUrl = process.env.DATABASE_URL || 'sqlite:'): Promise<TestDatabase> {
  const kind = databaseKind(baseUrl);
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'social-auth-'));
    return { url: `sqlite:${join(dir, 'test.sqlite')}`, kind, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = new URL(baseUrl);
  const admin = new DataSource(
    kind === 'postgres'
      ? { type: 'postgres', host: base.hostname, port: Number(base.port || 5432), username: decodeURIComponent(base.username) || 'postgres', password: decodeURIComponent(base.password) || undefined, database: base.pathname.slice(1) || 'postgres' }
      : { type: 'mysql', host: base.hostname, port: Number(base.port || 3306), username: decodeURIComponent(base.username) || 'root', password: decodeURIComponent(base.password) || '', database: base.pathname.slice(1) || 'test' },
  );
  await admin.initialize();
  await admin.query(kind === 'postgres' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    kind,
    drop: async () => {
      try {
        await admin.query(kind === 'postgres' ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)` : `DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await admin.destroy();
      }
    },
  };
}
