import { randomBytes } from 'node:crypto';
import type { BenchServerConfig } from '../baselines/bench-config';
import { ServerChild, startServer } from './child';
import { freePort } from './net';

/** Starts bench/servers/bench-server.ts on a free port against `databaseUrl`. */
export async function startBenchServer(databaseUrl: string, extra: Partial<BenchServerConfig> = {}): Promise<ServerChild> {
  const port = await freePort();
  const config: BenchServerConfig = {
    databaseUrl,
    secret: randomBytes(32).toString('base64url'),
    appUrl: `http://127.0.0.1:${port}`,
    port,
    poolSize: 10,
    ...extra,
  };
  return startServer('bench/servers/bench-server.ts', config);
}
