import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from '../lib/net';
import { databaseUrl, dropDatabase, freshDatabase } from '../lib/pg';
import { median } from '../lib/stats';

const ROOT = resolve(__dirname, '..', '..');

/** What is started: the three minimal hosts of bench/startup/host.js and the built demo on each platform. */
export const STARTUP_TARGETS = ['bare', 'typeorm', 'module', 'demo', 'demo-fastify'] as const;
export type StartupTarget = (typeof STARTUP_TARGETS)[number];

export interface StartupPoint {
  target: StartupTarget;
  /** ms from spawn to the port accepting a connection, per start. */
  listenMs: number[];
  /** RSS once listening (after a 500 ms settle), MiB, per start. */
  rssMiB: number[];
  listenMsMedian: number;
  rssMiBMedian: number;
}

export interface StartupResult {
  buildSeconds: number;
  starts: number;
  points: StartupPoint[];
  /** The module's share: `module` − `typeorm` (the host without it), medians. */
  moduleListenMs: number;
  moduleRssMiB: number;
}

/**
 * Start-up and footprint: the time from process start to listening and the RSS after boot of the
 * built demo (nest build, on Express and on Fastify) and of minimal hosts (bare Nest; + TypeORM;
 * + AuthModule), each started `starts` times, targets alternating. Everything runs as built
 * JavaScript against a migrated PostgreSQL database, so no TypeScript compiler or migration runs
 * at start-up.
 */
export async function startupSuite(options: { starts: number }): Promise<StartupResult> {
  const started = Date.now();
  const build = spawnSync(process.execPath, [resolve(ROOT, 'node_modules/@nestjs/cli/bin/nest.js'), 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`nest build failed: ${(build.stdout + build.stderr).split('\n').slice(0, 3).join(' ')}`);
  const buildSeconds = (Date.now() - started) / 1000;
  const db = 'bench_startup';
  await freshDatabase(db);
  const url = databaseUrl(db);
  try {
    const samples = new Map<StartupTarget, { listenMs: number[]; rssMiB: number[] }>(STARTUP_TARGETS.map((t) => [t, { listenMs: [], rssMiB: [] }]));
    for (let i = 0; i < options.starts; i++) {
      for (const target of STARTUP_TARGETS) {
        const one = await startOnce(target, url);
        samples.get(target)!.listenMs.push(one.listenMs);
        samples.get(target)!.rssMiB.push(one.rssMiB);
      }
      process.stderr.write(`  start-up ${i + 1}/${options.starts}: ${STARTUP_TARGETS.map((t) => `${t} ${Math.round(samples.get(t)!.listenMs[i])} ms ${Math.round(samples.get(t)!.rssMiB[i])} MiB`).join(', ')}\n`);
    }
    const points = STARTUP_TARGETS.map((target): StartupPoint => {
      const s = samples.get(target)!;
      return { target, ...s, listenMsMedian: median(s.listenMs), rssMiBMedian: median(s.rssMiB) };
    });
    const at = (t: StartupTarget) => points.find((p) => p.target === t)!;
    return {
      buildSeconds,
      starts: options.starts,
      points,
      moduleListenMs: at('module').listenMsMedian - at('typeorm').listenMsMedian,
      moduleRssMiB: at('module').rssMiBMedian - at('typeorm').rssMiBMedian,
    };
  } finally {
    await dropDatabase(db);
  }
}

async function startOnce(target: StartupTarget, databaseUrl: string): Promise<{ listenMs: number; rssMiB: number }> {
  const port = await freePort();
  // A clean environment: nothing of the developer's (REDIS_URL, AUTH_*, a .env) changes what starts.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), DATABASE_URL: databaseUrl };
  const demo = target === 'demo' || target === 'demo-fastify';
  const script = demo ? resolve(ROOT, 'dist/demo/src/main.js') : resolve(ROOT, 'bench/startup/host.js');
  const env = demo
    ? { ...base, NODE_ENV: 'development', APP_URL: `http://127.0.0.1:${port}`, HTTP_PLATFORM: target === 'demo-fastify' ? 'fastify' : 'express' }
    : { ...base, NODE_ENV: 'production', BENCH_HOST: target, BENCH_LIB: resolve(ROOT, 'dist/demo/libs/social-auth/src/index.js') };
  const t0 = process.hrtime.bigint();
  // cwd is bench/startup, which has no .env for the demo to read.
  const child = spawn(process.execPath, [script], { cwd: resolve(ROOT, 'bench/startup'), env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await waitListening(port, child, () => stderr);
    const listenMs = Number(process.hrtime.bigint() - t0) / 1e6;
    await new Promise((r) => setTimeout(r, 500));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { listenMs, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Resolves once 127.0.0.1:port accepts a connection (polled every 5 ms); rejects if the child exits first or after 60 s. */
function waitListening(port: number, child: { exitCode: number | null }, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  return new Promise((done, fail) => {
    const attempt = () => {
      if (child.exitCode !== null) return fail(new Error(`exited with ${child.exitCode} before listening: ${stderr().split('\n')[0]}`));
      if (Date.now() > deadline) return fail(new Error('did not listen within 60 s'));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done();
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(attempt, 5);
      });
    };
    attempt();
  });
}
