import autocannon from 'autocannon';
import { Samples, percentile } from './stats';

/** One autocannon run, with latencies taken from every response at sub-millisecond resolution. */
export interface LoadResult {
  /** 2xx responses per second. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Latency percentiles of 2xx responses, milliseconds. */
  p50: number;
  p90: number;
  p99: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds to run; or `amount` requests. */
  duration?: number;
  amount?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** One Authorization header value per connection (cycled). */
  perConnectionAuth?: string[];
  requests?: autocannon.RequestSpec[];
}

/**
 * Runs autocannon against a server in another process. autocannon's own latency histogram has
 * 1 ms resolution, which hides a guard's cost; this records each response's time (float ms)
 * from the 'response' event instead.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const samples = new Samples();
  let ok = 0;
  let non2xx = 0;
  let nextAuth = 0;
  const auth = options.perConnectionAuth;
  const settings: autocannon.Options = { url: options.url, connections: options.connections, pipelining: 1, timeout: 30 };
  // autocannon treats a present-but-undefined option as set, so only defined ones are passed.
  if (options.amount) settings.amount = options.amount;
  else settings.duration = options.duration;
  if (options.method) settings.method = options.method;
  if (options.headers) settings.headers = options.headers;
  if (options.body !== undefined) settings.body = options.body;
  if (options.requests) settings.requests = options.requests;
  if (auth) settings.setupClient = (client) => client.setHeaders({ ...(options.headers ?? {}), authorization: auth[nextAuth++ % auth.length] });
  const instance = autocannon(settings);
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      samples.push(responseTime);
    } else {
      non2xx++;
    }
  });
  const result = await instance;
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  const latencies = samples.values();
  return {
    rps: ok / seconds,
    ok,
    non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
  };
}
