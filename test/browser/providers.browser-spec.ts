/*
 * A real browser signs in with the sandbox's fake Microsoft and fake Apple. The demo runs as
 * `npm start` does (its own process, APP_URL http://localhost:<port>), the fakes listen on
 * 127.0.0.1: another site for Chromium, so Apple's form_post is a real cross-site POST, sent
 * without the SameSite=Lax transaction cookie, and the same-origin relay page's re-post with it.
 */
import { mkdirSync } from 'node:fs';
import type { Locator, Page, Request } from 'playwright-core';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { browserSuiteEnabled, FreshBrowser, launchFreshChromium } from './support/chromium';
import { DemoProcess, startDemo } from './support/demo-process';
import { ARTIFACTS_DIR, screenshot } from './support/screenshots';
import { startDemoAndBrowser } from './support/scenario';

const describeBrowser = browserSuiteEnabled() ? describe : describe.skip;
jest.setTimeout(45_000);

const TRANSACTION_COOKIE = /(^|;\s*)(__Host-|__Secure-)?sa_tx=/;

describeBrowser('a real browser signs in with Microsoft and Apple (sandbox)', () => {
  let database: TestDatabase | undefined;
  let demo: DemoProcess | undefined;
  let browser: FreshBrowser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  /** POSTs to Apple's callback, in order: whether the transaction cookie went with each. */
  const applePosts: Array<Promise<{ origin: string | undefined; withTransactionCookie: boolean }>> = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const boot = async () => {
      database = await createTestDatabase();
      return startDemo({ databaseUrl: database.url, timeoutMs: 75_000 });
    };
    ({ demo, browser } = await startDemoAndBrowser(boot, () => launchFreshChromium()));
    browser!.context.setDefaultTimeout(20_000);
    page = browser!.context.pages()[0] ?? (await browser!.context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('request', (request: Request) => {
      if (request.method() !== 'POST' || !request.url().endsWith('/auth/apple/callback')) return;
      applePosts.push(request.allHeaders().then((headers) => ({ origin: headers.origin, withTransactionCookie: TRANSACTION_COOKIE.test(headers.cookie ?? '') })));
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await database?.drop();
  }, 20_000);

  const app = (path = '/') => `${demo!.url}${path}`;
  const appOrigin = () => new URL(demo!.url).origin;
  const control = (name: RegExp): Locator => page.getByRole('button', { name }).or(page.getByRole('link', { name })).first();

  async function me(): Promise<{ status: number; body: { displayName?: string; identities: { provider: string }[] } }> {
    return (await page.evaluate("fetch('/auth/me').then(async (r) => ({ status: r.status, body: await r.json() }))")) as never;
  }

  async function signOut(): Promise<void> {
    await Promise.all([page.waitForEvent('load'), control(/sign out/i).click()]);
    await control(/sign in with microsoft/i).waitFor({ state: 'visible' });
  }

  it('offers both buttons, and signs in with Microsoft through its consent page', async () => {
    await page.goto(app('/'));
    await control(/sign in with apple/i).waitFor({ state: 'visible' });
    await control(/sign in with microsoft/i).click();
    await page.waitForURL((u) => u.origin !== appOrigin());
    expect(new URL(page.url()).pathname).toBe('/common/oauth2/v2.0/authorize');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.waitForURL((u) => u.origin === appOrigin() && u.pathname === '/');
    await page.getByText('Adele Vance').first().waitFor({ state: 'visible' });
    await screenshot(page, 'providers-01-signed-in-with-microsoft');
    const current = await me();
    expect(current.status).toBe(200);
    expect(current.body.identities.map((i) => i.provider)).toEqual(['microsoft']);
    await signOut();
  });

  it('signs in with Apple: the cross-site form post is relayed by a same-origin page that carries the cookie', async () => {
    await control(/sign in with apple/i).click();
    await page.waitForURL((u) => u.origin !== appOrigin());
    expect(new URL(page.url()).searchParams.get('response_mode')).toBe('form_post');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    // Fake Apple's page posts to the app; the relay page posts again; the app redirects to /.
    await page.waitForURL((u) => u.origin === appOrigin() && u.pathname === '/');
    await page.getByText('Jane Appleseed').first().waitFor({ state: 'visible' });
    await screenshot(page, 'providers-02-signed-in-with-apple');
    const current = await me();
    expect(current.status).toBe(200);
    expect(current.body.identities.map((i) => i.provider)).toEqual(['apple']);
    expect(current.body.displayName).toBe('Jane Appleseed');
    // Apple's POST came from another site without the Lax cookie; the relay's re-post had it.
    expect(await Promise.all(applePosts)).toEqual([
      { origin: expect.not.stringMatching(new RegExp(`^${appOrigin()}$`)), withTransactionCookie: false },
      { origin: expect.any(String), withTransactionCookie: true },
    ]);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
