import { closedLoop, ClosedLoopResult } from '../lib/closed-loop';
import { startFakes } from '../lib/fakes';
import { resetConnections } from '../lib/http';
import { signIn } from '../lib/oauth-client';
import { dropDatabase, freshDatabase } from '../lib/pg';
import { startBenchServer } from '../lib/servers';

export interface SqlProfile {
  count: number;
  /** Without BEGIN/START TRANSACTION/COMMIT/ROLLBACK/SAVEPOINT. */
  dataStatements: number;
  statements: string[];
}

export interface SignInLoad extends Pick<ClosedLoopResult, 'perSecond' | 'p50' | 'p99' | 'failed' | 'failures'> {
  label: string;
  provider: 'google' | 'github';
  concurrency: number;
}

export interface SignInResult {
  sql: Record<'googleNew' | 'googleReturning' | 'githubNew' | 'githubReturning', SqlProfile>;
  loads: SignInLoad[];
}

const TX = /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)/i;

/**
 * Sign-in cost: complete browser sign-ins (start → provider authorize → callback) against the
 * testing kit's fake Google and GitHub, which run in this process (like remote providers, their
 * CPU is not the app's). Counts the SQL statements the app sends for one new and one returning
 * user's sign-in, then measures sign-ins per second.
 */
export async function signInSuite(options: { seconds: number; concurrency: number }): Promise<SignInResult> {
  const fakes = await startFakes();
  const db = 'bench_signin';
  const url = await freshDatabase(db);
  const server = await startBenchServer(url, fakes.providers);
  try {
    let serial = 0;
    const fresh = (prefix: string) => `${prefix}-${++serial}`;
    // Warm-up (JIT, JWKS fetch, pool): new users on both providers, then the same users again.
    const warmKeys = Array.from({ length: 64 }, () => fresh('warm'));
    for (const provider of ['google', 'github'] as const) {
      let i = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (i < warmKeys.length) await signIn(server.url, provider, warmKeys[i++]);
      }));
      for (const key of warmKeys.slice(0, 16)) await signIn(server.url, provider, key);
    }
    fakes.trim();

    const profile = async (provider: 'google' | 'github', key: string): Promise<SqlProfile> => {
      await server.call('sql:start');
      await signIn(server.url, provider, key);
      const { count, statements } = await server.call<{ count: number; statements: string[] }>('sql:stop');
      return { count, dataStatements: statements.filter((s) => !TX.test(s)).length, statements };
    };
    const googleKey = fresh('profile');
    const githubKey = fresh('profile');
    const sql = {
      googleNew: await profile('google', googleKey),
      googleReturning: await profile('google', googleKey),
      githubNew: await profile('github', githubKey),
      githubReturning: await profile('github', githubKey),
    };

    const loads: SignInLoad[] = [];
    const measure = async (label: string, provider: 'google' | 'github', concurrency: number, keyFor: () => string) => {
      resetConnections();
      const result = await closedLoop(concurrency, options.seconds, async () => {
        await signIn(server.url, provider, keyFor());
      });
      fakes.trim();
      loads.push({ label, provider, concurrency, perSecond: result.perSecond, p50: result.p50, p99: result.p99, failed: result.failed, failures: result.failures });
      process.stderr.write(`  sign-in ${label} c=${concurrency}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50.toFixed(1)} ms p99 ${result.p99.toFixed(1)} ms failed ${result.failed}\n`);
    };
    let next = 0;
    const returning = () => warmKeys[next++ % warmKeys.length];
    await measure('returning user', 'google', 1, returning);
    await measure('returning user', 'google', options.concurrency, returning);
    await measure('new user', 'google', options.concurrency, () => fresh('new'));
    await measure('returning user', 'github', options.concurrency, returning);
    return { sql, loads };
  } finally {
    await server.stop();
    await fakes.stop();
    await dropDatabase(db);
  }
}
