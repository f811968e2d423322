import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { closedLoop } from '../lib/closed-loop';
import { GOOGLE_ISSUER } from '../lib/fakes';
import { databaseUrl, dropDatabase, freshDatabase, seedUsers, seededSubject } from '../lib/pg';

export interface ShapeRow {
  shape: string;
  statements: number;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export interface SqlShapesResult {
  users: number;
  rows: ShapeRow[];
}

type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * The database work of a returning user's sign-in, replayed directly on PostgreSQL through a
 * TypeORM pool of 10 (the app's): the statements the shipped code sends (as recorded by the
 * sign-in suite) against the three the proposal needs. It isolates what the statement count
 * costs from everything else a sign-in does (HTTP, provider calls, crypto).
 */
export async function sqlShapesSuite(options: { seconds: number; concurrencies: number[]; users: number }): Promise<SqlShapesResult> {
  const db = 'bench_sql_shapes';
  await freshDatabase(db);
  await seedUsers(db, options.users, GOOGLE_ISSUER);
  const ds = new DataSource({ type: 'postgres', url: databaseUrl(db), extra: { max: 10 }, logging: false });
  await ds.initialize();
  try {
    const subject = () => seededSubject(1 + Math.floor(Math.random() * options.users));
    const later = () => new Date(Date.now() + 14 * 86400_000);
    const newSessionParams = (userId: string) => [randomUUID(), userId, 'google', 'bench', '127.0.0.1', new Date(), new Date(), later(), later()];
    const tokenParams = (sessionId: string) => [randomUUID(), sessionId, randomBytes(32).toString('hex'), new Date()];

    const inTransaction = async (work: (q: Query) => Promise<void>) => {
      const runner = ds.createQueryRunner();
      await runner.connect();
      try {
        await runner.query('START TRANSACTION');
        await work((sql, params) => runner.query(sql, params));
        await runner.query('COMMIT');
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        await runner.release();
      }
    };

    const shapes: Array<{ shape: string; statements: number; run: () => Promise<void> }> = [
      {
        shape: 'shipped: single-use tx, linking tx (identity, user, update), user again, session tx',
        statements: 13,
        run: async () => {
          await inTransaction((q) => q('INSERT INTO auth_single_use (key, expires_at) VALUES ($1, $2)', [randomUUID(), later()]).then(() => undefined));
          let userId = '';
          await inTransaction(async (q) => {
            const [identity] = (await q('SELECT * FROM auth_identities WHERE provider = $1 AND subject = $2 LIMIT 1', ['google', subject()])) as Array<{ id: string; user_id: string }>;
            const [user] = (await q('SELECT * FROM auth_users WHERE id = $1 LIMIT 1', [identity.user_id])) as Array<{ id: string }>;
            userId = user.id;
            await q('UPDATE auth_identities SET email = email, email_verified = email_verified, display_name = display_name, last_login_at = $1 WHERE id = $2', [new Date(), identity.id]);
          });
          await ds.query('SELECT * FROM auth_users WHERE id = $1 LIMIT 1', [userId]);
          await inTransaction(async (q) => {
            const params = newSessionParams(userId);
            await q('INSERT INTO auth_sessions (id, user_id, provider, user_agent, ip, created_at, last_used_at, idle_expires_at, absolute_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', params);
            await q('INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at) VALUES ($1, $2, $3, $4)', tokenParams(params[0] as string));
          });
        },
      },
      {
        shape: 'proposed: single-use insert, identity⨝user, session+token in one statement',
        statements: 3,
        run: async () => {
          await ds.query('INSERT INTO auth_single_use (key, expires_at) VALUES ($1, $2)', [randomUUID(), later()]);
          const [row] = (await ds.query(
            `SELECT i.id AS identity_id, u.* FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.provider = $1 AND i.subject = $2`,
            ['google', subject()],
          )) as Array<{ id: string }>;
          const params = newSessionParams(row.id);
          const token = tokenParams(params[0] as string);
          await ds.query(
            `WITH s AS (INSERT INTO auth_sessions (id, user_id, provider, user_agent, ip, created_at, last_used_at, idle_expires_at, absolute_expires_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id)
             INSERT INTO auth_refresh_tokens (id, session_id, token_hash, created_at) SELECT $10, s.id, $11, $12 FROM s`,
            [...params, token[0], token[2], token[3]],
          );
        },
      },
    ];

    const rows: ShapeRow[] = [];
    for (const shape of shapes) for (let i = 0; i < 50; i++) await shape.run();
    for (const concurrency of options.concurrencies) {
      for (const shape of shapes) {
        const result = await closedLoop(concurrency, options.seconds, () => shape.run());
        if (result.failed > 0) throw new Error(`${shape.shape}: ${Object.keys(result.failures)[0]}`);
        rows.push({ shape: shape.shape, statements: shape.statements, concurrency, perSecond: result.perSecond, p50: result.p50, p99: result.p99 });
        process.stderr.write(`  sql shape ${shape.statements} statements c=${concurrency}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50.toFixed(2)} ms\n`);
      }
    }
    return { users: options.users, rows };
  } finally {
    await ds.destroy();
    await dropDatabase(db);
  }
}
