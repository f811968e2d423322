import { readCookie } from './auth-cookies';

describe('readCookie (raw Cookie header, threat model F2)', () => {
  it.each([
    [undefined, { status: 'absent' }],
    ['', { status: 'absent' }],
    ['other=1', { status: 'absent' }],
    ['rt=abc', { status: 'present', value: 'abc' }],
    ['a=1; rt=abc; b=2', { status: 'present', value: 'abc' }],
    ['rt="abc"', { status: 'present', value: 'abc' }],
    ['rt=attacker; rt=victim', { status: 'ambiguous', count: 2 }],
    ['rt=; rt=victim', { status: 'ambiguous', count: 2 }],
    ['rt=', { status: 'absent' }],
    ['xrt=abc; rtx=def', { status: 'absent' }],
    ['rt=a=b', { status: 'present', value: 'a=b' }],
    ['rt=%E0%A4%A', { status: 'present', value: '%E0%A4%A' }],
  ])('%j → %j', (header, expected) => {
    expect(readCookie(header, 'rt')).toEqual(expected);
  });

  it('a prefixed name is not confused with its unprefixed twin', () => {
    expect(readCookie('sa_rt=planted; __Secure-sa_rt=planted; __Host-sa_rt=real', '__Host-sa_rt')).toEqual({ status: 'present', value: 'real' });
  });
});
