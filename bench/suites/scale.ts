import type { ServerChild } from '../lib/child';
import { GOOGLE_ISSUER, startFakes } from '../lib/fakes';
import { resetConnections } from '../lib/http';
import { signIn } from '../lib/oauth-client';
import { dropDatabase, freshDatabase, seedUsers, seededSubject, withClient } from '../lib/pg';
import { startBenchServer } from '../lib/servers';
import { percentile } from '../lib/stats';

export interface ScalePoint {
  users: number;
  seedSeconds: number;
  vacuumSeconds: number;
  /** auth_identities + auth_users, tables and indexes. */
  databaseBytes: number;
  lookup: { count: number; p50: number; p99: number };
  signIn: { count: number; p50: number; p99: number; callbackP50: number; callbackP99: number };
  /** EXPLAIN of the returning sign-in's identity statement (UPDATE … FROM auth_users, as AccountLinkingService sends it). */
  plan: string;
  /** Pages one identity lookup touched after the run (EXPLAIN ANALYZE BUFFERS, mean of 50 random users): in shared buffers, and read from the OS. */
  pagesHit: number;
  pagesRead: number;
}

export interface ScaleResult {
  rounds: number;
  points: ScalePoint[];
}

interface Sized {
  users: number;
  db: string;
  server: ServerChild;
  seedSeconds: number;
  vacuumSeconds: number;
  databaseBytes: number;
  plan: string;
  pagesHit: number;
  pagesRead: number;
  lookups: number[];
  totals: number[];
  callbacks: number[];
}

/**
 * Scale: one database per size, each seeded with N users with one Google identity each
 * (set-based INSERT … SELECT generate_series), one server per database. Measurements alternate
 * between the sizes in rounds (so machine noise hits every size alike): the kit's identity lookup
 * in-process (AccountLinkingService.signIn of a returning identity) and complete HTTP sign-ins of
 * random seeded users.
 */
export async function scaleSuite(options: { sizes: number[]; rounds: number; lookupsPerRound: number; signInsPerRound: number }): Promise<ScaleResult> {
  const fakes = await startFakes();
  const sized: Sized[] = [];
  try {
    for (const users of options.sizes) {
      const db = `bench_scale_${users}`;
      const url = await freshDatabase(db);
      const { insertSeconds, vacuumSeconds } = await seedUsers(db, users, GOOGLE_ISSUER);
      process.stderr.write(`  seeded ${users} users in ${insertSeconds.toFixed(1)} s (+ VACUUM ANALYZE ${vacuumSeconds.toFixed(1)} s)\n`);
      const { databaseBytes, plan } = await withClient(async (c) => {
        const size = await c.query<{ n: string }>(`SELECT pg_total_relation_size('auth_identities') + pg_total_relation_size('auth_users') AS n`);
        const explain = await c.query<{ 'QUERY PLAN': string }>(
          // The returning sign-in's own statement (AccountLinkingService); plain EXPLAIN does not run it.
          `EXPLAIN UPDATE auth_identities AS i SET last_login_at = now() FROM auth_users AS u
           WHERE i.provider = 'google' AND i.subject = '${seededSubject(Math.ceil(users / 2))}' AND i.issuer = '${GOOGLE_ISSUER}' AND u.id = i.user_id AND u.disabled = false`,
        );
        return { databaseBytes: Number(size.rows[0].n), plan: explain.rows.map((r) => r['QUERY PLAN'].trim()).join(' / ') };
      }, db);
      const server = await startBenchServer(url, fakes.providers);
      sized.push({ users, db, server, seedSeconds: insertSeconds, vacuumSeconds, databaseBytes, plan, pagesHit: 0, pagesRead: 0, lookups: [], totals: [], callbacks: [] });
    }
    const random = (s: Sized) => seededSubject(1 + Math.floor(Math.random() * s.users));
    for (const s of sized) {
      await s.server.call('lookup', { subjects: Array.from({ length: 100 }, () => random(s)), issuer: GOOGLE_ISSUER });
      for (let i = 0; i < 10; i++) await signIn(s.server.url, 'google', random(s));
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? sized : [...sized].reverse();
      for (const s of order) {
        s.lookups.push(...(await s.server.call<number[]>('lookup', { subjects: Array.from({ length: options.lookupsPerRound }, () => random(s)), issuer: GOOGLE_ISSUER })));
        resetConnections();
        for (let i = 0; i < options.signInsPerRound; i++) {
          const t = await signIn(s.server.url, 'google', random(s));
          s.totals.push(t.totalMs);
          s.callbacks.push(t.callbackMs);
        }
        fakes.trim();
      }
    }
    for (const s of sized) {
      const { hit, read } = await withClient(async (c) => {
        let hit = 0;
        let read = 0;
        for (let i = 0; i < 50; i++) {
          const rows = await c.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM auth_identities WHERE provider = 'google' AND subject = '${random(s)}' LIMIT 1`,
          );
          const line = rows.rows.map((r) => r['QUERY PLAN']).find((l) => l.includes('Buffers:')) ?? '';
          hit += Number(/hit=(\d+)/.exec(line)?.[1] ?? 0);
          read += Number(/read=(\d+)/.exec(line)?.[1] ?? 0);
        }
        return { hit: hit / 50, read: read / 50 };
      }, s.db);
      s.pagesHit = hit;
      s.pagesRead = read;
    }
    const points = sized.map(
      (s): ScalePoint => ({
        users: s.users,
        seedSeconds: s.seedSeconds,
        vacuumSeconds: s.vacuumSeconds,
        databaseBytes: s.databaseBytes,
        lookup: { count: s.lookups.length, p50: percentile(s.lookups, 50), p99: percentile(s.lookups, 99) },
        signIn: {
          count: s.totals.length,
          p50: percentile(s.totals, 50),
          p99: percentile(s.totals, 99),
          callbackP50: percentile(s.callbacks, 50),
          callbackP99: percentile(s.callbacks, 99),
        },
        plan: s.plan,
        pagesHit: s.pagesHit,
        pagesRead: s.pagesRead,
      }),
    );
    for (const p of points) {
      process.stderr.write(`  ${p.users} users: lookup p50 ${p.lookup.p50.toFixed(2)} ms p99 ${p.lookup.p99.toFixed(2)} ms; sign-in p50 ${p.signIn.p50.toFixed(1)} ms p99 ${p.signIn.p99.toFixed(1)} ms\n`);
    }
    return { rounds: options.rounds, points };
  } finally {
    for (const s of sized) {
      await s.server.stop();
      await dropDatabase(s.db);
    }
    await fakes.stop();
  }
}
