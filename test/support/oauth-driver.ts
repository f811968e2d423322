import request from 'supertest';

/** One HTTP answer as a test sees it (redirects are never followed). */
export interface Hop {
  status: number;
  /** `Location` header, if any. */
  location?: string;
  /** Raw `Set-Cookie` headers. */
  setCookies: string[];
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * A minimal cookie jar for one browser and one app origin: honours `Path`, `Max-Age=0` and past
 * `Expires`, and lets tests read, plant, alter or drop cookies between hops.
 */
export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  /** Applies `Set-Cookie` headers. */
  store(setCookies: string[] | undefined): void {
    for (const line of setCookies ?? []) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') path = v.trim() || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${name}|${path}`;
      if (expired || value === '') this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path });
    }
  }

  /** The `Cookie` header for a request to `path` (most specific path first, like browsers). */
  header(path: string): string {
    return [...this.cookies.values()]
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** A cookie's value (any path). */
  get(name: string): string | undefined {
    return [...this.cookies.values()].find((c) => c.name === name)?.value;
  }

  /** Plants or replaces a cookie. */
  set(name: string, value: string, path = '/'): void {
    this.cookies.set(`${name}|${path}`, { name, value, path });
  }

  /** Drops a cookie (every path). */
  delete(name: string): void {
    for (const [id, c] of this.cookies) if (c.name === name) this.cookies.delete(id);
  }

  /** Names of the cookies held. */
  names(): string[] {
    return [...new Set([...this.cookies.values()].map((c) => c.name))];
  }

  /** An independent copy (a second tab of the same browser, or an attacker's copy). */
  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [id, c] of this.cookies) copy.cookies.set(id, { ...c });
    return copy;
  }
}

/** Cookie names of the demo app (unprefixed: tests run the app on plain http). */
export const DEMO_COOKIES = { access: 'sa_at', refresh: 'sa_rt', transaction: 'sa_tx', loginBinding: 'sa_lb' } as const;

/** Result of a full sign-in driven by {@link OAuthDriver.signIn}. */
export interface SignInResult {
  /** The app's answer to the start route. */
  start: Hop;
  /** The provider's authorize URL the app redirected to. */
  authorizeUrl: string;
  /** The callback URL the provider redirected back to (holds `code` and `state`). */
  callbackUrl: string;
  /** The app's answer to the callback. */
  callback: Hop;
}

/**
 * Drives the browser side of an OAuth sign-in against the demo app and a fake provider, one hop
 * at a time, so a test can tamper with URLs and cookies between hops:
 *
 * ```ts
 * const browser = new OAuthDriver(t.url);
 * const { callback } = await browser.signIn('google', { returnTo: '/settings' });
 * expect(callback.location).toBe('/settings');
 * ```
 *
 * Cookies are kept in {@link OAuthDriver.jar} and sent only to the app (never to the provider).
 * The fake must run in `auto-approve` mode (the kit's default).
 */
export class OAuthDriver {
  readonly jar: CookieJar;
  /** Every request this browser sent, in order, with the answer (for leak checks). */
  readonly history: Array<{ method: string; url: string; hop: Hop }> = [];

  constructor(
    readonly appUrl: string,
    options: { jar?: CookieJar; prefix?: string } = {},
  ) {
    this.jar = options.jar ?? new CookieJar();
    this.prefix = options.prefix ?? '/auth';
  }

  private readonly prefix: string;

  /**
   * GET `url` (absolute, or a path of the app) without following redirects. The jar's cookies
   * go with requests to the app, and `Set-Cookie` answers from the app are stored.
   */
  async get(url: string, headers: Record<string, string> = {}): Promise<Hop> {
    return this.send('GET', url, headers);
  }

  /** Any method; same rules as {@link get}. */
  async send(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD', url: string, headers: Record<string, string> = {}): Promise<Hop> {
    const target = new URL(url, this.appUrl);
    const toApp = target.origin === new URL(this.appUrl).origin;
    const path = `${target.pathname}${target.search}`;
    const agent = request(target.origin);
    let req = method === 'GET' ? agent.get(path) : method === 'POST' ? agent.post(path) : method === 'PUT' ? agent.put(path) : method === 'DELETE' ? agent.delete(path) : agent.head(path);
    req = req.redirects(0);
    const cookie = toApp ? this.jar.header(target.pathname) : '';
    if (cookie && headers.Cookie === undefined) req = req.set('Cookie', cookie);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const res = await req.ok(() => true);
    const setCookies = toSetCookieList(res.headers['set-cookie']);
    if (toApp) this.jar.store(setCookies);
    const hop: Hop = { status: res.status, location: res.headers.location, setCookies, headers: res.headers, body: res.body, text: res.text };
    this.history.push({ method, url: target.href, hop });
    return hop;
  }

  /** `GET /auth/:provider` (or `/auth/:provider/link`); expects the redirect to the provider. */
  async start(provider: string, options: { returnTo?: string; link?: boolean; headers?: Record<string, string> } = {}): Promise<Hop> {
    const query = options.returnTo !== undefined ? `?returnTo=${encodeURIComponent(options.returnTo)}` : '';
    return this.get(`${this.prefix}/${provider}${options.link ? '/link' : ''}${query}`, options.headers);
  }

  /** Follows the provider's authorize URL and returns where the provider sends the browser back. */
  async authorize(authorizeUrl: string): Promise<string> {
    const hop = await this.get(authorizeUrl);
    if (hop.status !== 302 && hop.status !== 303) throw new Error(`provider answered ${hop.status} to the authorize request`);
    return hop.location!;
  }

  /** Follows the callback URL back to the app. */
  callback(callbackUrl: string, headers: Record<string, string> = {}): Promise<Hop> {
    return this.get(callbackUrl, headers);
  }

  /** start → provider → callback, with no tampering. */
  async signIn(provider: string, options: { returnTo?: string; link?: boolean; headers?: Record<string, string> } = {}): Promise<SignInResult> {
    const start = await this.start(provider, options);
    if (start.status !== 302 || !start.location) throw new Error(`start answered ${start.status} ${start.text.slice(0, 200)}`);
    const callbackUrl = await this.authorize(start.location);
    const callback = await this.callback(callbackUrl, options.headers);
    return { start, authorizeUrl: start.location, callbackUrl, callback };
  }

  /** The access token in the jar (after a successful sign-in). */
  get accessToken(): string | undefined {
    return this.jar.get(DEMO_COOKIES.access);
  }
}

function toSetCookieList(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[];
  return typeof value === 'string' ? [value] : [];
}
