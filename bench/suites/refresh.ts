import { closedLoop } from '../lib/closed-loop';
import { machineCpu } from '../lib/stats';
import { httpRequest, resetConnections, setCookies } from '../lib/http';
import type { ServerChild } from '../lib/child';
import { BenchDatabaseKind, freshBenchDatabase, type BenchDatabase } from '../lib/databases';
import { startBenchServer } from '../lib/servers';
import type { OpenedSessions } from '../servers/kit-adapter';

export interface RefreshIntegrity {
  /** Successful refreshes the clients saw (each must have created exactly one successor row). */
  clientSuccesses: number;
  successorRows: number;
  /** Parents with more than one successor row. */
  duplicatedSuccessors: number;
  /** Rotated (used) tokens whose successor row is missing. */
  lostSuccessors: number;
  /** Sessions whose number of live (unused) tokens is not exactly 1. */
  sessionsWithoutOneLiveToken: number;
  revokedSessions: number;
  /** Each client's last successor, refreshed once more after the run: all must succeed. */
  finalTokensAccepted: number;
  finalTokensRejected: number;
  ok: boolean;
}

export interface RefreshLevel {
  /** Which server (RefreshVariant.label). */
  variant: string;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  failures: Record<string, number>;
  sqlPerRefresh: number;
  /** Time inside SessionService.refresh (the rotation, its SQL and the token signature), ms; absent for the floor. */
  serviceP50?: number;
  serviceP99?: number;
  /** CPU per refresh: the app server process, and the whole machine (every process on every core), ms. */
  serverCpuMs: number;
  machineCpuMs: number;
  /** Share of both cores busy during the level (1 = saturated). */
  machineBusy: number;
  integrity: RefreshIntegrity;
}

/** The variant the refresh target is judged on: the library with PostgreSQL's default settings. */
export const REFRESH_JUDGED_VARIANT = 'library';
/** The variant it is judged against: the same two statements and cookies without the module's logic. */
export const REFRESH_FLOOR_VARIANT = 'floor';

/**
 * One server configuration: the library's POST /auth/refresh on one database, or (`floor`) the
 * bench's floor route (bench/servers/floor.controller.ts) on PostgreSQL.
 */
export interface RefreshVariant {
  label: string;
  database: BenchDatabaseKind;
  floor?: boolean;
  synchronousCommit?: 'on' | 'off';
}

export interface RefreshResult {
  /** The statements of one refresh on each variant (text only), after warm-up. */
  statements: Record<string, string[]>;
  poolSize: number;
  seconds: number;
  levels: RefreshLevel[];
}

const REFRESH_COOKIE = /_rt$/;
// The refresh cookie's name on plain http with the default prefix (authCookieNames()).
const COOKIE_NAME = 'sa_rt';

interface VariantServer {
  variant: RefreshVariant;
  db: BenchDatabase;
  server: ServerChild;
  refreshOnce(token: string): Promise<string>;
}

async function startVariant(variant: RefreshVariant, index: number, poolSize: number): Promise<VariantServer> {
  const db = await freshBenchDatabase(variant.database, `bench_refresh_${index}`);
  const server = await startBenchServer(db.url, { poolSize, synchronousCommit: variant.synchronousCommit });
  const refreshUrl = `${server.url}${variant.floor ? '/bench/floor' : '/auth/refresh'}`;
  const origin = server.url;
  const refreshOnce = async (token: string): Promise<string> => {
    const answer = await httpRequest(refreshUrl, { method: 'POST', headers: { cookie: `${COOKIE_NAME}=${token}`, origin, 'content-length': '0' } });
    if (answer.status !== 200) throw new Error(`refresh answered ${answer.status}`);
    for (const [name, value] of setCookies(answer.headers)) {
      if (REFRESH_COOKIE.test(name) && value) return value;
    }
    throw new Error('refresh answered 200 without a refresh cookie');
  };
  return { variant, db, server, refreshOnce };
}

/**
 * Refresh rotation on PostgreSQL, MariaDB and SQLite, and the floor on PostgreSQL: `concurrency` clients, each rotating its own session's refresh
 * token back to back through POST /auth/refresh (the browser path: refresh cookie + Origin), each
 * request using the successor the previous answer set. After each level the chains are checked
 * in the database and every client's last token is refreshed once more. Each variant has its own
 * server and database; levels alternate between them in one run, so refresh/floor is a ratio of
 * neighbouring measurements.
 */
