import { AUTH_OPTIONS, ExternalIdentity, ResolvedAuthOptions, SessionService, UserAccount, VerifiedIdentity } from '@nest-social-auth/core';
import { FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { randomUUID } from 'node:crypto';
import { createTestApp, TestApp } from '../../support/test-app';

/** The demo on a fresh database, with Google and GitHub configured against the testing kit's fakes. */
export interface AccountsApp extends TestApp {
  google: FakeGoogle;
  github: FakeGitHub;
  /** The options the module runs with (the same object its services read). */
  options: ResolvedAuthOptions;
  /** Stops the app and the fakes. */
  close(): Promise<void>;
}

/**
 * Boots the demo with both providers pointing at in-process fakes, so the configuration is the one
 * a real sign-in uses (issuers, trustEmail defaults) whether a test drives the OAuth flow or calls
 * the linking service directly.
 */
export async function startAccountsApp(env: Record<string, string | undefined> = {}): Promise<AccountsApp> {
  const google = await FakeGoogle.start();
  const github = await FakeGitHub.start();
  try {
    const t = await createTestApp({
      GOOGLE_CLIENT_ID: 'fake-google-client',
      GOOGLE_CLIENT_SECRET: 'fake-google-secret',
      GOOGLE_ISSUER: google.issuer,
      GOOGLE_AUTHORIZATION_URL: google.endpoints.authorization,
      GOOGLE_TOKEN_URL: google.endpoints.token,
      GOOGLE_USERINFO_URL: google.endpoints.userinfo,
      GOOGLE_JWKS_URL: google.endpoints.jwks,
      // The fake's issuer is not where it listens: discovery is read from the fake itself.
      GOOGLE_DISCOVERY_URL: google.endpoints.discovery,
      GITHUB_CLIENT_ID: 'fake-github-client',
      GITHUB_CLIENT_SECRET: 'fake-github-secret',
      GITHUB_AUTHORIZATION_URL: github.endpoints.authorization,
      GITHUB_TOKEN_URL: github.endpoints.token,
      GITHUB_API_URL: github.endpoints.api,
      ...env,
    });
    const close = t.close;
    return Object.assign(t, {
      google,
      github,
      options: t.app.get<ResolvedAuthOptions>(AUTH_OPTIONS),
      close: async () => {
        await close();
        await Promise.all([google.stop(), github.stop()]);
      },
    });
  } catch (error) {
    await Promise.all([google.stop(), github.stop()]);
    throw error;
  }
}

/** The linking knobs a test may turn. */
export interface PolicyKnobs {
  allowSignUp?: boolean;
  requireVerifiedEmail?: boolean;
  audit?: boolean;
  trustGoogleEmail?: boolean;
  trustGithubEmail?: boolean;
}

/**
 * Sets the linking options for the next calls (the demo has no environment variables for them).
 * The module reads its resolved options on every call, so this is the configuration a host would
 * pass to `AuthModule.forRoot({ linking, providers: { google: { trustEmail } } })`. Unset knobs go
 * back to the module's defaults.
 */
export function setPolicy(t: AccountsApp, knobs: PolicyKnobs = {}): void {
  t.options.linking.allowSignUp = knobs.allowSignUp ?? true;
  t.options.linking.requireVerifiedEmail = knobs.requireVerifiedEmail ?? false;
  t.options.linking.audit = knobs.audit ?? false;
  t.options.providers.google!.trustEmail = knobs.trustGoogleEmail ?? false;
  t.options.providers.github!.trustEmail = knobs.trustGithubEmail ?? false;
}

let counter = 0;

/** A fresh numeric-looking subject, unique within the run. */
export function freshSubject(): string {
  counter += 1;
  return `${Date.now()}${String(counter).padStart(4, '0')}`;
}

/**
 * A Google identity as the Google strategy builds it after ID-token validation: `sub`, the
 * configured issuer, and `emailVerified` true only for a boolean `true` claim.
 */
export function googleIdentity(t: AccountsApp, over: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  const subject = over.subject ?? freshSubject();
  return {
    provider: 'google',
    issuer: t.options.providers.google!.issuer,
    subject,
    email: `g-${subject}@example.com`,
    emailVerified: true,
    displayName: 'Some One',
    avatarUrl: 'https://example.com/a.png',
    ...over,
  };
}

/**
 * A GitHub identity as the GitHub strategy builds it: the numeric id as subject, the API base as
 * issuer, and the primary address verified only when GitHub marks it `primary && verified`.
 */
export function githubIdentity(t: AccountsApp, over: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  const subject = over.subject ?? freshSubject();
  return {
    provider: 'github',
    issuer: t.options.providers.github!.apiURL,
    subject,
    email: `gh-${subject}@example.com`,
    emailVerified: true,
    displayName: 'octo',
    avatarUrl: null,
    ...over,
  };
}

/**
 * A local account that did not come from a provider: what a host's own sign-up (a password form)
 * leaves in the default user table. `emailVerified` false is the pre-account-takeover setup (C2).
 * The canonical email is stored only for a verified address, as the module's store does.
 */
export async function localAccount(t: AccountsApp, email: string, options: { emailVerified: boolean; disabled?: boolean; canonical?: string | null }): Promise<string> {
  const id = randomUUID();
  await t.dataSource.getRepository(UserAccount).insert({
    id,
    email,
    emailCanonical: options.emailVerified ? (options.canonical ?? email.trim().toLowerCase()) : null,
    emailVerified: options.emailVerified,
    displayName: 'Local Account',
    avatarUrl: null,
    disabled: options.disabled ?? false,
  });
  return id;
}

/** Rows of both tables, for "nothing was written" / "exactly one" assertions. */
export async function counts(t: TestApp): Promise<{ users: number; identities: number }> {
  return { users: await t.dataSource.getRepository(UserAccount).count(), identities: await t.dataSource.getRepository(ExternalIdentity).count() };
}

/** The identities linked to `userId`. */
export function identitiesOf(t: TestApp, userId: string): Promise<ExternalIdentity[]> {
  return t.dataSource.getRepository(ExternalIdentity).find({ where: { userId }, order: { linkedAt: 'ASC' } });
}

/** A bearer token of a fresh session of `userId` (what the callback does after linking). */
export async function bearer(t: TestApp, userId: string): Promise<string> {
  const tokens = await t.app.get(SessionService).open(userId, { provider: 'google', userAgent: 'jest', ip: '127.0.0.1' });
  return `Bearer ${tokens.accessToken}`;
}
