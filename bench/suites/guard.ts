import type { ServerChild } from '../lib/child';
import { load, LoadResult } from '../lib/load';
import { fetchStatus } from '../lib/net';
import { dropDatabase, freshDatabase } from '../lib/pg';
import { startBenchServer } from '../lib/servers';
import { median } from '../lib/stats';
import type { OpenedSessions } from '../servers/kit-adapter';

/**
 * The measured routes: `server/route`. The shipped server carries the kit as released plus the
 * two baselines; the proposed server is the same app with the proposed fixes applied to the kit's
 * own AccessTokenService, so its `kit` route is the fixed guard exactly as hosts run it (global).
 */
export const GUARD_ROUTES = ['shipped/public', 'shipped/kit', 'shipped/recipe', 'shipped/passport', 'proposed/public', 'proposed/kit'] as const;
export type GuardRoute = (typeof GUARD_ROUTES)[number];

export interface GuardRouteResult {
  route: GuardRoute;
  /** Medians over the rounds. */
  rps: number;
  /** Server CPU time (user + system) per answered request, µs (median over rounds). */
  cpuPerRequest: number;
  /**
   * Paired measurement: one connection, this route and its server's public route alternating
   * request by request; the mean time each spends inside the server process (µs), the difference,
   * and the throughput ratio it implies for a CPU-bound server (public's CPU per request over
   * public's plus the difference).
   */
  pairedMicros?: number;
  pairedExtraMicros?: number;
  pairedRatio?: number;
  /**
   * Its server's public route's CPU per request over this route's, per round (median): the
   * throughput ratio a CPU-bound server would reach, and far less sensitive to other work on the
   * machine than req/s.
   */
  cpuRatio: number;
  p50: number;
  p99: number;
  /** This route's req/s over its own server's public route in the same round (median, min, max). */
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
  /** The fixes applied on the proposed server (bench/servers/patches.ts). */
  patches: string[];
  pairedRequests: number;
  routes: GuardRouteResult[];
  /** Status codes of the sanity checks (protected routes without a token must be 401). */
  sanity: Record<string, number>;
}

/** The token with one signature character changed. */
function tamper(authorization: string): string {
  const i = authorization.length - 5;
  return `${authorization.slice(0, i)}${authorization[i] === 'A' ? 'B' : 'A'}${authorization.slice(i + 1)}`;
}

interface Target {
  server: ServerChild;
  path: string;
  auth: string[];
}

/**
 * Guard overhead: the same small JSON route public, behind the kit's global guard, behind the
 * docs-recipe guard and behind AuthGuard('jwt'), and (second server) public and behind the kit's
 * guard with the proposed fixes. Many short rounds, the order rotating every round, and each ratio
 * taken against the public route of the same server in the same round, so machine noise and
 * drift hit numerator and denominator alike.
 */