export async function refreshSuite(options: { concurrencies: number[]; seconds: number; variants: RefreshVariant[] }): Promise<RefreshResult> {
  const poolSize = 10;
  const servers: VariantServer[] = [];
  try {
    for (const [i, variant] of options.variants.entries()) servers.push(await startVariant(variant, i, poolSize));
    const statements: Record<string, string[]> = {};
    const fingerprints: Record<string, string[]> = {};
    for (const { variant, server, refreshOnce } of servers) {
      // Warm-up on its own sessions (JIT, pool connections), not counted.
      const warm = await server.call<OpenedSessions>('sessions', { count: 8 });
      if (variant.floor) await server.call('floor:token', { token: warm.access[0] });
      const warmTokens = [...warm.refresh];
      await closedLoop(8, 2, async (w) => {
        warmTokens[w] = await refreshOnce(warmTokens[w]);
      });
      await server.call('sql:start');
      warmTokens[0] = await refreshOnce(warmTokens[0]);
      const recorded = await server.call<{ statements: string[]; fingerprints: string[] }>('sql:stop');
      statements[variant.label] = recorded.statements;
      fingerprints[variant.label] = recorded.fingerprints;
    }
    // The floor must send exactly what the library's rotation sends, or it is not the library's floor.
    const floor = options.variants.find((v) => v.floor);
    const judged = options.variants.find((v) => v.label === REFRESH_JUDGED_VARIANT);
    if (floor && judged && (fingerprints[judged.label].length === 0 || JSON.stringify(fingerprints[floor.label]) !== JSON.stringify(fingerprints[judged.label]))) {
      throw new Error(`the refresh floor's statements differ from the library's: ${JSON.stringify({ floor: statements[floor.label], library: statements[judged.label] })}`);
    }

    const levels: RefreshLevel[] = [];
    for (const concurrency of options.concurrencies) {
      for (const { variant, server, refreshOnce } of servers) {
        const opened = await server.call<OpenedSessions>('sessions', { count: concurrency });
        const tokens = [...opened.refresh];
        resetConnections();
        const sqlBefore = await server.call<number>('sql:count');
        await server.call('spans:reset');
        const cpuBefore = await server.call<number>('cpu');
        const machineBefore = machineCpu();
        const result = await closedLoop(concurrency, options.seconds, async (w) => {
          tokens[w] = await refreshOnce(tokens[w]);
        });
        const machineAfter = machineCpu();
        const cpuAfter = await server.call<number>('cpu');
        const sqlAfter = await server.call<number>('sql:count');
        const spans = (await server.call<Record<string, { count: number; p50: number; p99: number }>>('spans:get'))['SessionService.refresh'];
        const service = spans && spans.count > 0 ? spans : undefined;
        const integrity = await checkChains(server, opened.sessionIds, result.ok, tokens, refreshOnce);
        levels.push({
          variant: variant.label,
          concurrency,
          perSecond: result.perSecond,
          p50: result.p50,
          p99: result.p99,
          failed: result.failed,
          failures: result.failures,
          sqlPerRefresh: (sqlAfter - sqlBefore) / Math.max(1, result.ok + result.failed),
          serviceP50: service?.p50,
          serviceP99: service?.p99,
          serverCpuMs: (cpuAfter - cpuBefore) / 1000 / Math.max(1, result.ok),
          machineCpuMs: (machineAfter.busy - machineBefore.busy) / Math.max(1, result.ok),
          machineBusy: (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total),
          integrity,
        });
        process.stderr.write(
          `  refresh ${variant.label} c=${concurrency}: ${Math.round(result.perSecond)}/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms (service p50 ${service ? service.p50.toFixed(2) : '—'} ms; CPU/refresh app ${((cpuAfter - cpuBefore) / 1000 / Math.max(1, result.ok)).toFixed(2)} ms, machine ${((machineAfter.busy - machineBefore.busy) / Math.max(1, result.ok)).toFixed(2)} ms) failed ${result.failed} integrity ${integrity.ok ? 'ok' : 'BROKEN'}\n`,
        );
      }
    }
    return { statements, poolSize, seconds: options.seconds, levels };
  } finally {
    for (const { server, db } of servers) {
      await server.stop();
      await db.drop();
    }
  }
}

async function checkChains(
  server: ServerChild,
  sessionIds: string[],
  clientSuccesses: number,
  finalTokens: string[],
  refreshOnce: (token: string) => Promise<string>,
): Promise<RefreshIntegrity> {
  // Through the server's own pool, so the same SQL runs on every dialect. The ids are the UUIDs
  // the server answered; checked before they are written into the statement.
  if (!sessionIds.every((id) => /^[0-9a-f-]{36}$/.test(id))) throw new Error('unexpected session id');
  const ids = `(${sessionIds.map((id) => `'${id}'`).join(', ')})`;
  const one = async (sql: string) => Number((await server.call<Array<{ n: string | number }>>('query', { sql }))[0].n);
  const counts = {
    successorRows: await one(`SELECT count(*) AS n FROM auth_refresh_tokens WHERE session_id IN ${ids} AND parent_id IS NOT NULL`),
    duplicatedSuccessors: await one(
      `SELECT count(*) AS n FROM (SELECT parent_id FROM auth_refresh_tokens WHERE session_id IN ${ids} AND parent_id IS NOT NULL GROUP BY parent_id HAVING count(*) > 1) d`,
    ),
    lostSuccessors: await one(
      `SELECT count(*) AS n FROM auth_refresh_tokens t WHERE t.session_id IN ${ids} AND t.used_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM auth_refresh_tokens s WHERE s.parent_id = t.id)`,
    ),
    sessionsWithoutOneLiveToken: await one(
      `SELECT count(*) AS n FROM (SELECT s.id FROM auth_sessions s LEFT JOIN auth_refresh_tokens t ON t.session_id = s.id AND t.used_at IS NULL
         WHERE s.id IN ${ids} GROUP BY s.id HAVING count(t.id) <> 1) x`,
    ),
    revokedSessions: await one(`SELECT count(*) AS n FROM auth_sessions WHERE id IN ${ids} AND revoked_at IS NOT NULL`),
  };
  let finalTokensAccepted = 0;
  let finalTokensRejected = 0;
  for (const token of finalTokens) {
    try {
      await refreshOnce(token);
      finalTokensAccepted++;
    } catch {
      finalTokensRejected++;
    }
  }
  const ok =
    counts.successorRows === clientSuccesses &&
    counts.duplicatedSuccessors === 0 &&
    counts.lostSuccessors === 0 &&
    counts.sessionsWithoutOneLiveToken === 0 &&
    counts.revokedSessions === 0 &&
    finalTokensRejected === 0;
  return { clientSuccesses, ...counts, finalTokensAccepted, finalTokensRejected, ok };
}
