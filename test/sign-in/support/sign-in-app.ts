import { FakeGitHub, FakeGoogle } from '@app/social-auth-testing';
import { DataSource } from 'typeorm';
import { OAuthDriver } from '../../support/oauth-driver';
import { createTestApp, TestApp } from '../../support/test-app';

/** The demo app wired to fresh fake Google and GitHub providers. */
export interface SignInApp {
  t: TestApp;
  google: FakeGoogle;
  github: FakeGitHub;
  /** A new browser (empty cookie jar). */
  browser(): OAuthDriver;
  /** Row counts of the tables a sign-in writes. */
  rows(): Promise<RowCounts>;
  /** Fresh fake scenarios, users and logs (keys and app state are kept). */
  reset(): void;
  close(): Promise<void>;
}

export interface RowCounts {
  users: number;
  identities: number;
  sessions: number;
}

/** The environment that points the demo at the fakes. */
export function fakeProviderEnv(google: FakeGoogle, github: FakeGitHub): Record<string, string> {
  return {
    GOOGLE_CLIENT_ID: google.clientId,
    GOOGLE_CLIENT_SECRET: google.clientSecret,
    GOOGLE_ISSUER: google.issuer,
    GOOGLE_AUTHORIZATION_URL: google.endpoints.authorization,
    GOOGLE_TOKEN_URL: google.endpoints.token,
    GOOGLE_USERINFO_URL: google.endpoints.userinfo,
    GOOGLE_JWKS_URL: google.endpoints.jwks,
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_AUTHORIZATION_URL: github.endpoints.authorization,
    GITHUB_TOKEN_URL: github.endpoints.token,
    GITHUB_API_URL: github.endpoints.api,
  };
}

/** Starts both fakes and the demo app pointed at them. One per test file; `reset()` between tests. */
export async function startSignInApp(env: Record<string, string> = {}): Promise<SignInApp> {
  const google = await FakeGoogle.start();
  const github = await FakeGitHub.start();
  let t: TestApp;
  try {
    t = await createTestApp({ ...fakeProviderEnv(google, github), ...env });
  } catch (error) {
    await Promise.all([google.stop(), github.stop()]);
    throw error;
  }
  return {
    t,
    google,
    github,
    browser: () => new OAuthDriver(t.url),
    rows: () => countRows(t.dataSource),
    reset: () => {
      google.reset();
      github.reset();
    },
    close: async () => {
      await t.close();
      await Promise.all([google.stop(), github.stop()]);
    },
  };
}

export async function countRows(dataSource: DataSource): Promise<RowCounts> {
  const count = async (table: string) => Number((await dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  return { users: await count('auth_users'), identities: await count('auth_identities'), sessions: await count('auth_sessions') };
}
