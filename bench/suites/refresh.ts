import { closedLoop, ClosedLoopResult } from '../lib/closed-loop';
import { machineCpu, median } from '../lib/stats';
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
  /** refreshes/s of each part (sub-round) of the level, in order. */
  perPart: number[];
  /** Medians over the parts. */
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
  /** Seconds of each level per variant, run in `subRounds` parts alternating between the variants. */
  seconds: number;
  subRounds: number;
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
export async function refreshSuite(options: { concurrencies: number[]; seconds: number; subRounds: number; variants: RefreshVariant[] }): Promise<RefreshResult> {
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
      // Every server's level runs in `subRounds` short parts, the servers alternating part by
      // part in rotating order, so refresh and its floor are compared on neighbouring seconds
      // (other work on a shared machine moves a 5 s window by ±10 %).
      const states: LevelState[] = [];
      for (const vs of servers) {
        const opened = await vs.server.call<OpenedSessions>('sessions', { count: concurrency });
        await vs.server.call('spans:reset');
        states.push({
          vs,
          opened,
          tokens: [...opened.refresh],
          sqlBefore: await vs.server.call<number>('sql:count'),
          cpuBefore: await vs.server.call<number>('cpu'),
          busy: 0,
          total: 0,
          parts: [] as ClosedLoopResult[],
        });
      }
      for (let part = 0; part < options.subRounds; part++) {
        const order = states.map((_, i) => states[(i + part) % states.length]);
        for (const st of order) {
          resetConnections();
          const machineBefore = machineCpu();
          st.parts.push(
            await closedLoop(concurrency, options.seconds / options.subRounds, async (w) => {
              st.tokens[w] = await st.vs.refreshOnce(st.tokens[w]);
            }),
          );
          const machineAfter = machineCpu();
          st.busy += machineAfter.busy - machineBefore.busy;
          st.total += machineAfter.total - machineBefore.total;
        }
      }
      for (const st of states) {
        const { variant, server, refreshOnce } = st.vs;
        const cpuAfter = await server.call<number>('cpu');
        const sqlAfter = await server.call<number>('sql:count');
        const spans = (await server.call<Record<string, { count: number; p50: number; p99: number }>>('spans:get'))['SessionService.refresh'];
        const service = spans && spans.count > 0 ? spans : undefined;
        const ok = st.parts.reduce((n, p) => n + p.ok, 0);
        const failed = st.parts.reduce((n, p) => n + p.failed, 0);
        const seconds = st.parts.reduce((n, p) => n + p.seconds, 0);
        const failures: Record<string, number> = {};
        for (const p of st.parts) for (const [k, v] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + v;
        const integrity = await checkChains(server, st.opened.sessionIds, ok, st.tokens, refreshOnce);
        const level: RefreshLevel = {
          variant: variant.label,
          concurrency,
          perSecond: ok / seconds,
          perPart: st.parts.map((p) => p.perSecond),
          p50: median(st.parts.map((p) => p.p50)),
          p99: median(st.parts.map((p) => p.p99)),
          failed,
          failures,
          sqlPerRefresh: (sqlAfter - st.sqlBefore) / Math.max(1, ok + failed),
          serviceP50: service?.p50,
          serviceP99: service?.p99,
          serverCpuMs: (cpuAfter - st.cpuBefore) / 1000 / Math.max(1, ok),
          machineCpuMs: st.busy / Math.max(1, ok),
          machineBusy: st.busy / Math.max(1, st.total),
          integrity,
        };
        levels.push(level);
        process.stderr.write(
          `  refresh ${variant.label} c=${concurrency}: ${Math.round(level.perSecond)}/s (parts ${level.perPart.map((x) => Math.round(x)).join('/')}) p50 ${level.p50.toFixed(2)} ms p99 ${level.p99.toFixed(2)} ms (service p50 ${service ? service.p50.toFixed(2) : '—'} ms; CPU/refresh app ${level.serverCpuMs.toFixed(2)} ms, machine ${level.machineCpuMs.toFixed(2)} ms) failed ${failed} integrity ${integrity.ok ? 'ok' : 'BROKEN'}\n`,
        );
      }
    }
    return { statements, poolSize, seconds: options.seconds, subRounds: options.subRounds, levels };
  } finally {
    for (const { server, db } of servers) {
      await server.stop();
      await db.drop();
    }
  }
}

/** One server's running totals over the parts of a level. */
interface LevelState {
  vs: VariantServer;
  opened: OpenedSessions;
  tokens: string[];
  sqlBefore: number;
  cpuBefore: number;
  /** Machine CPU busy and total time during this server's parts, ms. */
  busy: number;
  total: number;
  parts: ClosedLoopResult[];
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
