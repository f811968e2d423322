import { DataSource } from 'typeorm';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from '@app/social-auth';

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

/**
 * Seeds `count` users, each with one Google identity whose subject is `seed-<n>` (n = 1..count),
 * in two set-based statements (`INSERT … SELECT generate_series`), then ANALYZE. Returns seconds taken.
 */
export async function seedUsers(name: string, count: number, issuer: string): Promise<number> {
  const started = process.hrtime.bigint();
  await withClient(async (c) => {
    // md5-derived UUIDs: deterministic, so identity n always belongs to user n.
    await c.query(
      `INSERT INTO auth_users (id, email, email_canonical, email_verified, display_name, avatar_url, disabled, created_at, updated_at)
       SELECT uuid_in(md5('user-' || n)::cstring)::text, 'seed-' || n || '@example.com', 'seed-' || n || '@example.com', true, 'seed-' || n, NULL, false, now(), now()
       FROM generate_series(1, $1::int) AS n`,
      [count],
    );
    await c.query(
      `INSERT INTO auth_identities (id, user_id, provider, issuer, subject, email, email_verified, display_name, linked_at, last_login_at)
       SELECT uuid_in(md5('identity-' || n)::cstring)::text, uuid_in(md5('user-' || n)::cstring)::text, 'google', $2, 'seed-' || n,
              'seed-' || n || '@example.com', true, 'seed-' || n, now(), NULL
       FROM generate_series(1, $1::int) AS n`,
      [count, issuer],
    );
    await c.query('ANALYZE');
  }, name);
  return Number(process.hrtime.bigint() - started) / 1e9;
}
