import { Samples, percentile } from './stats';

export interface ClosedLoopResult {
  ok: number;
  failed: number;
  seconds: number;
  /** Successful operations per second. */
  perSecond: number;
  p50: number;
  p99: number;
  /** Failure messages and how often each happened (never token values). */
  failures: Record<string, number>;
}

/**
 * `workers` loops, each running `operation(worker)` back to back for `seconds` (closed loop:
 * concurrency is exactly `workers`). Used where each request depends on the previous answer
 * (a refresh token's successor), which autocannon's per-request context cannot carry.
 */
export async function closedLoop(workers: number, seconds: number, operation: (worker: number) => Promise<void>): Promise<ClosedLoopResult> {
  const samples = new Samples();
  const failures: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const loop = async (worker: number) => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      try {
        await operation(worker);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
        ok++;
      } catch (error) {
        failed++;
        const key = (error as Error)?.message?.slice(0, 120) ?? 'error';
        failures[key] = (failures[key] ?? 0) + 1;
        if (failures[key] > 1000) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => loop(i)));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const values = samples.values();
  return { ok, failed, seconds: elapsed, perSecond: ok / elapsed, p50: percentile(values, 50), p99: percentile(values, 99), failures };
}
