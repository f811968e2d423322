import { DataSource } from 'typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from '@nest-social-auth/core';

/** The PostgreSQL server the benchmarks use; override with BENCH_DATABASE_URL. */
export const PG_BASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export function databaseUrl(name: string): string {
  const url = new URL(PG_BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A single-connection handle for admin and check queries (not the app's pool). */
export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** Runs `work` with one connection to database `name` (the base database by default). */
export async function withClient<T>(work: (client: SqlClient) => Promise<T>, name?: string): Promise<T> {
  const dataSource = new DataSource({ type: 'postgres', url: name ? databaseUrl(name) : PG_BASE_URL, extra: { max: 1 }, logging: false });
  await dataSource.initialize();
  try {
    return await work({ query: async <R>(sql: string, params?: unknown[]) => ({ rows: (await dataSource.query(sql, params)) as R[] }) });
  } finally {
    await dataSource.destroy();
  }
}

/** Drops (if present) and creates database `name`, then brings its schema up with the module's migrations. */
export async function freshDatabase(name: string): Promise<string> {
  await dropDatabase(name);
  await withClient((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = databaseUrl(name);
  const dataSource = new DataSource({ type: 'postgres', url, entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS, logging: false });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
  return url;
}

export async function dropDatabase(name: string): Promise<void> {
  await withClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function serverVersion(): Promise<string> {
  return withClient(async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v);
}

/** The subject of seeded identity n (zero-padded so the seed inserts in index order). */
export function seededSubject(n: number): string {
  return `seed-${String(n).padStart(8, '0')}`;
}

/**
 * Seeds `count` users, each with one Google identity whose subject is `seededSubject(n)`
 * (n = 1..count), in two set-based statements (`INSERT … SELECT generate_series`), then VACUUM
 * ANALYZE so no autovacuum or hint-bit writes run during the measurements. Ids and subjects
 * ascend with n, so every B-tree is filled in order. Returns the seconds the inserts took and the
 * seconds VACUUM ANALYZE took.
 */
export async function seedUsers(name: string, count: number, issuer: string): Promise<{ insertSeconds: number; vacuumSeconds: number }> {
  const started = process.hrtime.bigint();
  let inserted = started;
  await withClient(async (c) => {
    const id = (kind: string) => `'${kind}-0000-4000-8000-' || lpad(n::text, 12, '0')`;
    const subject = `'seed-' || lpad(n::text, 8, '0')`;
    await c.query(
      `INSERT INTO auth_users (id, email, email_canonical, email_verified, display_name, avatar_url, disabled, created_at, updated_at)
       SELECT ${id('00000000')}, ${subject} || '@example.com', ${subject} || '@example.com', true, ${subject}, NULL, false, now(), now()
       FROM generate_series(1, $1::int) AS n`,
      [count],
    );
    await c.query(
      `INSERT INTO auth_identities (id, user_id, provider, issuer, subject, email, email_verified, display_name, linked_at, last_login_at)
       SELECT ${id('11111111')}, ${id('00000000')}, 'google', $2, ${subject}, ${subject} || '@example.com', true, ${subject}, now(), NULL
       FROM generate_series(1, $1::int) AS n`,
      [count, issuer],
    );
    inserted = process.hrtime.bigint();
    await c.query('VACUUM ANALYZE auth_users');
    await c.query('VACUUM ANALYZE auth_identities');
  }, name);
  const done = process.hrtime.bigint();
  return { insertSeconds: Number(inserted - started) / 1e9, vacuumSeconds: Number(done - inserted) / 1e9 };
}
