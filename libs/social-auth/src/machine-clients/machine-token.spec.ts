import { createHmac } from 'node:crypto';
import { AuthModuleOptions, resolveAuthOptions } from '../auth.options';
import { AuthError } from '../errors/auth.error';
import { AccessTokenService } from '../tokens/access-token.service';
import { Clock } from '../tokens/clock';
import { KEY_PURPOSE, deriveKey } from '../tokens/key-derivation';

const APP = 'https://app.example.test';
const SECRET = 'unit-secret-unit-secret-unit-secret-0123';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('AccessTokenService: machine tokens next to users\' tokens', () => {
  const options = resolveAuthOptions({ appUrl: APP, tokens: { secret: SECRET } } as AuthModuleOptions);
  const svc = new AccessTokenService(options, new Clock());
  const key = deriveKey(options, KEY_PURPOSE.accessToken);
  const kid = JSON.parse(Buffer.from(svc.sign('u1', 's1').token.split('.')[0], 'base64url').toString()).kid as string;
  const mac = (payload: Record<string, unknown>) => {
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };
  const claims = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { sub: 'svc', client_id: 'svc', scope: 'a b', iat: now, exp: now + 300, iss: APP, aud: APP, jti: 'j1', ...over };
  };

  it('signForClient: sub = client_id, scope, no sid, capped at 15 minutes; verifyPrincipal answers a client', () => {
    const { token, expiresIn } = svc.signForClient('svc', ['a', 'b'], 3600);
    expect(expiresIn).toBe(900);
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    expect(payload).toMatchObject({ sub: 'svc', client_id: 'svc', scope: 'a b' });
    expect(payload.sid).toBeUndefined();
    expect(svc.verifyPrincipal(token)).toMatchObject({ kind: 'machine', clientId: 'svc', scopes: ['a', 'b'] });
  });

  it('verify (users only) refuses a machine token, first time and from its cache', () => {
    const { token } = svc.signForClient('svc', ['a'], 300);
    expect(() => svc.verify(token)).toThrow(AuthError);
    svc.verifyPrincipal(token);
    expect(() => svc.verify(token)).toThrow(AuthError);
  });

  it('a user token stays a user token for verifyPrincipal', () => {
    const { token } = svc.sign('u1', 's1');
    expect(svc.verifyPrincipal(token)).toMatchObject({ id: 'u1', sessionId: 's1' });
  });

  it('the control forged machine token passes (so each refusal below is about one change)', () => {
    expect(svc.verifyPrincipal(mac(claims()))).toMatchObject({ kind: 'machine', clientId: 'svc' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['sub differs from client_id', { sub: 'other' }],
    ['a sid next to client_id (half user, half client)', { sid: 's1' }],
    ['scope not a string', { scope: ['a'] }],
    ['no jti', { jti: undefined }],
    ['another audience', { aud: 'https://elsewhere.test' }],
    ['a lifetime over 15 minutes', { exp: Math.floor(Date.now() / 1000) + 1000 }],
  ])('refuses a machine token with %s', (_name, over) => {
    expect(() => svc.verifyPrincipal(mac(claims(over)))).toThrow(AuthError);
  });
});
