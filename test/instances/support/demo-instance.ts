import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** One demo process (`src/main.ts`, as `npm start` runs it minus the build), listening on its own port. */
export interface DemoInstance {
  name: string;
  /** `APP_URL`, e.g. `http://127.0.0.1:41234`. */
  url: string;
  child: ChildProcess;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote (for failure messages and log assertions; never printed). */
  output(): string;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Demo variables a developer's shell or `.env` might set; each is passed explicitly (empty = unset). */
const DEMO_VARIABLES = [
  'NODE_ENV', 'PORT', 'HOST', 'APP_URL', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX', 'AUTH_JWT_SECRET', 'AUTH_JWT_PRIVATE_KEY',
  'AUTH_ACCESS_TTL', 'AUTH_REFRESH_IDLE_TTL', 'AUTH_REFRESH_ABSOLUTE_TTL',
  'GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'GOOGLE_ISSUER', 'GOOGLE_AUTHORIZATION_URL', 'GOOGLE_TOKEN_URL',
  'GOOGLE_USERINFO_URL', 'GOOGLE_JWKS_URL', 'GOOGLE_DISCOVERY_URL', 'GOOGLE_HOSTED_DOMAIN',
  'GITHUB_CLIENT_ID', 'GITHUB_CLIENT_SECRET', 'GITHUB_AUTHORIZATION_URL', 'GITHUB_TOKEN_URL', 'GITHUB_API_URL', 'GITHUB_ISSUER',
  'AUTH_SANDBOX', 'AUTH_TRUST_PROXY', 'AUTH_RATE_LIMIT_START', 'AUTH_RATE_LIMIT_CALLBACK', 'AUTH_RATE_LIMIT_REFRESH',
];

/**
 * Spawns the demo with `env` on a free port and resolves once `/health` answers 200 (the demo runs
 * its migrations first, so start instances sharing a database one after the other).
 */
export async function startDemoInstance(name: string, env: Record<string, string>, timeoutMs = 120_000): Promise<DemoInstance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const demoEnv: Record<string, string> = Object.fromEntries(DEMO_VARIABLES.map((v) => [v, '']));
  Object.assign(demoEnv, { NODE_ENV: 'test', PORT: String(port), HOST: '127.0.0.1', APP_URL: url, AUTH_SANDBOX: 'false', ...env });
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...demoEnv, FORCE_COLOR: '0', NO_COLOR: '1', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const instance: DemoInstance = {
    name,
    url,
    child,
    exited,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
  try {
    await waitForHealth(instance, timeoutMs);
  } catch (error) {
    await instance.stop(1_000);
    throw new Error(`instance ${name}: ${(error as Error).message}\n--- output ---\n${output.trim() || '(none)'}`);
  }
  return instance;
}

async function waitForHealth(instance: DemoInstance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) throw new Error(`exited with code ${instance.child.exitCode} before answering /health`);
    try {
      const res = await fetch(`${instance.url}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`no 200 from /health within ${timeoutMs} ms`);
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
