import { checkTokenResponse } from './token-response';

const ok = (body: unknown, status = 200) => ({ status, text: typeof body === 'string' ? body : JSON.stringify(body) });

describe('checkTokenResponse', () => {
  it.each([
    ['Google shape', { access_token: 'ya29.x', token_type: 'Bearer', expires_in: 3599, scope: 'openid', id_token: 'a.b.c' }],
    ['GitHub shape, lower-case bearer', { access_token: 'gho_x', token_type: 'bearer', scope: 'read:user,user:email' }],
    ['upper-case BEARER', { access_token: 't', token_type: 'BEARER' }],
    ['without expires_in', { access_token: 't', token_type: 'Bearer' }],
  ])('accepts the %s', (_name, body) => {
    const check = checkTokenResponse(ok(body));
    expect(check.ok).toBe(true);
  });

  it('keeps neither the access token nor the refresh token in params', () => {
    const check = checkTokenResponse(ok({ access_token: 'at', refresh_token: 'rt', token_type: 'Bearer', id_token: 'a.b.c' }));
    expect(check).toEqual({ ok: true, token: { accessToken: 'at', params: { token_type: 'Bearer', id_token: 'a.b.c' } } });
  });

  // Threat model B9, A7; passport-oauth2 CVE-2021-41580.
  it.each([
    ['200 without access_token', ok({ token_type: 'Bearer' }), 'provider_error'],
    ['200 with an empty access_token', ok({ access_token: '', token_type: 'Bearer' }), 'provider_error'],
    ['200 with a numeric access_token', ok({ access_token: 42, token_type: 'Bearer' }), 'provider_error'],
    ['200 with a control character in access_token', ok({ access_token: 'a\nb', token_type: 'Bearer' }), 'provider_error'],
    ['200 {"error":"invalid_grant"}', ok({ error: 'invalid_grant' }), 'provider_error'],
    ['200 error next to a token (GitHub style)', ok({ error: 'bad_verification_code', access_token: 't', token_type: 'bearer' }), 'provider_error'],
    ['200 form body (no JSON)', ok('access_token=t&token_type=bearer'), 'provider_error'],
    ['200 HTML', ok('<html><body>Sign in</body></html>'), 'provider_error'],
    ['200 JSON array', ok([{ access_token: 't' }]), 'provider_error'],
    ['200 null', ok('null'), 'provider_error'],
    ['token_type mac', ok({ access_token: 't', token_type: 'mac' }), 'provider_error'],
    ['token_type missing', ok({ access_token: 't' }), 'provider_error'],
    ['expires_in as a string', ok({ access_token: 't', token_type: 'Bearer', expires_in: '3599' }), 'provider_error'],
    ['negative expires_in', ok({ access_token: 't', token_type: 'Bearer', expires_in: -1 }), 'provider_error'],
    ['id_token not a string', ok({ access_token: 't', token_type: 'Bearer', id_token: {} }), 'provider_error'],
    ['400 invalid_grant', ok({ error: 'invalid_grant' }, 400), 'provider_error'],
    ['401 invalid_client', ok({ error: 'invalid_client' }, 401), 'provider_error'],
    ['302 redirect', ok('', 302), 'provider_error'],
    ['429', ok('', 429), 'provider_unavailable'],
    ['500', ok('oops', 500), 'provider_unavailable'],
    ['503', ok({ error: 'temporarily_unavailable' }, 503), 'provider_unavailable'],
  ])('refuses %s', (_name, response, code) => {
    const check = checkTokenResponse(response);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.code).toBe(code);
  });
});
