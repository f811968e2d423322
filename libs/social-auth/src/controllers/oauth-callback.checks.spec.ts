import { checkCallbackQuery, issuerMatches } from './oauth-callback.checks';

describe('checkCallbackQuery', () => {
  it.each([
    ['code and state', 'code=abc&state=xyz', { code: 'abc', state: 'xyz' }],
    ['Google-style code with an encoded slash, plus Google extras', 'state=xyz&code=4%2F0Abc&scope=openid%20email&authuser=0&prompt=consent', { code: '4/0Abc', state: 'xyz' }],
    ['RFC 9207 iss', 'code=abc&state=xyz&iss=https%3A%2F%2Fidp.test', { code: 'abc', state: 'xyz', iss: 'https://idp.test' }],
    ['provider error with a description (never returned)', 'error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=xyz', { error: 'access_denied', state: 'xyz' }],
  ])('accepts %s', (_name, query, params) => {
    expect(checkCallbackQuery(query)).toEqual({ ok: true, params });
  });

  // Threat model A3 (and A1 for a missing state).
  it.each([
    ['state twice', 'code=abc&state=a&state=b', 'invalid_request'],
    ['state twice, one percent-encoded name', 'code=abc&state=a&st%61te=b', 'invalid_request'],
    ['code twice', 'code=a&code=b&state=xyz', 'invalid_request'],
    ['state[]', 'code=abc&state[]=x', 'invalid_request'],
    ['code[]', 'code[]=x&state=xyz', 'invalid_request'],
    ['code[key]', 'code[a]=x&state=xyz', 'invalid_request'],
    ['10 kB code', `code=${'a'.repeat(10_240)}&state=xyz`, 'invalid_request'],
    ['2 kB + 1 state', `code=abc&state=${'s'.repeat(2049)}`, 'invalid_request'],
    ['CRLF in code', 'code=abc%0D%0ASet-Cookie%3A%20x%3D1&state=xyz', 'invalid_request'],
    ['NUL in state', 'code=abc&state=xy%00z', 'invalid_request'],
    ['tab in an extra parameter', 'code=abc&state=xyz&scope=a%09b', 'invalid_request'],
    ['implicit access_token', 'code=abc&state=xyz&access_token=t', 'invalid_request'],
    ['hybrid id_token', 'code=abc&state=xyz&id_token=e.y.J', 'invalid_request'],
    ['implicit token', 'state=xyz&token=t', 'invalid_request'],
    ['refresh_token', 'code=abc&state=xyz&refresh_token=r', 'invalid_request'],
    ['both code and error', 'code=abc&error=access_denied&state=xyz', 'invalid_request'],
    ['neither code nor error', 'state=xyz', 'invalid_request'],
    ['empty code', 'code=&state=xyz', 'invalid_request'],
    ['error with a quote', 'error=access%22denied&state=xyz', 'invalid_request'],
    ['non-ASCII code', 'code=%C3%A9&state=xyz', 'invalid_request'],
    ['missing state', 'code=abc', 'invalid_state'],
    ['empty state', 'code=abc&state=', 'invalid_state'],
    ['no query at all', '', 'invalid_state'],
    ['query over 8 kB', `code=abc&state=xyz${['p', 'q', 'r', 's', 't'].map((n) => `&${n}=${n.repeat(2000)}`).join('')}`, 'invalid_request'],
  ])('refuses %s', (_name, query, code) => {
    expect(checkCallbackQuery(query)).toEqual({ ok: false, code });
  });
});

describe('issuerMatches (RFC 9207)', () => {
  const google = { issuer: 'https://accounts.google.com', requireIss: false };
  it.each([
    ['no iss, not required', undefined, google, true],
    ['exact iss', 'https://accounts.google.com', google, true],
    ['iss of another provider', 'https://github.com', google, false],
    ['trailing-slash variant', 'https://accounts.google.com/', google, false],
    ['empty iss', '', google, false],
    ['no iss, required', undefined, { ...google, requireIss: true }, false],
    ['exact iss, required', 'https://accounts.google.com', { ...google, requireIss: true }, true],
    ['iss when the transaction knows no issuer', 'https://x.test', { requireIss: false }, false],
  ])('%s', (_name, iss, expected, ok) => {
    expect(issuerMatches(iss, expected)).toBe(ok);
  });
});
