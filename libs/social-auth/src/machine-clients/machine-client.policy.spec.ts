import { grantScopes, machineTokenAllowed, parseBasicCredentials, parseScopeParameter, readClientCredentialsRequest, ScopeRequirement, userTokenAllowed } from './machine-client.policy';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const SECRET = 's'.repeat(43);
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('readClientCredentialsRequest (RFC 6749 §4.4, §2.3, RFC 7523 §2.2)', () => {
  const grant = { grant_type: 'client_credentials' };
  it.each<[string, unknown, string[], string]>([
    ['no body', undefined, [basic('c1', SECRET)], 'invalid_request'],
    ['an array body', [grant], [basic('c1', SECRET)], 'invalid_request'],
    ['a repeated parameter (array value)', { grant_type: ['client_credentials', 'client_credentials'] }, [basic('c1', SECRET)], 'invalid_request'],
    ['a nested object value', { grant_type: 'client_credentials', scope: { a: 1 } }, [basic('c1', SECRET)], 'invalid_request'],
    ['two Authorization headers', grant, [basic('c1', SECRET), basic('c2', SECRET)], 'invalid_request'],
    ['no grant_type', {}, [basic('c1', SECRET)], 'invalid_request'],
    ['an empty grant_type', { grant_type: '' }, [basic('c1', SECRET)], 'invalid_request'],
    ['grant_type password', { grant_type: 'password' }, [basic('c1', SECRET)], 'unsupported_grant_type'],
    ['grant_type refresh_token', { grant_type: 'refresh_token' }, [basic('c1', SECRET)], 'unsupported_grant_type'],
    ['an empty scope', { ...grant, scope: '' }, [basic('c1', SECRET)], 'invalid_scope'],
    ['a scope with a double space', { ...grant, scope: 'a  b' }, [basic('c1', SECRET)], 'invalid_scope'],
    ['a scope with a quote', { ...grant, scope: 'a"b' }, [basic('c1', SECRET)], 'invalid_scope'],
    ['no client authentication', grant, [], 'invalid_client'],
    ['client_secret_post', { ...grant, client_id: 'c1', client_secret: SECRET }, [], 'invalid_client'],
    ['Basic and a body secret', { ...grant, client_secret: SECRET }, [basic('c1', SECRET)], 'invalid_request'],
    ['Basic and an assertion', { ...grant, client_assertion_type: ASSERTION_TYPE, client_assertion: 'a.b.c' }, [basic('c1', SECRET)], 'invalid_request'],
    ['a Bearer header instead of Basic', grant, ['Bearer abc'], 'invalid_client'],
    ['Basic without a colon', grant, [`Basic ${Buffer.from('c1').toString('base64')}`], 'invalid_client'],
    ['Basic with an empty secret', grant, [basic('c1', '')], 'invalid_client'],
    ['Basic with a client id outside the alphabet', grant, [basic('c 1', SECRET)], 'invalid_client'],
    ['a body client_id naming another client', { ...grant, client_id: 'c2' }, [basic('c1', SECRET)], 'invalid_request'],
    ['an assertion without its type', { ...grant, client_assertion: 'a.b.c' }, [], 'invalid_request'],
    ['an assertion of another type', { ...grant, client_assertion_type: 'urn:x', client_assertion: 'a.b.c' }, [], 'invalid_request'],
    ['an assertion type without assertion', { ...grant, client_assertion_type: ASSERTION_TYPE }, [], 'invalid_request'],
    ['an oversized assertion', { ...grant, client_assertion_type: ASSERTION_TYPE, client_assertion: 'a'.repeat(9000) }, [], 'invalid_client'],
  ])('%s → %s', (_name, body, authorization, error) => {
    expect(readClientCredentialsRequest(body, authorization)).toEqual({ error });
  });

  it.each<[string, unknown, string[], unknown]>([
    ['Basic, no scope', grant, [basic('c1', SECRET)], { scopes: undefined, auth: { method: 'client_secret_basic', clientId: 'c1', secret: SECRET } }],
    ['Basic, scopes deduplicated', { ...grant, scope: 'a b a' }, [basic('c1', SECRET)], { scopes: ['a', 'b'], auth: { method: 'client_secret_basic', clientId: 'c1', secret: SECRET } }],
    ['Basic with the same client_id in the body', { ...grant, client_id: 'c1' }, [basic('c1', SECRET)], { scopes: undefined, auth: { method: 'client_secret_basic', clientId: 'c1', secret: SECRET } }],
    ['Basic with form-encoded id and secret (§2.3.1)', grant, [`Basic ${Buffer.from('c1:p%3Aw+d%25').toString('base64')}`], { scopes: undefined, auth: { method: 'client_secret_basic', clientId: 'c1', secret: 'p:w d%' } }],
    ['private_key_jwt', { ...grant, client_assertion_type: ASSERTION_TYPE, client_assertion: 'a.b.c' }, [], { scopes: undefined, auth: { method: 'private_key_jwt', assertion: 'a.b.c', clientId: undefined } }],
  ])('%s → accepted', (_name, body, authorization, expected) => {
    expect(readClientCredentialsRequest(body, authorization)).toEqual(expected);
  });
});

