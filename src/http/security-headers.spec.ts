import { API_DOCS_CSP, DEFAULT_CSP, securityHeadersFor } from './security-headers';

describe('securityHeadersFor', () => {
  it.each([
    ['Swagger UI', '/docs', API_DOCS_CSP],
    ['Swagger UI with a trailing slash', '/docs/', API_DOCS_CSP],
    ['a Swagger UI asset', '/docs/swagger-ui-init.js', API_DOCS_CSP],
    ['Swagger UI, other case', '/DOCS', API_DOCS_CSP],
    ['Swagger UI with a query', '/docs?x=1', API_DOCS_CSP],
    ['the JSON document', '/docs-json', DEFAULT_CSP],
    ['a look-alike path', '/docsevil', DEFAULT_CSP],
    ['the sign-in page (sets its own nonce CSP)', '/', DEFAULT_CSP],
    ['a module route', '/auth/me', DEFAULT_CSP],
  ])('%s (%s)', (_name, path, csp) => {
    const headers = securityHeadersFor(path, 'docs');
    expect(headers).toEqual({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Content-Security-Policy': csp });
  });

  it.each([DEFAULT_CSP, API_DOCS_CSP])('every CSP forbids framing and inline or remote scripts: %s', (csp) => {
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*('unsafe-inline'|'unsafe-eval'|https?:|\*)/);
  });
});
