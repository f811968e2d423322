import { randomUUID } from 'node:crypto';
import { AuthCookies, Clock, IssuedTokens, SessionService, UserAccount } from '@nest-social-auth/core';
import type { SessionsApp } from './sessions-app';

/** What the fixtures need of an app under test (the demo's TestApp or a SessionsApp). */
export type AppUnderTest = Pick<SessionsApp, 'app' | 'dataSource' | 'url' | 'http'>;

/**
 * A signed-in user without the OAuth dance: a row in the default user table, then
 * `SessionService.open()`, exactly what the sign-in callback does after linking (the OAuth flow
 * itself is tested by the sign-in suites).
 */
export async function signIn(t: AppUnderTest, options: { disabled?: boolean; userId?: string } = {}): Promise<{ userId: string; tokens: IssuedTokens }> {
  const userId = options.userId ?? (await createUser(t, { disabled: options.disabled }));
  const tokens = await t.app.get(SessionService).open(userId, { provider: 'google', userAgent: 'jest', ip: '127.0.0.1' });
  return { userId, tokens };
}

/** Inserts a local user into the module's default `auth_users` table. */
export async function createUser(t: AppUnderTest, options: { disabled?: boolean } = {}): Promise<string> {
  const id = randomUUID();
  await t.dataSource.getRepository(UserAccount).insert({
    id,
    email: `${id.slice(0, 8)}@example.test`,
    emailCanonical: `${id.slice(0, 8)}@example.test`,
    emailVerified: true,
    displayName: 'Test User',
    avatarUrl: null,
    disabled: options.disabled ?? false,
  });
  return id;
}

/** The cookie names of the app under test. */
export function cookieNames(t: AppUnderTest): { access: string; refresh: string; transaction: string; loginBinding: string } {
  return t.app.get(AuthCookies).names;
}

/** A `Cookie` header carrying a session's refresh token. */
export function refreshCookie(t: AppUnderTest, token: string): string {
  return `${cookieNames(t).refresh}=${token}`;
}

/** A `Cookie` header carrying an access token. */
export function accessCookie(t: AppUnderTest, token: string): string {
  return `${cookieNames(t).access}=${token}`;
}

/** The `Set-Cookie` lines of a response. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
}

/** The value a response sets for cookie `name` (undefined when not set). */
export function cookieValue(res: { headers: Record<string, unknown> }, name: string): string | undefined {
  const line = setCookies(res).find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(';')[0];
}

/**
 * Moves the app's clock: every later `Clock.now()` answers real time plus `offsetMs` (cumulative).
 * Returns a function that puts it back.
 */
export function shiftClock(t: AppUnderTest): { advance(ms: number): void; reset(): void } {
  const clock = t.app.get(Clock);
  let offset = 0;
  const spy = jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + offset));
  return {
    advance: (ms: number) => {
      offset += ms;
    },
    reset: () => {
      offset = 0;
      spy.mockRestore();
    },
  };
}
