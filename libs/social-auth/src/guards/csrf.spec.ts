import type { Request } from 'express';
import { AuthError } from '../errors/auth.error';
import { assertSameOriginForCookieAuth, hasAllowedOrigin, isUnsafeMethod } from './csrf';

const options = { appOrigin: 'https://app.example.test', allowedOrigins: ['https://admin.example.test'] };

function req(headers: Array<[string, string]>, method = 'POST'): Request {
  return { method, rawHeaders: headers.flat() } as unknown as Request;
}

describe('CSRF origin rule', () => {
  it.each([
    [[['Origin', 'https://app.example.test']], true],
    [[['origin', 'https://admin.example.test']], true],
    [[['Origin', 'https://evil.test']], false],
    [[['Origin', 'null']], false],
    [[['Origin', 'https://app.example.test.evil.test']], false],
    [[['Origin', 'http://app.example.test']], false],
    [[['Origin', 'https://app.example.test:8443']], false],
    [[['Origin', 'https://app.example.test/path']], false],
    [[['Origin', 'https://app.example.test'], ['Origin', 'https://evil.test']], false],
    [[['Referer', 'https://app.example.test/settings?x=1']], true],
    [[['Referer', 'https://evil.test/https://app.example.test/']], false],
    [[['Referer', 'not a url']], false],
    [[['Origin', 'https://evil.test'], ['Referer', 'https://app.example.test/']], false],
    [[], false],
  ] as Array<[Array<[string, string]>, boolean]>)('%j → %s', (headers, expected) => {
    expect(hasAllowedOrigin(req(headers), options)).toBe(expected);
  });

  it('only unsafe methods are checked', () => {
    expect(['GET', 'HEAD', 'OPTIONS'].map(isUnsafeMethod)).toEqual([false, false, false]);
    expect(['POST', 'PUT', 'PATCH', 'DELETE', 'PROPFIND'].map(isUnsafeMethod)).toEqual([true, true, true, true, true]);
    expect(() => assertSameOriginForCookieAuth(req([], 'GET'), options)).not.toThrow();
    try {
      assertSameOriginForCookieAuth(req([], 'POST'), options);
      throw new Error('not thrown');
    } catch (error) {
      expect((error as AuthError).code).toBe('csrf_rejected');
      expect((error as AuthError).getStatus()).toBe(403);
    }
  });
});
