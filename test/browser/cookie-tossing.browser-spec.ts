/*
 * Cookie tossing from a sibling subdomain, in a real browser (threat model F2). The demo runs as
 * `npm start` runs it (sandbox Google and GitHub), behind a TLS front at https://app.example.test;
 * the same front serves an attacker's page at https://evil.example.test. Chromium resolves every
 * *.example.test to 127.0.0.1 (--host-resolver-rules) and accepts the self-signed certificate made
 * here with openssl (--ignore-certificate-errors): two https origins under one parent domain.
 *
 * The attacker signs in with its own account (Google: Alice) in its own browser, then starts a
 * second sign-in and stops before the callback. Its page plants, with `Domain=example.test`,
 * every cookie it can under each name the module's cookies could have, carrying its own valid
 * transaction, refresh and access values, and sends the victim (signed in with GitHub: Octo Cat)
 * to its callback URL. The victim must stay Octo Cat: after the callback, on every page, and after
 * a refresh with the access token gone.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { browserSuiteEnabled, launchChromium } from './support/chromium';
import { DemoProcess, startDemo } from './support/demo-process';
import { ARTIFACTS_DIR, screenshot } from './support/screenshots';
import { scenarioSteps, startDemoAndBrowser } from './support/scenario';

const describeBrowser = browserSuiteEnabled() ? describe : describe.skip;
jest.setTimeout(45_000);

const APP_HOST = 'app.example.test';
const EVIL_HOST = 'evil.example.test';
const PARENT = 'example.test';

interface Me {
  id: string;
  displayName?: string;
  identities: { provider: string }[];
}

/** What the attacker's page plants: `document.cookie` assignments, then where it sends the victim. */
interface Plant {
  cookies: string[];
  next: string;
}

