import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient } from './provider-http.client';

/** A real local server: the client is tested against sockets, not a mocked fetch. */
describe('ProviderHttpClient (bounded outbound HTTP)', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ url: string; authorization?: string }> = [];
  // A small cap, so the streamed over-cap case reaches it in a few chunks, well inside the 1 s
  // timeout even on a loaded machine (at 1 MiB it sometimes timed out first: provider_unavailable).
  const client = new ProviderHttpClient({ http: { timeoutMs: 1000, maxResponseBytes: 256 * 1024 } } as ResolvedAuthOptions);

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'public, max-age=3600' });
          return res.end('{"ok":true}');
        case '/declared-big':
          res.writeHead(200, { 'Content-Length': String(2 * 1024 * 1024) });
          return res.end(Buffer.alloc(2 * 1024 * 1024));
        case '/chunked-big': {
          // No Content-Length: the cap must hold while streaming.
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          const chunk = Buffer.alloc(64 * 1024, 'a');
          let sent = 0;
          const pump = () => {
            while (sent < 4 * 1024 * 1024) {
              sent += chunk.length;
              if (!res.write(chunk)) return res.once('drain', pump);
            }
            res.end();
          };
          return pump();
        }
        case '/redirect':
          res.writeHead(302, { Location: '/ok' });
          return res.end();
        case '/slow-headers':
          return void setTimeout(() => res.end('late'), 4000);
        case '/slow-body':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"a":');
          return void setTimeout(() => res.end('1}'), 4000);
        default:
          res.writeHead(404);
          return res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function failure(path: string): Promise<AuthError> {
    const error = await client.request(`${base}${path}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }

  it('reads a normal answer with its content type and max-age', async () => {
    await expect(client.request(`${base}/ok`)).resolves.toEqual({ status: 200, contentType: 'application/json', maxAge: 3600, text: '{"ok":true}' });
  });

  it.each([
    ['a declared body over the cap', '/declared-big', 'provider_error'],
    ['a streamed body over the cap (no Content-Length)', '/chunked-big', 'provider_error'],
    ['headers later than the timeout', '/slow-headers', 'provider_unavailable'],
    ['a body that stalls past the timeout', '/slow-body', 'provider_unavailable'],
  ])('%s → %s', async (_name, path, code) => {
    const started = Date.now();
    expect((await failure(path)).code).toBe(code);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a closed port → provider_unavailable, and the message names no URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = (await client.request(`http://127.0.0.1:${port}/token?secret=x`).then(
      () => undefined,
      (e: unknown) => e,
    )) as AuthError;
    expect(error.code).toBe('provider_unavailable');
    expect(String((error.cause as Error).message)).not.toContain('secret');
  });

  it('never follows a redirect (credentials would be replayed to another URL)', async () => {
    seen.length = 0;
    await expect(client.request(`${base}/redirect`, { headers: { Authorization: 'Bearer t' } })).resolves.toMatchObject({ status: 302 });
    expect(seen.map((s) => s.url)).toEqual(['/redirect']);
    await expect(client.requestOk(`${base}/redirect`)).rejects.toMatchObject({ code: 'provider_error' });
  });

  it.each([
    [404, 'provider_error'],
    [400, 'provider_error'],
    [429, 'provider_unavailable'],
    [503, 'provider_unavailable'],
  ])('requestOk classifies HTTP %i as %s', async (status, code) => {
    const tiny = createServer((_req, res) => {
      res.writeHead(status);
      res.end();
    });
    await new Promise<void>((resolve) => tiny.listen(0, '127.0.0.1', resolve));
    try {
      await expect(client.requestOk(`http://127.0.0.1:${(tiny.address() as AddressInfo).port}/`)).rejects.toMatchObject({ code });
    } finally {
      await new Promise((resolve) => tiny.close(resolve));
    }
  });
});
