/*
 * A real browser signs in. Debian's Chromium (never a downloaded one) drives the demo exactly as
 * `npm start` runs it on a fresh machine: `src/main.ts` in a child process, a new empty database
 * (SQLite, or a fresh one on the server DATABASE_URL names, so CI's three runs each cover one),
 * no provider credentials, so the sandbox serves the testing kit's fake Google and GitHub with
 * their consent pages. Each step leaves a screenshot in test-artifacts/browser/.
 *
 * The sandbox approves as fixed accounts (Google: Alice, GitHub: Octo Cat, different emails), so
 * the account is created with GitHub, Google is connected to it, and a later "Sign in with Google"
 * must land in that same account: that is what proves the link.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cookie, Locator, Page, Response } from 'playwright-core';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { browserSuiteEnabled, FreshBrowser, launchFreshChromium } from './support/chromium';
import { DemoProcess, startDemo } from './support/demo-process';
import { auditPage, CookieLedger, scriptVisibleState, secretsOnAppUrls, tabToFirstControl, UrlRecorder } from './support/page-checks';
import { ARTIFACTS_DIR, resetArtifacts, screenshot } from './support/screenshots';
import { scenarioSteps, startDemoAndBrowser } from './support/scenario';

const describeBrowser = browserSuiteEnabled() ? describe : describe.skip;
// Generous bounds: waits end as soon as the page is ready, so they only matter on a loaded machine.
jest.setTimeout(45_000);

/** Names of the module's cookies on plain http (see libs/social-auth/src/tokens/cookie-names.ts). */
const ACCESS_COOKIE = 'sa_at';
const REFRESH_COOKIE = 'sa_rt';
const MODULE_COOKIE = /^(__Host-|__Secure-)?sa_/;

interface Me {
  id: string;
  email?: string;
  displayName?: string;
  identities: { provider: string; email?: string }[];
}

