import type { FakeGitHubUser, FakeGoogleUser } from './fake-idp.types';

/**
 * A named fixture: call it for a fresh copy, optionally with fields replaced.
 * @example googleUsers.bob({ email: 'victim@example.com' })
 * @publicApi
 */
export type FakeUserFactory<T> = (overrides?: Partial<T>) => T;

function factory<T>(base: T): FakeUserFactory<T> {
  const frozen = Object.freeze(structuredClone(base));
  return (overrides) => ({ ...structuredClone(frozen), ...structuredClone(overrides ?? {}) }) as T;
}

/**
 * Scripted Google accounts. Each is a factory returning a fresh copy.
 *
 * | name | what it exercises |
 * |---|---|
 * | `alice` | verified `alice@example.com` (the default signed-in user) |
 * | `bob` | `email_verified: false` |
 * | `carol` | `email_verified: "false"` as a **string** (a real Google quirk) |
 * | `dana` | Workspace account, `hd: "example.org"` |
 * | `noEmail` | no `email` / `email_verified` claims at all |
 * | `sub123` | `sub: "123"` (collides with GitHub's `githubUsers.id123` numerically) |
 *
 * @example google.signInAs(googleUsers.carol())
 * @publicApi
 */
export const googleUsers = Object.freeze({
  alice: factory<FakeGoogleUser>({
    sub: '100000000000000000001',
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    picture: 'https://example.com/avatars/alice.png',
  }),
  bob: factory<FakeGoogleUser>({
    sub: '100000000000000000002',
    email: 'bob@example.com',
    email_verified: false,
    name: 'Bob Example',
    given_name: 'Bob',
    family_name: 'Example',
    picture: 'https://example.com/avatars/bob.png',
  }),
  carol: factory<FakeGoogleUser>({
    sub: '100000000000000000003',
    email: 'carol@example.com',
    email_verified: 'false',
    name: 'Carol Example',
    given_name: 'Carol',
    family_name: 'Example',
  }),
  dana: factory<FakeGoogleUser>({
    sub: '100000000000000000004',
    email: 'dana@example.org',
    email_verified: true,
    name: 'Dana Example',
    given_name: 'Dana',
    family_name: 'Example',
    hd: 'example.org',
  }),
  noEmail: factory<FakeGoogleUser>({
    sub: '100000000000000000005',
    name: 'No Email',
    given_name: 'No',
  }),
  sub123: factory<FakeGoogleUser>({
    sub: '123',
    email: 'sub123@example.com',
    email_verified: true,
    name: 'Subject OneTwoThree',
    given_name: 'Subject',
  }),
});

/**
 * Scripted GitHub accounts. Each is a factory returning a fresh copy (emails deep-copied).
 *
 * | name | what it exercises |
 * |---|---|
 * | `octo` | id 1001; primary + verified `octo@example.com` (the default signed-in user), plus an unverified secondary |
 * | `unverifiedPrimary` | primary address **not verified**, and the public `/user` email equal to it |
 * | `noEmail` | `/user` email null and an empty `/user/emails` list |
 * | `id123` | id 123 (collides with Google's `googleUsers.sub123` numerically) |
 *
 * @example github.signInAs(githubUsers.octo({ login: 'renamed' }))
 * @publicApi
 */
export const githubUsers = Object.freeze({
  octo: factory<FakeGitHubUser>({
    id: 1001,
    login: 'octo',
    name: 'Octo Cat',
    email: 'octo@example.com',
    emails: [
      { email: 'octo@example.com', primary: true, verified: true, visibility: 'public' },
      { email: 'octo@example.org', primary: false, verified: false, visibility: null },
    ],
  }),
  unverifiedPrimary: factory<FakeGitHubUser>({
    id: 1002,
    login: 'unverified-primary',
    name: 'Unverified Primary',
    email: 'unverified@example.com',
    emails: [{ email: 'unverified@example.com', primary: true, verified: false, visibility: 'public' }],
  }),
  noEmail: factory<FakeGitHubUser>({
    id: 1003,
    login: 'no-email',
    name: null,
    email: null,
    emails: [],
  }),
  id123: factory<FakeGitHubUser>({
    id: 123,
    login: 'id123',
    name: 'Id OneTwoThree',
    email: null,
    emails: [{ email: 'id123@example.com', primary: true, verified: true, visibility: 'private' }],
  }),
});
