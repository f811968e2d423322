import { DataSource } from 'typeorm';
import { startServer } from '../lib/child';
import { closedLoop } from '../lib/closed-loop';
import { load } from '../lib/load';
import { databaseUrl, dropDatabase, withClient } from '../lib/pg';

export interface CalibrationResult {
  /** A bare Node http server, 16 connections. */
  rawHttp: { rps: number; p50: number };
  /** PostgreSQL through a pool of 10 (as the app): statements per second and latency. */
  pg: Array<{ statement: string; concurrency: number; perSecond: number; p50: number }>;
}

/** What this machine does before the kit adds anything: bare HTTP and bare PostgreSQL round trips. */
export async function calibrationSuite(options: { seconds: number }): Promise<CalibrationResult> {
  const raw = await startServer('bench/servers/raw-server.ts', {});
  let rawHttp: CalibrationResult['rawHttp'];
  try {
    await load({ url: raw.url, connections: 16, duration: 1 });
    const r = await load({ url: raw.url, connections: 16, duration: options.seconds });
    rawHttp = { rps: r.rps, p50: r.p50 };
  } finally {
    await raw.stop();
  }
  const db = 'bench_calibration';
  await dropDatabase(db);
  await withClient((c) => c.query(`CREATE DATABASE "${db}"`));
  const ds = new DataSource({ type: 'postgres', url: databaseUrl(db), extra: { max: 10 }, logging: false });
  const asyncCommit = new DataSource({ type: 'postgres', url: databaseUrl(db), extra: { max: 10, options: '-c synchronous_commit=off' }, logging: false });
  await ds.initialize();
  await asyncCommit.initialize();
  const pg: CalibrationResult['pg'] = [];
  try {
    await ds.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, v text)');
    const statements: Array<[string, () => Promise<unknown>]> = [
      ['SELECT 1', () => ds.query('SELECT 1')],
      ['INSERT (autocommit: one WAL flush each)', () => ds.query('INSERT INTO bench_commit_probe (v) VALUES ($1)', ['x'])],
      ['INSERT (autocommit), synchronous_commit=off', () => asyncCommit.query('INSERT INTO bench_commit_probe (v) VALUES ($1)', ['x'])],
    ];
    for (const [statement, run] of statements) {
      for (const concurrency of [1, 16]) {
        const r = await closedLoop(concurrency, options.seconds, async () => {
          await run();
        });
        pg.push({ statement, concurrency, perSecond: r.perSecond, p50: r.p50 });
      }
    }
  } finally {
    await ds.destroy();
    await asyncCommit.destroy();
    await dropDatabase(db);
  }
  process.stderr.write(`  bare node http ${Math.round(rawHttp.rps)} req/s; ${pg.map((p) => `${p.statement} c=${p.concurrency} ${Math.round(p.perSecond)}/s`).join('; ')}\n`);
  return { rawHttp, pg };
}