/** A throw-away certificate for both hosts (openssl, like the robustness suite's TLS case). */
function selfSignedCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${APP_HOST}`, '-addext', `subjectAltName=DNS:${APP_HOST},DNS:${EVIL_HOST}`], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

/**
 * The TLS front: `evil.example.test` answers the attacker's page; anything else is passed to the
 * demo on plain http, as a TLS-terminating proxy would.
 */
function startFront(tls: { key: Buffer; cert: Buffer }, demoPort: () => number, plant: () => Plant | undefined, holdCallback: () => ((url: string) => void) | undefined): Promise<Server> {
  const server = createHttpsServer(tls, (req, res) => {
    const hold = holdCallback();
    if (hold && /^\/auth\/[a-z]+\/callback\?/.test(req.url ?? '')) {
      // The attacker's own browser stops here: the code stays unredeemed, the transaction unused.
      hold(`https://${req.headers.host}${req.url}`);
      res.writeHead(204);
      res.end();
      return;
    }
    if ((req.headers.host ?? '').startsWith(EVIL_HOST)) {
      const p = plant();
      const script = p ? `for (const c of ${JSON.stringify(p.cookies)}) document.cookie = c; location.replace(${JSON.stringify(p.next)});` : '';
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`<!doctype html><html lang="en"><title>evil</title><main>nothing to see</main><script>${script}</script></html>`);
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: demoPort(), method: req.method, path: req.url, headers: { ...req.headers, 'x-forwarded-proto': 'https' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describeBrowser('cookie tossing from a sibling subdomain over https (Chromium, two origins under example.test)', () => {
  let dir: string;
  let database: TestDatabase | undefined;
  let demo: DemoProcess | undefined;
  let front: Server | undefined;
  let browser: Browser | undefined;
  let victim: BrowserContext;
  let attacker: BrowserContext;
  let plant: Plant | undefined;
  let hold: ((url: string) => void) | undefined;
  let demoPort = 0;
  let appUrl = '';
  let evilUrl = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'social-auth-tossing-'));
    front = await startFront(selfSignedCertificate(dir), () => demoPort, () => plant, () => hold);
    const port = (front.address() as AddressInfo).port;
    appUrl = `https://${APP_HOST}:${port}`;
    evilUrl = `https://${EVIL_HOST}:${port}`;
    const boot = async () => {
      database = await createTestDatabase();
      return startDemo({ databaseUrl: database.url, timeoutMs: 75_000, env: { APP_URL: appUrl } });
    };
    ({ demo, browser } = await startDemoAndBrowser(boot, () => launchChromium([`--host-resolver-rules=MAP *.${PARENT} 127.0.0.1`, '--ignore-certificate-errors'])));
    demoPort = Number(new URL(demo!.url).port);
    victim = await browser!.newContext({ locale: 'en-US' });
    attacker = await browser!.newContext({ locale: 'en-US' });
    for (const context of [victim, attacker]) context.setDefaultTimeout(20_000);
  }, 90_000);

  afterAll(async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    if (demo) writeFileSync(join(ARTIFACTS_DIR, 'cookie-tossing-demo-output.log'), demo.output());
    await browser?.close().catch(() => undefined);
    await demo?.stop();
    front?.closeAllConnections();
    await new Promise((resolve) => (front ? front.close(resolve) : resolve(undefined)));
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  const step = scenarioSteps();

  const control = (p: Page, name: RegExp) => p.getByRole('button', { name }).or(p.getByRole('link', { name })).first();

  /** Clicks a sign-in button on the app (or, signed in already, opens its login URL), answers the sandbox's consent page with Allow. */
  async function signIn(page: Page, provider: 'Google' | 'GitHub', signedIn = false): Promise<void> {
    await startSignIn(page, provider, signedIn);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.waitForURL((u) => u.origin === appUrl && u.pathname === '/');
  }

  async function startSignIn(page: Page, provider: 'Google' | 'GitHub', signedIn: boolean): Promise<void> {
    if (signedIn) {
      await page.goto(`${appUrl}/auth/${provider.toLowerCase()}`);
    } else {
      await page.goto(`${appUrl}/`);
      await control(page, new RegExp(`sign in with ${provider}`, 'i')).click();
    }
    await page.waitForURL((u) => u.origin !== appUrl);
  }

  /** `/auth/me` fetched by the app's own page with the browser's cookies. */
  async function me(page: Page): Promise<{ status: number; body: Me | null }> {
    return (await page.evaluate("fetch('/auth/me', { credentials: 'same-origin' }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }))")) as { status: number; body: Me | null };
  }

  /** The browser's cookies of the module (every name variant) that the app would be sent. */
  async function moduleCookies(context: BrowserContext) {
    return (await context.cookies([`${appUrl}/`, `${appUrl}/auth/refresh`, `${appUrl}/auth/google/callback`])).filter((c) => /^(__Host-|__Secure-)?sa_/.test(c.name));
  }

  let victimPage: Page;
  let victimId = '';
  let attackerId = '';
  const stolen: { transaction?: string; refresh?: string; access?: string; callbackUrl?: string } = {};

  /** Every module cookie the app set in `context`, by the name it had (whatever its prefix). */
  const seen = new Map<string, { domain: string; path: string; secure: boolean; httpOnly: boolean }>();
  async function byKind(context: BrowserContext, kind: 'tx' | 'rt' | 'at') {
    const cookies = await moduleCookies(context);
    for (const c of cookies) if (c.domain === APP_HOST) seen.set(c.name, { domain: c.domain, path: c.path, secure: c.secure, httpOnly: c.httpOnly });
    return cookies.find((c) => c.domain === APP_HOST && c.name.endsWith(`sa_${kind}`));
  }

  step('the attacker signs in with its own account (Google) in its own browser', async () => {
    const page = await attacker.newPage();
    await signIn(page, 'Google');
    const attackerMe = await me(page);
    expect(attackerMe.status).toBe(200);
    attackerId = attackerMe.body!.id;
    stolen.refresh = (await byKind(attacker, 'rt'))?.value;
    stolen.access = (await byKind(attacker, 'at'))?.value;
    expect(stolen.refresh).toBeTruthy();
    expect(stolen.access).toBeTruthy();
  });

  step('the attacker starts a second sign-in and stops before the callback: its transaction and callback URL', async () => {
    const page = await attacker.newPage();
    hold = (url) => (stolen.callbackUrl = url);
    await startSignIn(page, 'Google', true);
    stolen.transaction = (await byKind(attacker, 'tx'))?.value;
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    for (let waited = 0; !stolen.callbackUrl && waited < 15_000; waited += 100) await page.waitForTimeout(100);
    hold = undefined;
    expect(stolen.transaction).toMatch(/^v1\./);
    expect(new URL(stolen.callbackUrl!).origin).toBe(appUrl);
  });

  step('the victim signs in with GitHub', async () => {
    victimPage = await victim.newPage();
    await signIn(victimPage, 'GitHub');
    const victimMe = await me(victimPage);
    expect(victimMe.status).toBe(200);
    victimId = victimMe.body!.id;
    expect(victimId).not.toBe(attackerId);
    expect(victimMe.body!.identities.map((i) => i.provider)).toEqual(['github']);
  });

  step("the victim opens the attacker's page: it plants every cookie it can and sends the victim to its callback; the browser refuses every __Host- one", async () => {
    const values = { tx: stolen.transaction!, rt: stolen.refresh!, at: stolen.access! };
    // One copy per name, where it is sent first: the auth routes for the transaction, the refresh
    // route (more specific than any path the app uses) for the refresh token, everywhere for the
    // access token. Alone, or first, is what a first-wins reader would take.
    const paths = { tx: '/auth', rt: '/auth/refresh', at: '/' };
    const cookies: string[] = [];
    for (const [suffix, value] of Object.entries(values)) {
      for (const prefix of ['__Host-', '__Secure-', '']) cookies.push(`${prefix}sa_${suffix}=${value}; Domain=${PARENT}; Path=${paths[suffix as keyof typeof paths]}; Secure; SameSite=Lax`);
    }
    plant = { cookies, next: stolen.callbackUrl! };
    await victimPage.goto(`${evilUrl}/`);
    await victimPage.waitForURL((u) => u.origin === appUrl && u.pathname === '/');
    await victimPage.waitForLoadState('load');
    plant = undefined;
    await screenshot(victimPage, 'tossing-01-after-attacker-callback');

    const held = await moduleCookies(victim);
    // What a sibling can set, it did set: the attack was real ...
    expect(held.filter((c) => c.domain === `.${PARENT}`).map((c) => c.name)).toEqual(expect.arrayContaining(['__Secure-sa_tx', 'sa_tx', '__Secure-sa_rt', 'sa_rt', '__Secure-sa_at', 'sa_at']));
    // ... but no __Host- cookie came from it: every one the app is sent is its own, host-only at /.
    for (const c of held.filter((h) => h.name.startsWith('__Host-'))) expect({ name: c.name, domain: c.domain, path: c.path }).toEqual({ name: c.name, domain: APP_HOST, path: '/' });
    expect(held.filter((c) => c.name.startsWith('__Host-') && [values.tx, values.rt, values.at].includes(c.value))).toEqual([]);
    await byKind(victim, 'rt');
  });

  step('the victim is still signed in as themselves, not as the attacker', async () => {
    const after = await me(victimPage);
    expect({ status: after.status, id: after.body?.id }).toEqual({ status: 200, id: victimId });
    // The attacker's callback found no transaction the app could have set: refused, not signed in.
    expect(new URL(victimPage.url()).searchParams.get('error')).toBe('invalid_state');
  });

  step('with the access token gone, the refresh keeps the victim themselves (the planted refresh tokens are never read)', async () => {
    await victim.clearCookies({ name: '__Host-sa_at' });
    expect((await me(victimPage)).status).toBe(401);
    const refreshed = (await victimPage.evaluate("fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin' }).then((r) => r.status)")) as number;
    expect(refreshed).toBe(200);
    const after = await me(victimPage);
    expect({ status: after.status, id: after.body?.id }).toEqual({ status: 200, id: victimId });
    await victimPage.reload();
    await screenshot(victimPage, 'tossing-02-still-the-victim');
  });

  step("the victim's next sign-in is not broken by the planted transaction copies", async () => {
    await signIn(victimPage, 'GitHub', true);
    const after = await me(victimPage);
    expect({ status: after.status, id: after.body?.id }).toEqual({ status: 200, id: victimId });
  });

  step('every cookie the app set was __Host- (Secure, host-only, Path=/, HttpOnly): the names no sibling can set', async () => {
    expect([...seen.keys()].sort()).toEqual(['__Host-sa_at', '__Host-sa_rt', '__Host-sa_tx']);
    for (const attributes of seen.values()) expect(attributes).toEqual({ domain: APP_HOST, path: '/', secure: true, httpOnly: true });
  });
});

