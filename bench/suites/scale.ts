import { GOOGLE_ISSUER, startFakes } from '../lib/fakes';
import { signIn } from '../lib/oauth-client';
import { dropDatabase, freshDatabase, seedUsers, withClient } from '../lib/pg';
import { startBenchServer } from '../lib/servers';
import { percentile } from '../lib/stats';

export interface ScalePoint {
  users: number;
  seedSeconds: number;
  /** auth_identities + auth_users, tables and indexes. */
  databaseBytes: number;
  lookup: { count: number; p50: number; p99: number };
  signIn: { count: number; p50: number; p99: number; callbackP50: number; callbackP99: number };
  /** EXPLAIN of the identity lookup. */
  plan: string;
}

export interface ScaleResult {
  points: ScalePoint[];
}

/**
 * Scale: seed N users with one Google identity each (set-based INSERT … SELECT generate_series),
 * then time the kit's identity lookup (in-process) and complete sign-ins of random seeded users.
 */
export async function scaleSuite(options: { sizes: number[]; lookups: number; signIns: number }): Promise<ScaleResult> {
  const fakes = await startFakes();
  const points: ScalePoint[] = [];
  try {
    for (const users of options.sizes) {
      const db = 'bench_scale';
      const url = await freshDatabase(db);
      try {
        const seedSeconds = await seedUsers(db, users, GOOGLE_ISSUER);
        process.stderr.write(`  seeded ${users} users in ${seedSeconds.toFixed(1)} s\n`);
        const { databaseBytes, plan } = await withClient(async (c) => {
          const size = await c.query<{ n: string }>(`SELECT pg_total_relation_size('auth_identities') + pg_total_relation_size('auth_users') AS n`);
          const explain = await c.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT * FROM auth_identities WHERE provider = 'google' AND subject = 'seed-${Math.ceil(users / 2)}' LIMIT 1`,
          );
          return { databaseBytes: Number(size.rows[0].n), plan: explain.rows.map((r) => r['QUERY PLAN'].trim()).join(' / ') };
        }, db);
        const server = await startBenchServer(url, fakes.providers);
        try {
          const random = () => `seed-${1 + Math.floor(Math.random() * users)}`;
          await server.call('lookup', { subjects: Array.from({ length: 200 }, random), issuer: GOOGLE_ISSUER });
          const lookups = await server.call<number[]>('lookup', { subjects: Array.from({ length: options.lookups }, random), issuer: GOOGLE_ISSUER });
          for (let i = 0; i < 20; i++) await signIn(server.url, 'google', random());
          fakes.trim();
          const totals: number[] = [];
          const callbacks: number[] = [];
          for (let i = 0; i < options.signIns; i++) {
            const t = await signIn(server.url, 'google', random());
            totals.push(t.totalMs);
            callbacks.push(t.callbackMs);
          }
          fakes.trim();
          const point: ScalePoint = {
            users,
            seedSeconds,
            databaseBytes,
            lookup: { count: lookups.length, p50: percentile(lookups, 50), p99: percentile(lookups, 99) },
            signIn: {
              count: totals.length,
              p50: percentile(totals, 50),
              p99: percentile(totals, 99),
              callbackP50: percentile(callbacks, 50),
              callbackP99: percentile(callbacks, 99),
            },
            plan,
          };
          points.push(point);
          process.stderr.write(
            `  ${users} users: lookup p50 ${point.lookup.p50.toFixed(2)} ms p99 ${point.lookup.p99.toFixed(2)} ms; sign-in p50 ${point.signIn.p50.toFixed(1)} ms p99 ${point.signIn.p99.toFixed(1)} ms\n`,
          );
        } finally {
          await server.stop();
        }
      } finally {
        await dropDatabase(db);
      }
    }
    return { points };
  } finally {
    await fakes.stop();
  }
}
