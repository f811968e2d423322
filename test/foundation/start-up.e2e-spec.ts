import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/** Runs the demo's real entry point with an environment and collects how it ends. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', TS_NODE_PROJECT: 'tsconfig.json', HTTP_PLATFORM: platform, ...env },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
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
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('a database that is down stops start-up with a clear line and no stack', async () => {
    const result = await start({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('cannot open the database named by DATABASE_URL: ECONNREFUSED');
  }, 90_000);
});