/*
 * Over plain http no cookie prefix exists, so a sibling can plant copies of every name. What the
 * module guarantees there: a name sent twice is refused and *every* copy is expired, so the
 * attacker's copy is never left behind to decide the next request. Chromium applies the module's
 * expiries here, with the real Domain and Path matching.
 */
describeBrowser('cookie tossing over plain http: a planted duplicate is refused and every copy expired (Chromium)', () => {
  let database: TestDatabase | undefined;
  let demo: DemoProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let appUrl = '';
  let evilUrl = '';

  beforeAll(async () => {
    const port = await freePort();
    appUrl = `http://${APP_HOST}:${port}`;
    evilUrl = `http://${EVIL_HOST}:${port}`;
    const boot = async () => {
      database = await createTestDatabase();
      return startDemo({ databaseUrl: database.url, timeoutMs: 75_000, env: { PORT: String(port), APP_URL: appUrl } });
    };
    ({ demo, browser } = await startDemoAndBrowser(boot, () => launchChromium([`--host-resolver-rules=MAP *.${PARENT} 127.0.0.1`])));
    context = await browser!.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
  }, 90_000);

  afterAll(async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    if (demo) writeFileSync(join(ARTIFACTS_DIR, 'cookie-tossing-http-demo-output.log'), demo.output());
    await browser?.close().catch(() => undefined);
    await demo?.stop();
    await database?.drop();
  }, 20_000);

  const step = scenarioSteps();

  const call = (method: 'GET' | 'POST', path: string) =>
    page.evaluate(`fetch(${JSON.stringify(path)}, { method: ${JSON.stringify(method)}, credentials: 'same-origin' }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }))`) as Promise<{ status: number; body: { id?: string; error?: string } | null }>;
  /** Every copy of cookie `name` the browser holds for the app, wherever it came from. */
  const copies = async (name: string) => (await context.cookies([`${appUrl}/`, `${appUrl}/auth/refresh`, `${appUrl}/auth/github/callback`])).filter((c) => c.name === name).map((c) => `${c.domain}${c.path}`);
  /** The attacker's page on the sibling host plants `cookie` (`document.cookie`, as any script there can). */
  async function plant(cookie: string): Promise<void> {
    const evil = await context.newPage();
    await evil.goto(`${evilUrl}/health`);
    await evil.evaluate(`document.cookie = ${JSON.stringify(cookie)}`);
    await evil.close();
  }
  async function signInWithGitHub(): Promise<string> {
    await page.goto(`${appUrl}/auth/github`);
    await page.waitForURL((u) => u.origin !== appUrl);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.waitForURL((u) => u.origin === appUrl && u.pathname === '/');
    return page.url();
  }

  let victimId = '';

  step('the victim signs in (plain http, unprefixed cookies)', async () => {
    await signInWithGitHub();
    const me = await call('GET', '/auth/me');
    expect(me.status).toBe(200);
    victimId = me.body!.id!;
    expect(await copies('sa_rt')).toHaveLength(1);
  });

  step('a planted refresh cookie with a more specific Path: the refresh is refused (cookie_conflict) and no copy survives', async () => {
    await plant(`sa_rt=${'P'.repeat(43)}; Domain=${PARENT}; Path=/auth/refresh`);
    const held = await copies('sa_rt');
    expect({ count: held.length, planted: held.includes(`.${PARENT}/auth/refresh`) }).toEqual({ count: 2, planted: true });
    const refreshed = await call('POST', '/auth/refresh');
    expect({ status: refreshed.status, error: refreshed.body?.error }).toEqual({ status: 401, error: 'cookie_conflict' });
    expect(await copies('sa_rt')).toEqual([]);
  });

  step('a planted access cookie with Domain=example.test: refused (cookie_conflict), and no copy survives', async () => {
    await signInWithGitHub();
    await plant(`sa_at=planted; Domain=${PARENT}; Path=/`);
    const me = await call('GET', '/auth/me');
    expect({ status: me.status, error: me.body?.error }).toEqual({ status: 401, error: 'cookie_conflict' });
    expect(await copies('sa_at')).toEqual([]);
  });

  step('a planted transaction cookie on the callback path: that sign-in is refused, the next one works and is the victim', async () => {
    await plant(`sa_tx=v1.planted; Domain=${PARENT}; Path=/auth/github/callback`);
    const landed = new URL(await signInWithGitHub());
    expect(landed.searchParams.get('error')).toBe('cookie_conflict');
    expect(await copies('sa_tx')).toEqual([]);
    await signInWithGitHub();
    const me = await call('GET', '/auth/me');
    expect({ status: me.status, id: me.body?.id }).toEqual({ status: 200, id: victimId });
  });
});

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createNetServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => done(port));
    });
  });
}
