import { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { DataSource } from 'typeorm';
import { OAuthDriver } from '../../support/oauth-driver';
import { createTestApp, TestApp, TestAppSetup } from '../../support/test-app';
import type { LogCapture } from './log-capture';

/** The demo app wired to fresh fake Google and GitHub providers. */
export interface SignInApp {
  t: TestApp;
  google: FakeGoogle;
  github: FakeGitHub;
  /** A new browser (empty cookie jar); `prefix` is where it finds the auth routes (default `/auth`). */
  browser(options?: { prefix?: string }): OAuthDriver;
  /** Row counts of the tables a sign-in writes. */
  rows(): Promise<RowCounts>;
  /**
   * Fresh fake scenarios, users and logs (keys and app state are kept). Harvests the secrets of
   * the finished test first (see {@link SignInApp.secrets}).
   */
  reset(): void;
  /**
   * Every secret value seen so far in this file: authorization codes, states, PKCE verifiers,
   * nonces, provider access tokens, client secrets, the app's tokens and transaction cookies.
   */
  secrets(): Set<string>;
  close(): Promise<void>;
}

export interface RowCounts {
  users: number;
  identities: number;
  sessions: number;
}

/** These files run hundreds of flows from one address; the throttling suite tests the limits. */
const GENEROUS_RATE_LIMITS = { AUTH_RATE_LIMIT_START: '100000', AUTH_RATE_LIMIT_CALLBACK: '100000', AUTH_RATE_LIMIT_REFRESH: '100000' };

/**
 * The environment that points the demo at the fakes: their `providerOptions()` as demo variables,
 * so the issuers are the fakes' port-independent ones and discovery is read where the fake serves it.
 */
export function fakeProviderEnv(google: FakeGoogle, github: FakeGitHub): Record<string, string> {
  const g = google.providerOptions();
  const h = github.providerOptions();
  return {
    GOOGLE_CLIENT_ID: g.clientId,
    GOOGLE_CLIENT_SECRET: g.clientSecret,
    GOOGLE_ISSUER: g.issuer,
    GOOGLE_AUTHORIZATION_URL: g.authorizationURL,
    GOOGLE_TOKEN_URL: g.tokenURL,
    GOOGLE_USERINFO_URL: g.userInfoURL,
    GOOGLE_JWKS_URL: g.jwksURL,
    GOOGLE_DISCOVERY_URL: g.discoveryURL,
    GITHUB_CLIENT_ID: h.clientId,
    GITHUB_CLIENT_SECRET: h.clientSecret,
    GITHUB_AUTHORIZATION_URL: h.authorizationURL,
    GITHUB_TOKEN_URL: h.tokenURL,
    GITHUB_API_URL: h.apiURL,
    GITHUB_ISSUER: h.issuer,
  };
}

/** Starts both fakes and the demo app pointed at them. One per test file; `reset()` between tests. */
export async function startSignInApp(env: Record<string, string> = {}, setup: TestAppSetup = {}): Promise<SignInApp> {
  const google = await FakeGoogle.start();
  const github = await FakeGitHub.start();
  let t: TestApp;
  try {
    t = await createTestApp({ ...fakeProviderEnv(google, github), ...GENEROUS_RATE_LIMITS, ...env }, setup);
  } catch (error) {
    await Promise.all([google.stop(), github.stop()]);
    throw error;
  }
  const browsers: OAuthDriver[] = [];
  const seen = new Set<string>([google.clientSecret, github.clientSecret]);
  const harvest = () => {
    for (const fake of [google, github]) {
      for (const r of fake.requests) {
        const auth = r.headers.authorization;
        if (typeof auth === 'string') seen.add(auth.replace(/^\S+\s+/, ''));
        if (r.body && typeof r.body === 'object') {
          for (const key of ['code', 'code_verifier', 'client_secret', 'refresh_token']) {
            const value = (r.body as Record<string, unknown>)[key];
            if (typeof value === 'string') seen.add(value);
          }
        }
      }
      for (const a of fake.authorizations) for (const v of [a.state, a.nonce]) if (v) seen.add(v);
    }
    for (const b of browsers) {
      for (const { url, hop } of b.history) {
        const q = new URL(url).searchParams;
        for (const key of ['code', 'state']) {
          const v = q.get(key);
          if (v) seen.add(v);
        }
        for (const c of hop.setCookies) {
          const value = c.slice(c.indexOf('=') + 1).split(';')[0];
          if (value) seen.add(value);
        }
      }
    }
  };
  return {
    t,
    google,
    github,
    browser: (options = {}) => {
      const b = new OAuthDriver(t.url, options);
      browsers.push(b);
      return b;
    },
    rows: () => countRows(t.dataSource),
    reset: () => {
      harvest();
      google.reset();
      github.reset();
    },
    secrets: () => {
      harvest();
      return new Set([...seen].filter((s) => s.length >= 8));
    },
    close: async () => {
      await t.close();
      await Promise.all([google.stop(), github.stop()]);
    },
  };
}

/**
 * The lifecycle every sign-in test file shares: the app starts once (beforeAll), mocks are
 * restored and the fakes reset after each test, and it closes after all; with `logs`, the file's
 * log lines are captured from start to close. Returns a getter for the running app: read it inside
 * tests and hooks, not while `describe` runs.
 */
export function useSignInApp(options: { env?: Record<string, string>; logs?: LogCapture; setup?: TestAppSetup } = {}): () => SignInApp {
  let app: SignInApp | undefined;
  beforeAll(async () => {
    options.logs?.start();
    app = await startSignInApp(options.env, options.setup);
    options.logs?.verboseNestLogger();
  });
  afterEach(() => {
    jest.restoreAllMocks();
    app?.reset();
  });
  afterAll(async () => {
    await app?.close();
    options.logs?.stop();
  });
  return () => {
    if (!app) throw new Error('the sign-in app has not started: read it inside a test or a hook');
    return app;
  };
}

export async function countRows(dataSource: DataSource): Promise<RowCounts> {
  const count = async (table: string) => Number((await dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  return { users: await count('auth_users'), identities: await count('auth_identities'), sessions: await count('auth_sessions') };
}