export async function guardSuite(options: {
  rounds: number;
  roundSeconds: number;
  warmupSeconds: number;
  connections: number;
  patches: string[];
  pairedRequests: number;
}): Promise<GuardResult> {
  const dbs = ['bench_guard_shipped', 'bench_guard_proposed'];
  const servers: ServerChild[] = [];
  try {
    servers.push(await startBenchServer(await freshDatabase(dbs[0])));
    servers.push(await startBenchServer(await freshDatabase(dbs[1]), { patches: options.patches }));
    const [shipped, proposed] = await Promise.all(servers.map((s) => s.call<OpenedSessions>('sessions', { count: options.connections })));
    const bearer = (tokens: string[]) => tokens.map((t) => `Bearer ${t}`);
    const targets: Record<GuardRoute, Target> = {
      'shipped/public': { server: servers[0], path: '/bench/public', auth: bearer(shipped.access) },
      'shipped/kit': { server: servers[0], path: '/bench/kit', auth: bearer(shipped.access) },
      'shipped/recipe': { server: servers[0], path: '/bench/recipe', auth: bearer(shipped.baseline) },
      'shipped/passport': { server: servers[0], path: '/bench/passport', auth: bearer(shipped.baseline) },
      'proposed/public': { server: servers[1], path: '/bench/public', auth: bearer(proposed.access) },
      'proposed/kit': { server: servers[1], path: '/bench/kit', auth: bearer(proposed.access) },
    };
    const sanity: Record<string, number> = {};
    const status = async (t: Target, authorization?: string) =>
      (await fetchStatus(`${t.server.url}${t.path}`, { headers: authorization ? { authorization } : {} })).status;
    for (const route of GUARD_ROUTES) {
      const t = targets[route];
      sanity[`${route} with token`] = await status(t, t.auth[0]);
      // A second request with the same token: the proposed token cache answers it.
      sanity[`${route} again`] = await status(t, t.auth[0]);
      sanity[`${route} without token`] = await status(t);
      if (!route.endsWith('public')) {
        // Each route must refuse a token signed with another key: proves it verifies.
        const other = route === 'shipped/kit' ? targets['shipped/recipe'].auth[0] : targets['shipped/kit'].auth[0];
        sanity[`${route} with another key's token`] = await status(t, other);
        sanity[`${route} with a tampered token`] = await status(t, tamper(t.auth[0]));
      }
    }
    for (const route of GUARD_ROUTES) {
      const expectOk = sanity[`${route} with token`] === 200 && sanity[`${route} again`] === 200;
      const expectRefused = route.endsWith('public') || (sanity[`${route} without token`] === 401 && sanity[`${route} with another key's token`] === 401 && sanity[`${route} with a tampered token`] === 401);
      if (!expectOk || !expectRefused) throw new Error(`guard bench: ${route} does not verify as it should: ${JSON.stringify(sanity)}`);
    }
    const cpu = new Map<GuardRoute, number[]>(GUARD_ROUTES.map((r) => [r, []]));
    const run = async (route: GuardRoute, duration: number) => {
      const t = targets[route];
      const before = await t.server.call<number>('cpu');
      const result = await load({ url: `${t.server.url}${t.path}`, connections: options.connections, duration, perConnectionAuth: t.auth });
      const after = await t.server.call<number>('cpu');
      cpu.get(route)!.push((after - before) / Math.max(1, result.ok + result.non2xx));
      return result;
    };
    for (const route of GUARD_ROUTES) await run(route, options.warmupSeconds);
    for (const samples of cpu.values()) samples.length = 0;
    const perRoute = new Map<GuardRoute, LoadResult[]>(GUARD_ROUTES.map((r) => [r, []]));
    for (let round = 0; round < options.rounds; round++) {
      const order = GUARD_ROUTES.map((_, i) => GUARD_ROUTES[(i + round) % GUARD_ROUTES.length]);
      for (const route of order) perRoute.get(route)!.push(await run(route, options.roundSeconds));
      process.stderr.write(
        `  guard round ${round + 1}/${options.rounds}: ${GUARD_ROUTES.map((r) => `${r} ${Math.round(perRoute.get(r)![round].rps)}/s ${Math.round(cpu.get(r)![round])}µs`).join(', ')}\n`,
      );
    }
    const routes = GUARD_ROUTES.map((route): GuardRouteResult => {
      const rounds = perRoute.get(route)!;
      const publicRoute: GuardRoute = route.startsWith('shipped') ? 'shipped/public' : 'proposed/public';
      const reference = perRoute.get(publicRoute)!;
      const ratios = rounds.map((r, i) => r.rps / reference[i].rps);
      const cpuSamples = cpu.get(route)!;
      const cpuReference = cpu.get(publicRoute)!;
      return {
        route,
        rps: median(rounds.map((r) => r.rps)),
        cpuPerRequest: median(cpuSamples),
        cpuRatio: median(cpuSamples.map((c, i) => cpuReference[i] / c)),
        p50: median(rounds.map((r) => r.p50)),
        p99: median(rounds.map((r) => r.p99)),
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        non2xx: rounds.reduce((n, r) => n + r.non2xx + r.errors, 0),
        rounds,
      };
    });
    // Paired: per server, one connection cycling through its routes with public between each.
    for (const [server, names] of [
      [servers[0], ['shipped/kit', 'shipped/recipe', 'shipped/passport']],
      [servers[1], ['proposed/kit']],
    ] as const) {
      const publicRoute: GuardRoute = names[0].startsWith('shipped') ? 'shipped/public' : 'proposed/public';
      const spec = (route: GuardRoute) => ({ method: 'GET', path: targets[route].path, headers: { authorization: targets[route].auth[0] } });
      const requests = names.flatMap((n) => [spec(publicRoute), spec(n)]);
      await load({ url: server.url, connections: 1, amount: 2_000, requests });
      await server.call('routes:reset');
      const cpuBefore = await server.call<number>('cpu');
      const mixed = await load({ url: server.url, connections: 1, amount: options.pairedRequests, requests });
      const cpuAfter = await server.call<number>('cpu');
      const times = await server.call<Record<string, { meanMicros: number }>>('routes:get');
      const publicMicros = times[targets[publicRoute].path].meanMicros;
      const extra = names.map((n) => times[targets[n].path].meanMicros - publicMicros);
      // Half the requests were public, the other half spread evenly over `names`.
      const cpuMixed = (cpuAfter - cpuBefore) / Math.max(1, mixed.ok + mixed.non2xx);
      const cpuPublic = cpuMixed - extra.reduce((a, b) => a + b, 0) / (2 * names.length);
      routes.find((r) => r.route === publicRoute)!.pairedMicros = publicMicros;
      names.forEach((n, i) => {
        const r = routes.find((x) => x.route === n)!;
        r.pairedMicros = publicMicros + extra[i];
        r.pairedExtraMicros = extra[i];
        r.pairedRatio = cpuPublic / (cpuPublic + extra[i]);
      });
      process.stderr.write(`  guard paired: ${names.map((n, i) => `${n} +${extra[i].toFixed(1)} µs`).join(', ')} over ${publicRoute} (${cpuPublic.toFixed(0)} µs CPU per public request)\n`);
    }
    return { connections: options.connections, roundSeconds: options.roundSeconds, rounds: options.rounds, patches: options.patches, pairedRequests: options.pairedRequests, routes, sanity };
  } finally {
    for (const s of servers) await s.stop();
    for (const db of dbs) await dropDatabase(db);
  }
}