describe('parseBasicCredentials', () => {
  it.each<[string, unknown]>([
    ['basic ' + Buffer.from('id:secret').toString('base64'), { clientId: 'id', secret: 'secret' }],
    ['Basic ' + Buffer.from('id:se:cret').toString('base64'), { clientId: 'id', secret: 'se:cret' }],
    ['Basic ' + Buffer.from('id:%E0%A4%A').toString('base64'), undefined],
    ['Basic not base64!', undefined],
    ['Basic ' + Buffer.from(`id:${'x'.repeat(257)}`).toString('base64'), undefined],
  ])('%s', (header, expected) => {
    expect(parseBasicCredentials(header)).toEqual(expected);
  });
});

describe('parseScopeParameter and grantScopes (§3.3)', () => {
  it.each<[string, string[] | undefined]>([
    ['reports:read', ['reports:read']],
    ['a b', ['a', 'b']],
    [' a', undefined],
    ['a\tb', undefined],
    ['a\\b', undefined],
    [Array.from({ length: 65 }, (_, i) => `s${i}`).join(' '), undefined],
  ])('parseScopeParameter(%j)', (value, expected) => {
    expect(parseScopeParameter(value)).toEqual(expected);
  });

  it.each<[string[] | undefined, string[], unknown]>([
    [undefined, ['a', 'b'], ['a', 'b']],
    [['a'], ['a', 'b'], ['a']],
    [['a', 'c'], ['a', 'b'], { error: 'invalid_scope' }],
    [undefined, [], { error: 'invalid_scope' }],
    [[], ['a'], { error: 'invalid_scope' }],
  ])('grantScopes(%j, %j)', (requested, allowed, expected) => {
    expect(grantScopes(requested, allowed)).toEqual(expected);
  });
});

describe('machineTokenAllowed / userTokenAllowed (@Scopes() routes)', () => {
  const req = (anyOf: string[], allOf: string[] = [], allowUserTokens = false): ScopeRequirement => ({ anyOf, allOf, allowUserTokens });
  it.each<[string, ScopeRequirement | undefined, string[], boolean]>([
    ['no @Scopes(): default deny', undefined, ['a'], false],
    ['an empty requirement: deny', req([]), ['a'], false],
    ['any of, one held', req(['a', 'b']), ['b'], true],
    ['any of, none held', req(['a', 'b']), ['c'], false],
    ['all of, all held', req([], ['a', 'b']), ['b', 'a', 'c'], true],
    ['all of, one missing', req([], ['a', 'b']), ['a'], false],
    ['any of and all of, both met', req(['x', 'y'], ['a']), ['a', 'y'], true],
    ['any of and all of, any of unmet', req(['x', 'y'], ['a']), ['a'], false],
    ['no scopes on the token', req(['a']), [], false],
    ['a prefix is not the scope', req(['orders:read']), ['orders'], false],
  ])('machine: %s', (_name, requirement, scopes, allowed) => {
    expect(machineTokenAllowed(requirement, scopes)).toBe(allowed);
  });

  it.each<[string, ScopeRequirement | undefined, boolean]>([
    ['a route without @Scopes()', undefined, true],
    ['a machine-only route', req(['a']), false],
    ['a route that accepts users', req(['a'], [], true), true],
  ])('user: %s', (_name, requirement, allowed) => {
    expect(userTokenAllowed(requirement)).toBe(allowed);
  });
});
