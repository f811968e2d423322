import { MAX_RETURN_TO_LENGTH, ReturnToPolicy, resolveReturnTo } from './return-to.policy';

const policy: ReturnToPolicy = { appOrigin: 'https://app.test', allowedOrigins: ['https://admin.app.test'], defaultReturnTo: '/home' };

describe('resolveReturnTo', () => {
  // Threat model G1: the open-redirect corpus, and friends. Every one lands on the default.
  it.each([
    ['absolute URL of another origin', 'https://evil.test'],
    ['protocol-relative', '//evil.test'],
    ['slash backslash', '/\\evil.test'],
    ['double backslash', '\\\\evil.test'],
    ['encoded double slash', '/%2F%2Fevil.test'],
    ['double-encoded double slash', '/%252F%252Fevil.test'],
    ['encoded backslash', '/%5Cevil.test'],
    ['scheme without slashes', 'https:evil.test'],
    ['scheme with one slash', 'https:/evil.test'],
    ['tab after slash', '/\t/evil.test'],
    ['encoded tab', '/%09/evil.test'],
    ['CRLF injection', '/ok\r\nLocation: https://evil.test'],
    ['encoded CRLF', '/ok%0d%0aSet-Cookie:x=1'],
    ['NUL', '/ok\u0000'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['userinfo to another host', 'https://app.test@evil.test'],
    ['userinfo on our host', 'https://user:pw@app.test/'],
    ['look-alike host', 'https://app.test.evil.test'],
    ['other port', 'https://app.test:8443/x'],
    ['other scheme', 'http://app.test/x'],
    ['ftp', 'ftp://app.test/x'],
    ['dot-segments to network path', '/..//evil.test'],
    ['dot-segments to network path, encoded', '/%2e%2e//evil.test'],
    // Issue 14 finding 2: normalising must not reopen an encoded slash, in any encoding or case.
    ['dot segment before an encoded slash', '/./%2Fevil.test'],
    ['dot segment before an encoded slash, lower case', '/./%2fevil.test'],
    ['encoded dot segment before an encoded slash', '/%2E/%2Fevil.test'],
    ['dot-dot segment before an encoded slash', '/a/../%2Fevil.test'],
    ['fully encoded dot-dot and double slash', '/%2E%2E%2F%2Fevil.test'],
    ['fully encoded dot-dot and double slash, mixed case', '/%2e%2E%2f%2Fevil.test'],
    ['encoded dot and double slash', '/.%2F%2Fevil.test'],
    ['encoded dot-dot after a segment', '/a/..%2F%2Fevil.test'],
    ['double-encoded dot-dot and double slash', '/%252E%252E%252F%252Fevil.test'],
    ['double-encoded slash after a dot segment', '/./%252Fevil.test'],
    ['triple-encoded slash after a dot segment', '/./%25252Fevil.test'],
    ['encoded backslash after a dot segment', '/./%5Cevil.test'],
    ['encoded backslash after a dot segment, lower case', '/./%5cevil.test'],
    ['double-encoded backslash after a dot segment', '/./%255Cevil.test'],
    ['encoded dot-dot and backslash', '/%2E%2E%5C%5Cevil.test'],
    ['encoded dot-dot, slash and backslash', '/%2e%2e%2f%5cevil.test'],
    ['space', '/a b'],
    ['relative without slash', 'settings'],
    ['empty', ''],
    ['malformed percent-encoding', '/%E0%A4%A'],
    ['10 kB', `/${'a'.repeat(10_000)}`],
    ['just over the limit', `/${'a'.repeat(MAX_RETURN_TO_LENGTH)}`],
    ['invalid URL', 'http://[::1'],
    ['non-string: array', ['/a', '/b']],
    ['non-string: object', { toString: () => '/a' }],
    ['non-string: number', 42],
    ['undefined', undefined],
  ])('%s → default', (_name, requested) => {
    expect(resolveReturnTo(requested, policy)).toBe('/home');
  });

  it.each([
    ['root', '/', '/'],
    ['path with query and fragment', '/settings?tab=profile#email', '/settings?tab=profile#email'],
    ['encoded space in query', '/search?q=a%20b', '/search?q=a%20b'],
    ['encoded slashes after the first segment', '/files/a%2Fb', '/files/a%2Fb'],
    ['dot-segments inside the app', '/a/../b', '/b'],
    ['dot segment before a plain segment', '/./settings', '/settings'],
    ['encoded slash inside a later segment after normalising', '/a/./b%2Fc', '/a/b%2Fc'],
    ['absolute URL of the app', 'https://app.test/done?x=1', 'https://app.test/done?x=1'],
    ['absolute URL of an allowed origin', 'https://admin.app.test/', 'https://admin.app.test/'],
    ['exactly the limit', `/${'a'.repeat(MAX_RETURN_TO_LENGTH - 1)}`, `/${'a'.repeat(MAX_RETURN_TO_LENGTH - 1)}`],
  ])('%s is kept', (_name, requested, expected) => {
    expect(resolveReturnTo(requested, policy)).toBe(expected);
  });
});