describeBrowser('a real browser signs in (Chromium + sandbox Google and GitHub)', () => {
  let database: TestDatabase | undefined;
  let demo: DemoProcess | undefined;
  let browser: FreshBrowser | undefined;
  let page: Page;
  let urls: UrlRecorder;
  const ledger = new CookieLedger();
  const pageErrors: string[] = [];
  const shots: string[] = [];
  let accountId = '';

  beforeAll(async () => {
    resetArtifacts();
    const boot = async () => {
      database = await createTestDatabase();
      return startDemo({ databaseUrl: database.url, timeoutMs: 75_000 });
    };
    ({ demo, browser } = await startDemoAndBrowser(boot, () => launchFreshChromium()));
    const context = browser!.context;
    context.setDefaultTimeout(20_000);
    urls = new UrlRecorder(context);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 90_000);

  afterAll(async () => {
    if (demo) writeFileSync(join(ARTIFACTS_DIR, 'demo-output.log'), demo.output());
    await browser?.close();
    await demo?.stop();
    await database?.drop();
  }, 20_000);

  const app = (path = '/') => `${demo!.url}${path}`;
  const appOrigin = () => new URL(demo!.url).origin;
  const control = (p: Page, name: RegExp): Locator => p.getByRole('button', { name }).or(p.getByRole('link', { name })).first();
  const shoot = async (name: string) => shots.push(await screenshot(page, name));

  /**
   * One step of the story. Steps share the browser, so after a failure the later ones stop at
   * once (instead of each waiting for its timeout), and the failing page is kept as failure.png.
   */
  const step = scenarioSteps(() => page?.screenshot({ path: join(ARTIFACTS_DIR, 'failure.png'), fullPage: true }));

  async function authCookies(): Promise<Cookie[]> {
    // Every module cookie is at Path=/ (asking for /auth/refresh too would show one scoped deeper).
    const cookies = await browser!.context.cookies([app('/'), app('/auth/refresh')]);
    ledger.remember(cookies);
    // Every cookie of the module (access, refresh, transaction), whenever it exists, is HttpOnly.
    for (const cookie of cookies.filter((c) => MODULE_COOKIE.test(c.name))) {
      expect({ name: cookie.name, httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({ name: cookie.name, httpOnly: true, sameSite: 'Lax' });
    }
    return cookies;
  }

  /** Fetches `/auth/me` from the page itself, with the browser's cookies. */
  async function meFromPage(): Promise<{ status: number; body: Me }> {
    return (await page.evaluate(
      "fetch('/auth/me', { credentials: 'same-origin' }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }))",
    )) as { status: number; body: Me };
  }

  /** Clicks a provider button on the app, lands on the fake's consent page, and answers it. */
  async function throughConsent(button: Locator, provider: 'Google' | 'GitHub', decision: 'Allow' | 'Deny', shot: string): Promise<void> {
    await button.click();
    await page.waitForURL((u) => u.origin !== appOrigin());
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toBeTruthy();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(`with Fake ${provider}`);
    await authCookies(); // the transaction cookie, so the URL check can look for it too
    await shoot(shot);
    await page.getByRole('button', { name: decision, exact: true }).click();
    await page.waitForURL((u) => u.origin === appOrigin() && u.pathname === '/');
    await page.waitForLoadState('load');
  }

  /** Signed in: access and refresh cookies present (HttpOnly, checked by authCookies), both host-only at Path=/. */
  async function expectHttpOnlySession(): Promise<Cookie[]> {
    const cookies = await authCookies();
    const names = cookies.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([ACCESS_COOKIE, REFRESH_COOKIE]));
    const refresh = cookies.find((c) => c.name === REFRESH_COOKIE)!;
    expect({ path: refresh.path, domain: refresh.domain }).toEqual({ path: '/', domain: new URL(demo!.url).hostname });
    return cookies;
  }

  /** Nothing a script can read holds a credential: Web Storage, document.cookie, the DOM. */
  async function expectNothingScriptVisible(): Promise<void> {
    const state = await scriptVisibleState(page);
    const cookies = await authCookies();
    const secrets = cookies.map((c) => c.value).filter((v) => v.length >= 16);
    const stored = [...state.local, ...state.session].flat().join('\n');
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no JWT
    for (const secret of secrets) expect(stored).not.toContain(secret);
    expect(state.cookie).not.toContain(ACCESS_COOKIE);
    expect(state.cookie).not.toContain(REFRESH_COOKIE);
    const html = await page.content();
    for (const secret of secrets) expect(html).not.toContain(secret);
  }

  async function signOut(): Promise<void> {
    // The button posts /auth/logout, then reloads the page.
    await Promise.all([page.waitForEvent('load'), control(page, /sign out/i).click()]);
    await control(page, /sign in with google/i).waitFor({ state: 'visible' });
  }

  step('shows a signed-out visitor an accessible sign-in page', async () => {
    const response = await page.goto(app('/'));
    expect(response?.status()).toBe(200);
    await control(page, /sign in with google/i).waitFor({ state: 'visible' });
    await control(page, /sign in with github/i).waitFor({ state: 'visible' });

    const audit = await auditPage(page);
    expect(audit.problems).toEqual([]);
    expect(audit.controls.map((c) => c.name)).toEqual(expect.arrayContaining([expect.stringMatching(/sign in with google/i)]));

    const focus = await tabToFirstControl(page);
    expect(focus).not.toBeNull();
    expect(focus!.focusVisible).toBe(true);
    expect(focus!.outline || focus!.boxShadow).not.toBe('');
    await shoot('01-signed-out-keyboard-focus');

    const cookies = await authCookies();
    expect(cookies.map((c) => c.name)).not.toContain(ACCESS_COOKIE);
  });

  step('signs in with GitHub on the consent page and lands back on / with the name shown', async () => {
    await throughConsent(control(page, /sign in with github/i), 'GitHub', 'Allow', '02-github-consent');
    await page.getByText('Octo Cat').first().waitFor({ state: 'visible' });
    await control(page, /sign out/i).waitFor({ state: 'visible' });
    await shoot('03-signed-in-with-github');

    await expectHttpOnlySession();
    await expectNothingScriptVisible();
    const me = await meFromPage();
    expect(me.status).toBe(200);
    expect(me.body.identities.map((i) => i.provider)).toEqual(['github']);
    accountId = me.body.id;

    const audit = await auditPage(page);
    expect(audit.problems).toEqual([]);
  });

  step('connects Google to that account from the page', async () => {
    await throughConsent(control(page, /(connect|link).*google/i), 'Google', 'Allow', '04-google-consent-to-connect');
    await page.getByText('Octo Cat').first().waitFor({ state: 'visible' });
    const me = await meFromPage();
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(accountId);
    expect(me.body.identities.map((i) => i.provider).sort()).toEqual(['github', 'google']);
    await expect(control(page, /(connect|link).*google/i).isVisible()).resolves.toBe(false);
    await shoot('05-google-connected');
    await expectHttpOnlySession();
    await expectNothingScriptVisible();
  });

  step('opens /me in the same browser: JSON of the current user', async () => {
    const response = (await page.goto(app('/me'))) as Response;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toMatch(/application\/json/);
    const body = (await response.json()) as { id: string };
    expect(body.id).toBe(accountId);
    await shoot('06-me-json');
    await page.goto(app('/'));
    await control(page, /sign out/i).waitFor({ state: 'visible' });
  });

  step('signs out: the cookies are gone, /me answers 401 and the refresh token is dead', async () => {
    const refreshToken = (await authCookies()).find((c) => c.name === REFRESH_COOKIE)!.value;
    await signOut();
    const names = (await authCookies()).map((c) => c.name);
    expect(names).not.toContain(ACCESS_COOKIE);
    expect(names).not.toContain(REFRESH_COOKIE);
    await shoot('07-signed-out');
    const response = (await page.goto(app('/me'))) as Response;
    expect(response.status()).toBe(401);
    // Sign-out revoked the session on the server, not only the cookies in this browser.
    const replay = await fetch(app('/auth/refresh'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: demo!.url },
      body: JSON.stringify({ refreshToken }),
    });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toMatch(/^refresh_token_(invalid|reused)$/);
    await page.goto(app('/'));
  });

  step('signs in with Google into the same account (the connected identity)', async () => {
    await throughConsent(control(page, /sign in with google/i), 'Google', 'Allow', '08-google-consent');
    await page.getByText('Octo Cat').first().waitFor({ state: 'visible' });
    await shoot('09-signed-in-with-google');
    const me = await meFromPage();
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(accountId);
    await expectHttpOnlySession();
    await expectNothingScriptVisible();
    const response = (await page.goto(app('/me'))) as Response;
    expect(response.status()).toBe(200);
    await page.goto(app('/'));
    await signOut();
  });

  step('shows a denied consent as an error in words, in an alert region, and stays signed out', async () => {
    await throughConsent(control(page, /sign in with google/i), 'Google', 'Deny', '10-google-consent-deny');
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
    const alert = page.getByRole('alert').first();
    await alert.waitFor({ state: 'visible' });
    const words = (await alert.innerText()).trim();
    expect(words.split(/\s+/).length).toBeGreaterThanOrEqual(3);
    expect(words).not.toBe('access_denied');
    await shoot('11-consent-denied-error');
    const names = (await authCookies()).map((c) => c.name);
    expect(names).not.toContain(ACCESS_COOKIE);
    expect(names).not.toContain(REFRESH_COOKIE);
    const audit = await auditPage(page);
    expect(audit.problems).toEqual([]);
  });

  step('never put a token, code or state in an app URL the user could see or share', () => {
    const origin = appOrigin();
    const committed = urls.navigations.filter((u) => u.startsWith(origin));
    expect(committed.length).toBeGreaterThan(5);
    // The callback carries code and state, so it must be a redirect hop, never a history entry.
    expect(committed.filter((u) => /\/auth\/[^/]+\/callback/.test(u))).toEqual([]);
    expect(urls.requests.filter((u) => /\/auth\/(google|github)\/callback\?/.test(u)).length).toBeGreaterThanOrEqual(4);
    expect(secretsOnAppUrls(origin, urls.navigations, { allowCallback: false })).toEqual([]);
    expect(secretsOnAppUrls(origin, urls.requests, { allowCallback: true })).toEqual([]);
    // No cookie value (access, refresh, transaction) ever travelled in a URL, to any host.
    expect(ledger.size).toBeGreaterThanOrEqual(2);
    expect(ledger.leaksIn([...urls.navigations, ...urls.requests])).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  // Issue 14 finding 4: /docs is never framed yet Swagger UI still renders under its CSP.
  step('renders the API docs (Swagger UI) under their CSP, with no CSP violation', async () => {
    const violations: string[] = [];
    const onConsole = (message: { text(): string }) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    };
    page.on('console', onConsole);
    try {
      const response = await page.goto(app('/docs'));
      expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response?.headers()['x-frame-options']).toBe('DENY');
      await page.locator('.swagger-ui .info .title').first().waitFor();
      expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(5);
      expect(violations).toEqual([]);
    } finally {
      page.off('console', onConsole);
    }
  });

  step('left a non-empty PNG for every step', () => {
    expect(shots).toHaveLength(11);
  });
});
