import type { MemorySnapshot } from '../lib/ipc';
import { load } from '../lib/load';
import { dropDatabase, freshDatabase } from '../lib/pg';
import { startBenchServer } from '../lib/servers';
import type { OpenedSessions } from '../servers/kit-adapter';

export interface MemoryPoint {
  label: string;
  requests: number;
  memory: MemorySnapshot;
}

export interface MemoryResult {
  sessions: number;
  points: MemoryPoint[];
  non2xx: number;
  /** heapUsed and RSS growth from after warm-up to the end (bytes). */
  heapGrowth: number;
  rssGrowth: number;
  /** Retained heap per request over the measured requests (bytes). */
  heapPerRequest: number;
  bounds: { heapGrowth: number; rssGrowth: number };
  met: boolean;
}

/** The documented bound: what a per-request leak of even a few bytes would exceed. */
export const MEMORY_BOUNDS = { heapGrowth: 2 * 1024 * 1024, rssGrowth: 32 * 1024 * 1024 };

/**
 * RSS and heap (after a forced full GC) of a fresh server: after boot, after a warm-up, half-way
 * through and after `requests` (100k) guarded requests. Requests cycle through `sessions` distinct
 * sessions/tokens, so a per-token or per-session cache without a bound would show as growth.
 */
export async function memorySuite(options: { requests: number; warmup: number; sessions: number; connections: number }): Promise<MemoryResult> {
  const db = 'bench_memory';
  const url = await freshDatabase(db);
  const server = await startBenchServer(url);
  try {
    const opened = await server.call<OpenedSessions>('sessions', { count: options.sessions });
    const headers = opened.access.map((t) => ({ authorization: `Bearer ${t}` }));
    let next = 0;
    const requests = [
      {
        method: 'GET',
        path: '/bench/kit',
        setupRequest: (req: { headers?: Record<string, string> }) => {
          req.headers = headers[next++ % headers.length];
          return req;
        },
      },
    ];
    const points: MemoryPoint[] = [];
    let sent = 0;
    let non2xx = 0;
    const snapshot = async (label: string) => points.push({ label, requests: sent, memory: await server.call<MemorySnapshot>('mem', { gc: true }) });
    await snapshot('after boot (sessions opened)');
    const run = async (amount: number) => {
      const result = await load({ url: server.url, connections: options.connections, amount, requests });
      sent += result.ok + result.non2xx;
      non2xx += result.non2xx + result.errors;
    };
    await run(options.warmup);
    await snapshot('after warm-up');
    const half = Math.floor(options.requests / 2);
    await run(half);
    await snapshot(`after +${half / 1000}k guarded requests`);
    await run(options.requests - half);
    await snapshot(`after +${options.requests / 1000}k guarded requests`);
    const warm = points[1].memory;
    const last = points[points.length - 1].memory;
    const heapGrowth = last.heapUsed - warm.heapUsed;
    const rssGrowth = last.rss - warm.rss;
    return {
      sessions: options.sessions,
      points,
      non2xx,
      heapGrowth,
      rssGrowth,
      heapPerRequest: heapGrowth / options.requests,
      bounds: MEMORY_BOUNDS,
      met: heapGrowth <= MEMORY_BOUNDS.heapGrowth && rssGrowth <= MEMORY_BOUNDS.rssGrowth && non2xx === 0,
    };
  } finally {
    await server.stop();
    await dropDatabase(db);
  }
}
