import { Samples, percentile } from '../lib/stats';

/** Time spent inside chosen service methods, so a request's time can be split into "the kit's service" and "everything around it". */
export class Spans {
  private readonly samples = new Map<string, Samples>();

  /** Replaces `target[method]` (an async method) with a timed wrapper recorded as `name`. */
  wrap<T extends object>(target: T, method: keyof T & string, name: string): void {
    const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== 'function') throw new Error(`cannot time ${name}: no method ${method}`);
    const samples = new Samples();
    this.samples.set(name, samples);
    (target as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const started = process.hrtime.bigint();
      try {
        return await original.apply(target, args);
      } finally {
        samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
    };
  }

  reset(): void {
    for (const s of this.samples.values()) s.reset();
  }

  summary(): Record<string, { count: number; p50: number; p99: number }> {
    const out: Record<string, { count: number; p50: number; p99: number }> = {};
    for (const [name, s] of this.samples) out[name] = { count: s.length, p50: percentile(s.values(), 50), p99: percentile(s.values(), 99) };
    return out;
  }
}
