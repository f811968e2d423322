/**
 * `npm run bench`: the guard's cost, refresh throughput, sign-in cost, scale and memory, each
 * against a server in its own process on loopback. Writes bench/results/latest.json and the
 * generated part of BENCHMARKS.md.
 *
 *   npm run bench                     # everything, 1k and 1M seeded users included (< 10 min)
 *   npm run bench -- --quick          # short runs and 1k users only, to check the harness (not for comparison)
 *   npm run bench -- --quick --scale  # quick, but with the 1M-user point
 *   npm run bench -- --only=guard,memory --no-write   # some suites; results to bench/results/*.tmp only
 *   npm run bench -- --render=bench/results/latest.json  # rewrite BENCHMARKS.md's tables from saved results
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { machineInfo } from './lib/machine';
import { writeReport } from './lib/report';
import { calibrationSuite } from './suites/calibration';
import { guardSuite } from './suites/guard';
import { machineClientsSuite } from './suites/machine-clients';
import { memorySuite } from './suites/memory';
import { microSuite } from './suites/micro';
import { REFRESH_FLOOR_VARIANT, REFRESH_JUDGED_VARIANT, RefreshVariant, refreshSuite } from './suites/refresh';
import { scaleSuite } from './suites/scale';
import { signInSuite } from './suites/signin';
import { startupSuite } from './suites/startup';

/**
 * The refresh suite's servers: the library on PostgreSQL (the one the target is judged on), its
 * floor on PostgreSQL (the same two statements and cookies, nothing else), and the library on
 * MariaDB and SQLite.
 */
const REFRESH_VARIANTS: RefreshVariant[] = [
  { label: REFRESH_JUDGED_VARIANT, database: 'postgres' },
  { label: REFRESH_FLOOR_VARIANT, database: 'postgres', floor: true },
  { label: 'library, MariaDB', database: 'mariadb' },
  { label: 'library, SQLite', database: 'sqlite' },
];

/**
 * Version of the results JSON's shape; --render refuses any other. 3: the guard on Express and
 * Fastify with the fast-jwt reference, refresh against its floor and on three databases, start-up;
 * 2: guard routes public/kit/recipe/passport on Express only; 1 had shipped/proposed.
 */
const RESULTS_FORMAT = 3;

const SUITES = ['calibration', 'micro', 'guard', 'refresh', 'signin', 'scale', 'memory', 'startup', 'clients'] as const;
type SuiteName = (typeof SUITES)[number];

interface Args {
  only: Set<SuiteName>;
  scale: boolean;
  quick: boolean;
  write: boolean;
  render?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: new Set(SUITES), scale: process.env.BENCH_SCALE === '1', quick: false, write: true };
  for (const arg of argv) {
    if (arg === '--scale') args.scale = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--no-write') args.write = false;
    else if (arg.startsWith('--render=')) args.render = arg.slice(9);
    else if (arg.startsWith('--only=')) {
      const names = arg.slice(7).split(',').filter(Boolean);
      for (const n of names) if (!SUITES.includes(n as SuiteName)) throw new Error(`unknown suite ${n}; one of ${SUITES.join(', ')}`);
      args.only = new Set(names as SuiteName[]);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

export type SuiteOutcome<T> = { ok: true; seconds: number; result: T } | { ok: false; seconds: number; error: string };

async function attemptSuite<T>(name: string, work: () => Promise<T>): Promise<SuiteOutcome<T>> {
  process.stderr.write(`\n== ${name}\n`);
  const started = Date.now();
  try {
    const result = await work();
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`== ${name} done in ${seconds.toFixed(0)} s\n`);
    return { ok: true, seconds, result };
  } catch (error) {
    const seconds = (Date.now() - started) / 1000;
    const message = (error as Error)?.message?.split('\n')[0] ?? String(error);
    process.stderr.write(`== ${name} FAILED after ${seconds.toFixed(0)} s: ${message}\n`);
    return { ok: false, seconds, error: message };
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.render) {
    const saved = JSON.parse(readFileSync(resolve(args.render), 'utf8')) as Record<string, unknown>;
    if (saved.format !== RESULTS_FORMAT) {
      throw new Error(`${args.render} was written by an older bench (results format ${String(saved.format ?? 1)}, with shipped/proposed variants); run the suites again`);
    }
    writeReport(saved);
    process.stderr.write(`BENCHMARKS.md rendered from ${args.render}\n`);
    return;
  }
  const q = args.quick;
  const started = Date.now();
  const machine = await machineInfo();
  const results: Record<string, unknown> = { format: RESULTS_FORMAT, machine, args: { only: [...args.only], scale: args.scale, quick: args.quick } };
  const dir = resolve(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const output = resolve(dir, args.write ? 'latest.json' : 'last-no-write.json.tmp');
  // Saved after every suite, so an interrupted run keeps what it measured (--render can show it).
  const save = () => writeFileSync(output, `${JSON.stringify({ ...results, totalSeconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
  const attempt = async <T>(key: SuiteName, name: string, work: () => Promise<T>): Promise<void> => {
    results[key] = await attemptSuite(name, work);
    save();
  };
  if (args.only.has('calibration')) {
    await attempt('calibration', 'calibration (bare HTTP, bare PostgreSQL)', () => calibrationSuite({ seconds: q ? 1 : 3 }));
  }
  if (args.only.has('micro')) {
    await attempt('micro', 'token and guard CPU (in-process)', () => microSuite({ iterations: q ? 1000 : 4000 }));
  }
  if (args.only.has('guard')) {
    await attempt('guard', 'guard overhead', () => guardSuite({ rounds: q ? 2 : 3, roundSeconds: q ? 1 : 1.5, warmupSeconds: q ? 1 : 2, connections: 16, pairedBlock: q ? 300 : 800, pairedRounds: q ? 2 : 6 }));
  }
  if (args.only.has('refresh')) {
    await attempt('refresh', 'refresh rotation', () => refreshSuite({ concurrencies: [1, 16, 64], seconds: q ? 2 : 6, subRounds: q ? 2 : 3, variants: REFRESH_VARIANTS }));
  }
  if (args.only.has('signin')) {
    await attempt('signin', 'sign-in cost', () => signInSuite({ seconds: q ? 2 : 6, concurrency: 8 }));
  }
  if (args.only.has('scale')) {
    await attempt('scale', 'scale', () =>
      scaleSuite({ sizes: q && !args.scale ? [1_000] : [1_000, 1_000_000], rounds: q ? 2 : 4, lookupsPerRound: q ? 100 : 300, signInsPerRound: q ? 10 : 40 }),
    );
  }
  if (args.only.has('memory')) {
    await attempt('memory', 'memory', () => memorySuite({ requests: q ? 20_000 : 100_000, warmup: q ? 5_000 : 10_000, sessions: 1_000, connections: 16 }));
  }
  if (args.only.has('startup')) {
    await attempt('startup', 'start-up and footprint', () => startupSuite({ starts: q ? 2 : 5 }));
  }
  if (args.only.has('clients')) {
    await attempt('clients', 'machine clients (in-process)', () => machineClientsSuite({ seconds: q ? 1 : 3, iterations: q ? 1000 : 5000 }));
  }
  results.totalSeconds = (Date.now() - started) / 1000;
  machine.loadAtEnd = loadavg()[0];
  save();
  if (args.write) writeReport(results);
  process.stderr.write(`\nbench finished in ${Math.round((Date.now() - started) / 1000)} s${args.write ? '; BENCHMARKS.md updated' : ''}\n`);
}

main().catch((error: Error) => {
  console.error(error?.stack ?? String(error));
  process.exit(1);
});
