import { pickVerifiedPrimaryEmail, readGithubUser } from './github-profile';

describe('readGithubUser', () => {
  it('keys the account on the numeric id, never the login', () => {
    expect(readGithubUser({ id: 1001, login: 'octo', name: 'Octo Cat', avatar_url: 'https://avatars.example.com/u/1001', email: 'public@example.com' })).toEqual({
      subject: '1001',
      login: 'octo',
      displayName: 'Octo Cat',
      avatarUrl: 'https://avatars.example.com/u/1001',
    });
  });

  it('uses the login as display name when the name is null', () => {
    expect(readGithubUser({ id: 7, login: 'seven', name: null })?.displayName).toBe('seven');
  });

  // Threat model I2, C4: only a positive safe integer id is a subject.
  it.each([
    ['id missing', { login: 'octo' }],
    ['id as a string', { id: '1001', login: 'octo' }],
    ['id an object', { id: { value: 1001 } }],
    ['id a float', { id: 10.5 }],
    ['id zero', { id: 0 }],
    ['id negative', { id: -1 }],
    ['id beyond safe integers', { id: 2 ** 60 }],
    ['id null', { id: null }],
  ])('refuses %s', (_name, body) => {
    expect(readGithubUser(body as Record<string, unknown>)).toBeUndefined();
  });
});

describe('pickVerifiedPrimaryEmail', () => {
  it.each([
    ['primary and verified', [{ email: 'a@x.test', primary: true, verified: true }], 'a@x.test'],
    ['verified primary after others', [{ email: 'b@x.test', primary: false, verified: true }, { email: 'a@x.test', primary: true, verified: true }], 'a@x.test'],
    ['primary but unverified (threat model C3)', [{ email: 'a@x.test', primary: true, verified: false }], null],
    ['verified but secondary only', [{ email: 'b@x.test', primary: false, verified: true }], null],
    ['truthy strings are not booleans', [{ email: 'a@x.test', primary: 'true', verified: 'true' }], null],
    ['empty list', [], null],
    ['junk entries', [null, 1, 'x', { email: 'a@x.test' }], null],
    ['a 300-character address is kept', [{ email: `${'a'.repeat(60)}@${'b'.repeat(235)}.test`, primary: true, verified: true }], `${'a'.repeat(60)}@${'b'.repeat(235)}.test`],
    ['a malformed address is dropped', [{ email: 'not an address', primary: true, verified: true }], null],
  ])('%s', (_name, list, email) => {
    expect(pickVerifiedPrimaryEmail(list)).toBe(email);
  });

  it.each([
    ['an object', {}],
    ['null', null],
    ['a string (HTML)', '<html></html>'],
    ['undefined (not JSON)', undefined],
  ])('refuses %s as not a list', (_name, value) => {
    expect(pickVerifiedPrimaryEmail(value)).toBeUndefined();
  });
});
