import { httpRequest, setCookies } from './http';

const get = (url: string, headers: Record<string, string> = {}) => httpRequest(url, { headers });
const cookiesOf = setCookies;

export interface SignInTiming {
  /** Whole sign-in: start, the provider's authorize step, callback (ms). */
  totalMs: number;
  /** The callback request alone: code exchange, identity checks, linking, session (ms). */
  callbackMs: number;
}

/** Why a sign-in did not end with an access cookie; never includes cookie or token values. */
export class SignInFailed extends Error {}

/**
 * One complete browser sign-in against the app, with the fake provider approving `userKey`
 * (see lib/fakes.ts): GET /auth/:provider → provider authorize (302 with a code) → callback.
 * Success means the callback redirected with the access and refresh cookies set.
 */
export async function signIn(appUrl: string, provider: 'google' | 'github', userKey: string): Promise<SignInTiming> {
  const started = process.hrtime.bigint();
  const start = await get(`${appUrl}/auth/${provider}?returnTo=/`);
  if (start.status !== 302 || !start.headers.location) throw new SignInFailed(`start answered ${start.status}`);
  const jar = cookiesOf(start.headers);
  const authorizeUrl = new URL(start.headers.location);
  authorizeUrl.searchParams.set('login_hint', userKey);
  const authorize = await get(authorizeUrl.toString());
  if (authorize.status !== 302 || !authorize.headers.location) throw new SignInFailed(`provider authorize answered ${authorize.status}`);
  const callbackUrl = new URL(authorize.headers.location, appUrl).toString();
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const callbackStarted = process.hrtime.bigint();
  const callback = await get(callbackUrl, cookie ? { cookie } : {});
  const ended = process.hrtime.bigint();
  const set = cookiesOf(callback.headers);
  const location = callback.headers.location ?? '';
  if (callback.status !== 302 || /[?&]error=/.test(location)) {
    throw new SignInFailed(`callback answered ${callback.status}${/[?&]error=([a-z_]+)/.exec(location)?.[1] ? ` error=${/[?&]error=([a-z_]+)/.exec(location)![1]}` : ''}`);
  }
  const names = [...set.keys()];
  if (!names.some((n) => n.endsWith('_at')) || !names.some((n) => n.endsWith('_rt'))) throw new SignInFailed('callback set no access/refresh cookie');
  return { totalMs: Number(ended - started) / 1e6, callbackMs: Number(ended - callbackStarted) / 1e6 };
}
