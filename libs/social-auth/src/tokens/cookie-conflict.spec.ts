import { expireEveryCopy, matchingCookieDomains, matchingCookiePaths } from './cookie-conflict';

describe('matchingCookiePaths (RFC 6265 path-match, threat model F2)', () => {
  it.each([
    ['/', ['/']],
    ['', ['/']],
    ['/me', ['/', '/me']],
    ['/auth/refresh', ['/', '/auth', '/auth/', '/auth/refresh']],
    ['/api/auth/google/callback', ['/', '/api', '/api/', '/api/auth', '/api/auth/', '/api/auth/google', '/api/auth/google/', '/api/auth/google/callback']],
    ['/auth/', ['/', '/auth', '/auth/']],
    ['/a;b/c', ['/', '/a;b/c'].filter((p) => !p.includes(';'))],
  ])('%j → %j', (path, expected) => {
    expect(matchingCookiePaths(path)).toEqual(expected);
  });

  it('a very deep path is capped', () => {
    expect(matchingCookiePaths(`/${'a/'.repeat(50)}`).length).toBeLessThanOrEqual(12);
  });
});

describe('matchingCookieDomains', () => {
  it.each([
    ['app.example.test', ['app.example.test', 'example.test']],
    ['a.b.example.com', ['a.b.example.com', 'b.example.com', 'example.com']],
    ['APP.Example.COM.', ['app.example.com', 'example.com']],
    ['example.com', ['example.com']],
    ['localhost', []],
    ['127.0.0.1', []],
    ['[::1]', []],
  ])('%s → %j', (host, expected) => {
    expect(matchingCookieDomains(host)).toEqual(expected);
  });
});

describe('expireEveryCopy', () => {
  const now = Date.UTC(2026, 0, 1);
  it('a __Host- name: one host-only Path=/ clear (browsers refuse any other for it)', () => {
    expect(expireEveryCopy('__Host-sa_rt', { host: 'app.example.test', requestPath: '/auth/refresh', secure: true }, now)).toEqual([
      '__Host-sa_rt=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 2026 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    ]);
  });

  it('an unprefixed name: host-only and every Domain, for every matching path', () => {
    const lines = expireEveryCopy('sa_rt', { host: 'app.example.test', requestPath: '/auth/refresh', secure: false }, now);
    const scopes = lines.map((l) => `${/Domain=([^;]+)/.exec(l)?.[1] ?? 'host-only'} ${/Path=([^;]+)/.exec(l)![1]}`);
    const expected: string[] = [];
    for (const d of ['host-only', 'app.example.test', 'example.test']) for (const p of ['/', '/auth', '/auth/', '/auth/refresh']) expected.push(`${d} ${p}`);
    expect(scopes).toEqual(expected);
    for (const line of lines) expect(line).toMatch(/^sa_rt=; Max-Age=0; .*; HttpOnly; SameSite=Lax$/);
  });

  it('on localhost: host-only only', () => {
    expect(expireEveryCopy('sa_tx', { host: 'localhost', requestPath: '/auth', secure: false }, now).every((l) => !l.includes('Domain='))).toBe(true);
  });
});
