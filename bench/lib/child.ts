import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { IpcRequest, IpcResponse, ReadyMessage } from './ipc';

const ROOT = resolve(__dirname, '..', '..');

/** A benchmark server running in its own Node process (its own event loop, its own core). */
export interface ServerChild {
  port: number;
  url: string;
  pid: number;
  /** Sends a command to the child and resolves with its answer. */
  call<T>(cmd: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts `script` (a .ts file under bench/) in a child process with `config` in its environment
 * and waits until it reports the port it listens on. The child inherits stderr (errors only);
 * it never prints tokens.
 */
export async function startServer(script: string, config: unknown, options: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<ServerChild> {
  const child = spawn(
    process.execPath,
    // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=bench/results/profiles") profiles the servers.
    ['--expose-gc', ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(options.nodeArgs ?? []), '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', resolve(ROOT, script)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production', TS_NODE_PROJECT: resolve(ROOT, 'tsconfig.json'), BENCH_SERVER_CONFIG: JSON.stringify(config) },
    },
  );
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error(`${script} exited`));
    pending.clear();
    done();
  }));
  child.on('message', (raw) => {
    const message = raw as IpcResponse;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(message.error ?? 'child error'));
  });
  const port = await waitReady(child, script, options.timeoutMs ?? 120_000);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    call<T>(cmd: string, args?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${script} has exited`));
      const id = nextId++;
      return new Promise<T>((res, rej) => {
        pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
        child.send({ id, cmd, args } satisfies IpcRequest);
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function waitReady(child: ChildProcess, script: string, timeoutMs: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (raw: unknown) => {
      const message = raw as ReadyMessage;
      if (message && message.ready) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolvePort(message.port);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with code ${code} before it was ready`));
    });
  });
}
