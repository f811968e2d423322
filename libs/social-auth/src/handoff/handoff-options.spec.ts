import { InvalidAuthOptionsError } from '../errors/auth.error';
import { resolveAuthOptions } from '../auth.options';

const base = { appUrl: 'https://app.example.com', tokens: { secret: 'unit-secret-unit-secret-unit-secret-0123' } };

describe('handoff.redirectUris option', () => {
  it('defaults to none', () => {
    expect(resolveAuthOptions(base).handoff).toEqual({ redirectUris: [] });
  });

  it('keeps absolute URLs as written (custom schemes and https)', () => {
    const redirectUris = ['com.example.app:/oauth', 'https://app.example.com/native-cb'];
    expect(resolveAuthOptions({ ...base, handoff: { redirectUris } }).handoff.redirectUris).toEqual(redirectUris);
  });

  it.each(['/relative', 'javascript:alert(1)', 'data:text/html,x', 'https://u:p@app.example.com/cb', 'com.example.app:/oauth#frag', 'com.example.app:/o auth', '', 'noscheme'])(
    'refuses %j at boot',
    (uri) => {
      expect(() => resolveAuthOptions({ ...base, handoff: { redirectUris: [uri] } })).toThrow(InvalidAuthOptionsError);
    },
  );
});
