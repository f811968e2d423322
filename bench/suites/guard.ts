import { load, LoadResult } from '../lib/load';
import { fetchStatus } from '../lib/net';
import { dropDatabase, freshDatabase } from '../lib/pg';
import { startBenchServer } from '../lib/servers';
import { median } from '../lib/stats';
import type { OpenedSessions } from '../servers/kit-adapter';

export const GUARD_ROUTES = ['public', 'kit', 'kit-fixed', 'recipe', 'passport'] as const;
export type GuardRoute = (typeof GUARD_ROUTES)[number];

export interface GuardRouteResult {
  route: GuardRoute;
  /** Medians over the rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** This route's req/s over public's, per round (median, min, max). */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  non2xx: number;
  rounds: LoadResult[];
}

export interface GuardResult {
  connections: number;
  roundSeconds: number;
  rounds: number;
  routes: GuardRouteResult[];
  /** Status codes of the sanity checks (protected routes without a token must be 401). */
  sanity: Record<string, number>;
}

/**
 * Guard overhead: the same small JSON route public, behind the kit's global guard, behind the
 * docs-recipe guard and behind AuthGuard('jwt'), all in one app and one run. Routes are run in
 * interleaved rounds (the order rotates every round) so drift and noise hit all of them alike.
 */
export async function guardSuite(options: { rounds: number; roundSeconds: number; warmupSeconds: number; connections: number }): Promise<GuardResult> {
  const db = 'bench_guard';
  const url = await freshDatabase(db);
  const server = await startBenchServer(url);
  try {
    const sessions = await server.call<OpenedSessions>('sessions', { count: options.connections });
    const auth: Record<GuardRoute, string[]> = {
      public: sessions.access.map((t) => `Bearer ${t}`),
      kit: sessions.access.map((t) => `Bearer ${t}`),
      'kit-fixed': sessions.access.map((t) => `Bearer ${t}`),
      recipe: sessions.baseline.map((t) => `Bearer ${t}`),
      passport: sessions.baseline.map((t) => `Bearer ${t}`),
    };
    const sanity: Record<string, number> = {};
    for (const route of GUARD_ROUTES) {
      sanity[`${route} with token`] = (await fetchStatus(`${server.url}/bench/${route}`, { headers: { authorization: auth[route][0] } })).status;
      sanity[`${route} without token`] = (await fetchStatus(`${server.url}/bench/${route}`)).status;
      // A kit token must not open a baseline route and vice versa (different keys): proves each route verifies.
      if (route !== 'public') {
        const other = route.startsWith('kit') ? auth.recipe[0] : auth.kit[0];
        sanity[`${route} with the other key's token`] = (await fetchStatus(`${server.url}/bench/${route}`, { headers: { authorization: other } })).status;
      }
    }
    for (const route of GUARD_ROUTES) {
      if (sanity[`${route} with token`] !== 200) throw new Error(`guard bench: /bench/${route} answered ${sanity[`${route} with token`]} with a valid token`);
    }
    for (const route of GUARD_ROUTES) {
      await load({ url: `${server.url}/bench/${route}`, connections: options.connections, duration: options.warmupSeconds, perConnectionAuth: auth[route] });
    }
    const perRoute = new Map<GuardRoute, LoadResult[]>(GUARD_ROUTES.map((r) => [r, []]));
    for (let round = 0; round < options.rounds; round++) {
      const order = GUARD_ROUTES.map((_, i) => GUARD_ROUTES[(i + round) % GUARD_ROUTES.length]);
      for (const route of order) {
        const result = await load({ url: `${server.url}/bench/${route}`, connections: options.connections, duration: options.roundSeconds, perConnectionAuth: auth[route] });
        perRoute.get(route)!.push(result);
        process.stderr.write(`  guard round ${round + 1}/${options.rounds} ${route.padEnd(8)} ${Math.round(result.rps)} req/s p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms\n`);
      }
    }
    const publicRounds = perRoute.get('public')!;
    const routes = GUARD_ROUTES.map((route): GuardRouteResult => {
      const rounds = perRoute.get(route)!;
      const ratios = rounds.map((r, i) => r.rps / publicRounds[i].rps);
      return {
        route,
        rps: median(rounds.map((r) => r.rps)),
        p50: median(rounds.map((r) => r.p50)),
        p99: median(rounds.map((r) => r.p99)),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        non2xx: rounds.reduce((n, r) => n + r.non2xx + r.errors, 0),
        rounds,
      };
    });
    return { connections: options.connections, roundSeconds: options.roundSeconds, rounds: options.rounds, routes, sanity };
  } finally {
    await server.stop();
    await dropDatabase(db);
  }
}
