import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The demo as `npm start` runs it, in a child process on a fresh SQLite file, on the run's HTTP platform. */
export interface DemoProcess {
  /** `APP_URL` of the demo, e.g. `http://localhost:41234`. */
  url: string;
  /** Everything the demo wrote to stdout and stderr so far (for failure messages only). */
  output(): string;
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '../../..');

/**
 * Variables the demo reads. Each one is set explicitly (empty = unset for the demo), so neither
 * the caller's environment nor a developer's `.env` (which `main.ts` loads without overriding)
 * can turn real providers on or point the demo at another database.
 */
const DEMO_VARIABLES = [
  'NODE_ENV', 'PORT', 'HOST', 'APP_URL', 'DATABASE_URL', 'REDIS_URL', 'AUTH_JWT_SECRET', 'AUTH_JWT_PRIVATE_KEY',
  'AUTH_ACCESS_TTL', 'AUTH_REFRESH_IDLE_TTL', 'AUTH_REFRESH_ABSOLUTE_TTL',
  'GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_ISSUER', 'GOOGLE_AUTHORIZATION_URL', 'GOOGLE_TOKEN_URL',
  'GOOGLE_USERINFO_URL', 'GOOGLE_JWKS_URL', 'GOOGLE_DISCOVERY_URL', 'GOOGLE_HOSTED_DOMAIN',
  'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'GITHUB_AUTHORIZATION_URL', 'GITHUB_TOKEN_URL', 'GITHUB_API_URL', 'GITHUB_ISSUER',
  'AUTH_SANDBOX', 'AUTH_TRUST_PROXY', 'HTTP_PLATFORM',
];

/** Options of {@link startDemo}. */
export interface StartDemoOptions {
  /** `DATABASE_URL` of an existing, empty database; default: a new SQLite file in a temp dir. */
  databaseUrl?: string;
  /** More demo variables (they win over the defaults). */
  env?: Record<string, string>;
  /** How long to wait for `/health`. */
  timeoutMs?: number;
}

/**
 * Spawns `src/main.ts` (TypeScript run directly, like `npm start` minus the build step, through a
 * transpile-only require hook with a disk cache: see ts-register-cached.js) with the
 * sandbox identity providers on, a fresh database (SQLite unless given) and a free port, and resolves once
 * `/health` answers 200. Nothing is printed: the output is kept for error messages.
 */
export async function startDemo({ databaseUrl, env = {}, timeoutMs = 30_000 }: StartDemoOptions = {}): Promise<DemoProcess> {
  // A caller that must know the port before the demo starts (its APP_URL names it) passes PORT.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'social-auth-browser-'));
  const url = `http://localhost:${port}`;
  const demoEnv: Record<string, string> = Object.fromEntries(DEMO_VARIABLES.map((name) => [name, '']));
  Object.assign(demoEnv, {
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: url,
    DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'demo.sqlite')}`,
    AUTH_SANDBOX: 'true',
    // The run's platform (TEST_HTTP_PLATFORM, as the e2e suite's): the demo on Express or on Fastify.
    HTTP_PLATFORM: process.env.TEST_HTTP_PLATFORM ?? 'express',
    ...env,
  });
  const child = spawn(
    process.execPath,
    ['-r', join(__dirname, 'ts-register-cached.js'), '-r', 'tsconfig-paths/register', 'src/main.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, ...demoEnv, FORCE_COLOR: '0', NO_COLOR: '1', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const demo: DemoProcess = {
    url,
    output: () => output,
    stop: async () => {
      await stopChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealth(url, child, timeoutMs);
  } catch (error) {
    await demo.stop();
    throw new Error(`${(error as Error).message}\n--- demo output ---\n${output.trim() || '(none)'}`);
  }
  return demo;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the demo exited with code ${child.exitCode} before answering /health`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the demo did not answer ${url}/health with 200 within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}
