import { Agent, IncomingHttpHeaders, request } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A keep-alive pool sized for the load generators' concurrency. */
let benchAgent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * Drops every pooled connection. Called between measurements so no request goes out on a socket
 * that sat idle while another server was measured (a server closing it then reads as a failure).
 */
export function resetConnections(): void {
  benchAgent.destroy();
  benchAgent = new Agent({ keepAlive: true, maxSockets: 256 });
}

export function httpRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; readBody?: boolean } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', agent: benchAgent, headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      if (init.readBody) res.on('data', (c: Buffer) => chunks.push(c));
      else res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: init.readBody ? Buffer.concat(chunks).toString() : '' }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** `name=value` pairs of the Set-Cookie headers (attributes dropped). */
export function setCookies(headers: IncomingHttpHeaders): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of headers['set-cookie'] ?? []) {
    const pair = line.split(';', 1)[0];
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return jar;
}
