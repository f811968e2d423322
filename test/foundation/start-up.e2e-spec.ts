import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/**
 * Demo processes running at once. Each compiles the demo with ts-node first (seconds of CPU):
 * started all together on a loaded 2-core machine they starve each other past any timer, so
 * they queue for one slot per core (at most two).
 */
const MAX_CHILDREN = Math.max(1, Math.min(2, availableParallelism()));
/**
 * How long one demo process may run, counted from its own spawn (never from its wait in the
 * queue). Every case ends in about 3 s on an idle machine; this only catches a hung start-up,
 * and a process killed by it fails its test saying so.
 */
const CHILD_TIMEOUT_MS = 120_000;
/**
 * Jest starts up to 5 concurrent tests at once (its default maxConcurrency); over
 * {@link MAX_CHILDREN} slots a test waits at most ceil(5 / MAX_CHILDREN) - 1 turns before its own.
 */
const TEST_TIMEOUT_MS = CHILD_TIMEOUT_MS * Math.ceil(5 / MAX_CHILDREN) + 15_000;

let running = 0;
const waiting: Array<() => void> = [];

/** Runs `task` when a slot is free; the slot is released when it ends. */
async function inSlot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

interface StartResult {
  code: number | null;
  stderr: string;
  stdout: string;
  /** True when the process was killed after {@link CHILD_TIMEOUT_MS}: a hang, not a refusal. */
  timedOut: boolean;
}

/** Runs the demo's real entry point with an environment and collects how it ends. */
function start(env: Record<string, string>): Promise<StartResult> {
  return inSlot(
    () =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'src/main.ts'], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', TS_NODE_PROJECT: 'tsconfig.json', HTTP_PLATFORM: platform, ...env },
        });
        let stderr = '';
        let stdout = '';
        let timedOut = false;
        child.stderr.on('data', (d) => (stderr += d));
        child.stdout.on('data', (d) => (stdout += d));
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, CHILD_TIMEOUT_MS);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stderr, stdout, timedOut });
        });
      }),
  );
}

/** Fails with the reason when the process hung, before the checks of what it printed. */
function expectEnded(result: StartResult): void {
  expect({ timedOut: result.timedOut, stdout: result.timedOut ? result.stdout.slice(-500) : '' }).toEqual({ timedOut: false, stdout: '' });
}

// Start-up runs the demo's real entry point (src/main.ts) in a child process, on the run's platform
// (TEST_HTTP_PLATFORM becomes the demo's HTTP_PLATFORM): the checks hold on Express and on Fastify.
const platform = process.env.TEST_HTTP_PLATFORM ?? 'express';

describe('start-up refuses bad configuration with one clear line', () => {
  it.concurrent.each([
    [{ DATABASE_URL: 'oracle://x/y' }, /DATABASE_URL has an unsupported scheme "oracle"/],
    [{ DATABASE_URL: 'postgres://127.0.0.1:5432/' }, /DATABASE_URL must name a database/],
    [{ AUTH_ACCESS_TTL: '10m' }, /AUTH_ACCESS_TTL must be a whole number/],
    [{ AUTH_ACCESS_TTL: '3600' }, /AUTH_ACCESS_TTL must be between 30 and 900/],
    [{ AUTH_JWT_SECRET: 'short' }, /AUTH_JWT_SECRET must be at least 32 characters/],
    [{ GOOGLE_CLIENT_ID: 'id-only' }, /GOOGLE_CLIENT_SECRET is required/],
    [{ NODE_ENV: 'production', APP_URL: 'https://app.example.com' }, /AUTH_JWT_SECRET or AUTH_JWT_PRIVATE_KEY is required in production/],
    [{ APP_URL: 'not a url' }, /APP_URL must be an absolute http\(s\) URL/],
    [{ AUTH_HANDOFF_REDIRECT_URIS: 'com.example.app:/oauth, javascript:alert(1)' }, /AUTH_HANDOFF_REDIRECT_URIS must list absolute URLs/],
    [{ HTTP_PLATFORM: 'koa' }, /HTTP_PLATFORM must be express or fastify \(got "koa"\)/],
  ])('%j', async (env, message) => {
    const result = await start(env as Record<string, string>);
    expectEnded(result);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, TEST_TIMEOUT_MS);

  it('a database that is down stops start-up with a clear line and no stack', async () => {
    const result = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    expectEnded(result);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('cannot open the database named by DATABASE_URL: ECONNREFUSED');
  }, TEST_TIMEOUT_MS);
});
