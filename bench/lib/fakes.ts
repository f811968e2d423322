import { FakeGitHub, FakeGoogle, githubUsers, googleUsers } from '@nest-social-auth/testing';
import type { BenchServerConfig } from '../baselines/bench-config';

/** The issuer the fake Google signs ID tokens as (and the seeded identities carry). */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface Fakes {
  google: FakeGoogle;
  github: FakeGitHub;
  /** The `providers` part of the bench server's config, pointing at the fakes. */
  providers: Pick<BenchServerConfig, 'google' | 'github'>;
  /** Forgets request logs and redeemed codes so long runs stay flat in memory. */
  trim(): void;
  stop(): Promise<void>;
}

interface AuthorizationHook {
  answerAuthorization(ctx: unknown, authorization: { params: Record<string, string | string[]> }): Promise<void>;
}

/**
 * Starts the testing kit's fake Google and GitHub in this (load-generator) process. Each
 * authorization request may carry `login_hint=<key>`: the fake then approves it as the account
 * `<key>` (Google `sub` = key, GitHub `id` = the key's number), so concurrent sign-ins can be
 * different users without racing on `signInAs`.
 */
export async function startFakes(): Promise<Fakes> {
  const google = await FakeGoogle.start({ issuer: GOOGLE_ISSUER });
  const github = await FakeGitHub.start();
  perRequestUser(google, (key) => googleUsers.alice({ sub: key, email: `${key}@example.com`, email_verified: true, name: key, given_name: key, picture: undefined }));
  perRequestUser(github, (key) => {
    const id = Number(/\d+/.exec(key)?.[0] ?? '1') + 1_000_000;
    const email = `${key}@github.example.com`;
    return githubUsers.octo({ id, login: key, name: key, email, emails: [{ email, primary: true, verified: true, visibility: 'public' }] });
  });
  return {
    google,
    github,
    providers: {
      google: {
        clientId: 'fake-google-client',
        clientSecret: 'fake-google-secret',
        issuer: GOOGLE_ISSUER,
        authorizationURL: google.endpoints.authorization,
        tokenURL: google.endpoints.token,
        userInfoURL: google.endpoints.userinfo,
        jwksURL: google.endpoints.jwks,
        discoveryURL: google.endpoints.discovery,
      },
      github: {
        clientId: 'fake-github-client',
        clientSecret: 'fake-github-secret',
        authorizationURL: github.endpoints.authorization,
        tokenURL: github.endpoints.token,
        apiURL: github.endpoints.api,
      },
    },
    trim() {
      for (const fake of [google, github]) {
        fake.requests.length = 0;
        fake.authorizations.length = 0;
        const internals = fake as unknown as { codes: Map<string, { used: boolean }> };
        for (const [code, grant] of internals.codes) if (grant.used) internals.codes.delete(code);
      }
    },
    async stop() {
      await google.stop();
      await github.stop();
    },
  };
}

function perRequestUser<TUser>(fake: { signInAs(user: TUser): unknown }, userFor: (key: string) => TUser): void {
  const hook = fake as unknown as AuthorizationHook;
  const original = hook.answerAuthorization.bind(fake);
  // answerAuthorization copies the signed-in user synchronously, before its first await, so
  // setting it just before the call is race-free under concurrency.
  hook.answerAuthorization = (ctx, authorization) => {
    const hint = authorization.params.login_hint;
    if (typeof hint === 'string') fake.signInAs(userFor(hint));
    return original(ctx, authorization);
  };
}
