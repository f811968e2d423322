import { createServer, request as httpRequest, Server } from 'node:http';

/** Header a test sets to pick the instance (`A`, `B`, …); stripped before forwarding. */
export const ROUTE_TO = 'x-test-route-to';
/** Header a test sets to play a client at another address; stripped, then appended to X-Forwarded-For. */
export const CLIENT_IP = 'x-test-client-ip';

/**
 * The load balancer in front of the instances: one public origin (`APP_URL` of every instance),
 * forwarding each request to the instance the test names, and appending the client address to
 * `X-Forwarded-For` like a real proxy (so the instances trust exactly one hop).
 */
export class LoadBalancer {
  private readonly targets = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<LoadBalancer> {
    const server = createServer();
    server.keepAliveTimeout = 1_000;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    const lb = new LoadBalancer(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => lb.forward(req, res));
    return lb;
  }

  /** Registers an instance under `name` (its own base URL). */
  add(name: string, url: string): void {
    this.targets.set(name, url);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const name = String(req.headers[ROUTE_TO] ?? '');
    const target = this.targets.get(name);
    if (!target) {
      res.writeHead(502).end(`no instance "${name}"`);
      return;
    }
    const headers = { ...req.headers };
    delete headers[ROUTE_TO];
    const client = String(headers[CLIENT_IP] ?? req.socket.remoteAddress ?? '');
    delete headers[CLIENT_IP];
    const prior = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
    const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }
}
