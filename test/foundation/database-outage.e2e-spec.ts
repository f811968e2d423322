import { ConsoleLogger, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { AppModule } from '../../src/app.module';
import { runMigrations } from '../../src/bootstrap';
import { loadDemoConfig } from '../../src/config/demo.config';
import { signIn } from '../sessions/session-fixtures';
import { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { OAuthDriver } from '../support/oauth-driver';
import { fakeProviderEnv } from '../sign-in/support/sign-in-app';
import { createPlatformApp, configureTestApp, reservePort } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';

// Threat model I5: the database stops answering (server down, connections cut). The demo reaches
// PostgreSQL / MariaDB through a TCP proxy the test stops and starts again: meanwhile every request
// that needs the database answers 503 service_unavailable with Retry-After (not 500), /health too
// and without a stack, the log gets one line at the outage and one at the recovery, and the app
// recovers on its own. SQLite has no server to lose (its busy/locked errors are in the table test
// of isDatabaseUnreachable).

jest.setTimeout(60_000);

const url = process.env.DATABASE_URL ?? '';
const onServer = url.startsWith('postgres') || url.startsWith('mysql') || url.startsWith('mariadb');

/** A TCP proxy in front of the database that can be cut (refusing and dropping every connection) and restored. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      upstream.connect(this.target.port, this.target.host);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The outage: new connections are refused, open ones are cut. */
  async cut(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server!.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = undefined;
  }
}

/** Every line the app logged, with its context. */
class CapturingLogger extends ConsoleLogger {
  readonly lines: Array<{ level: string; context: string; message: string }> = [];
  override log(message: unknown, context?: string): void {
    this.lines.push({ level: 'log', context: context ?? '', message: String(message) });
  }
  override warn(message: unknown, context?: string): void {
    this.lines.push({ level: 'warn', context: context ?? '', message: String(message) });
  }
  override error(message: unknown, stackOrContext?: string, context?: string): void {
    this.lines.push({ level: 'error', context: context ?? stackOrContext ?? '', message: `${String(message)}${context ? `\n${stackOrContext}` : ''}` });
  }
}

(onServer ? describe : describe.skip)('I5: the database goes away and comes back', () => {
  let database: TestDatabase;
  let proxy: CuttableProxy;
  let app: INestApplication;
  let base: string;
  const logger = new CapturingLogger();
  let google: FakeGoogle;
  let github: FakeGitHub;

  beforeAll(async () => {
    google = await FakeGoogle.start();
    github = await FakeGitHub.start();
    database = await createTestDatabase();
    const direct = new URL(database.url);
    proxy = new CuttableProxy({ host: direct.hostname, port: Number(direct.port || (url.startsWith('postgres') ? 5432 : 3306)) });
    await proxy.start();
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    const port = await reservePort();
    base = `http://127.0.0.1:${port}`;
    const config = loadDemoConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      APP_URL: base,
      AUTH_JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      AUTH_SANDBOX: 'false',
      ...fakeProviderEnv(google, github),
      AUTH_RATE_LIMIT_REFRESH: '100000',
      DATABASE_URL: proxied.toString(),
    });
    await runMigrations(config);
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = createPlatformApp(moduleRef, { logger });
    configureTestApp(app, config);
    await app.listen(port, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.cut();
    await database?.drop();
    await google?.stop();
    await github?.stop();
  });

  const t = () => ({ app, dataSource: app.get(getDataSourceToken()), url: base, http: request(base) });
  const outageLines = () => logger.lines.filter((l) => /database unreachable/.test(l.message));
  const recoveryLines = () => logger.lines.filter((l) => /database reachable again/.test(l.message));

  it('503 service_unavailable with Retry-After while it is down, one log line each way, and it recovers without a restart', async () => {
    const { tokens } = await signIn(t());
    // A second session whose access token the guard has not seen yet: its liveness needs the database.
    const other = await signIn(t());
    await t().http.get('/health').expect(200);
    const before = logger.lines.length;

    await proxy.cut();
    for (let i = 0; i < 5; i++) {
      const refresh = await t().http.post('/auth/refresh').send({ refreshToken: tokens.refreshToken });
      expect([refresh.status, refresh.body]).toEqual([503, { statusCode: 503, error: 'service_unavailable', message: expect.any(String) }]);
      expect(refresh.headers['retry-after']).toBe('5');
      const health = await t().http.get('/health');
      expect([health.status, health.body.error]).toEqual([503, 'service_unavailable']);
      expect(health.headers['retry-after']).toBe('5');
      expect(health.text).not.toMatch(/\bat \S+ \(|ECONNREFUSED|Connection terminated|SELECT/);
    }
    // A host route behind the global guard: 503 with Retry-After as well, not a 500 (Nest's own
    // exception layer renders it, so the guard puts the header on the response itself).
    const me = await t().http.get('/me').set('Authorization', `Bearer ${other.tokens.accessToken}`);
    expect([me.status, me.body.error]).toEqual([503, 'service_unavailable']);
    expect(me.headers['retry-after']).toBe('5');
    // A sign-in whose callback needs the database lands on the error page with service_unavailable,
    // logged once with the rest of the outage (not a line per sign-in).
    const browser = new OAuthDriver(base);
    const start = await browser.start('google', { returnTo: '/' });
    expect(start.status).toBe(302);
    const callback = await browser.callback(await browser.authorize(start.location!));
    expect([callback.status, new URL(callback.location!, base).searchParams.get('error')]).toEqual([302, 'service_unavailable']);
    const during = logger.lines.slice(before);
    expect(outageLines()).toHaveLength(1);
    expect(outageLines()[0].level).toBe('error');
    // Nothing else: no "unexpected … answered as internal_error", no Nest ExceptionsHandler, no stack.
    expect(during.filter((l) => !/database unreachable/.test(l.message))).toEqual([]);
    expect(during.some((l) => /\n\s+at /.test(l.message))).toBe(false);
    expect(recoveryLines()).toHaveLength(0);

    await proxy.start();
    const deadline = Date.now() + 15_000;
    while (recoveryLines().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(recoveryLines()).toHaveLength(1);
    await t().http.get('/health').expect(200);
    const rotated = await t().http.post('/auth/refresh').send({ refreshToken: tokens.refreshToken }).expect(200);
    await t().http.post('/auth/refresh').send({ refreshToken: rotated.body.refreshToken }).expect(200);
    expect(outageLines()).toHaveLength(1);
    expect(recoveryLines()).toHaveLength(1);
  });
});
