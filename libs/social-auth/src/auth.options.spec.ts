import { resolveAuthOptions, type AuthModuleOptions } from './auth.options';
import { InvalidAuthOptionsError } from './errors/auth.error';

const SECRET = 'options-secret-options-secret-0123456789';
const BASE = { appUrl: 'https://app.example.com', tokens: { secret: SECRET } };

function resolve(raw: unknown) {
  return resolveAuthOptions(raw as AuthModuleOptions);
}

describe('resolveAuthOptions: a missing or malformed option is an option error, never a TypeError', () => {
  it('tokens omitted names tokens and says what to set', () => {
    expect(() => resolve({ appUrl: BASE.appUrl })).toThrow(InvalidAuthOptionsError);
    expect(() => resolve({ appUrl: BASE.appUrl })).toThrow('Invalid AuthModule option tokens: tokens is required: set tokens.secret (HS256) or tokens.privateKey (ES256)');
  });

  it('appUrl omitted names appUrl', () => {
    expect(() => resolve({ tokens: BASE.tokens })).toThrow(/^Invalid AuthModule option appUrl: appUrl is required/);
  });

  it.each<[string, unknown, RegExp]>([
    ['options undefined', undefined, /options must be an object/],
    ['options null', null, /options must be an object/],
    ['tokens null', { ...BASE, tokens: null }, /option tokens: tokens is required/],
    ['tokens a string', { ...BASE, tokens: 'secret' }, /option tokens:/],
    ['tokens empty', { ...BASE, tokens: {} }, /option tokens: set tokens.secret/],
    ['appUrl null', { ...BASE, appUrl: null }, /option appUrl:/],
    ['appUrl a number', { ...BASE, appUrl: 5 }, /option appUrl:/],
    ['providers a string', { ...BASE, providers: 'google' }, /option providers:/],
    ['providers.google empty', { ...BASE, providers: { google: {} } }, /option providers\.google\.clientId:/],
    ['providers.github without secret', { ...BASE, providers: { github: { clientId: 'id' } } }, /option providers\.github\.clientSecret:/],
    ['providers.oidc [null]', { ...BASE, providers: { oidc: [null] } }, /option providers\.oidc\.0:/],
    ['providers.oidc not a list', { ...BASE, providers: { oidc: {} } }, /option providers\.oidc:/],
    ['cookies a string', { ...BASE, cookies: 'x' }, /option cookies:/],
    ['linking a string', { ...BASE, linking: 'x' }, /option linking:/],
    ['allowedOrigins [null]', { ...BASE, allowedOrigins: [null] }, /option allowedOrigins:/],
  ])('%s', (_name, raw, message) => {
    let thrown: unknown;
    try {
      resolve(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidAuthOptionsError);
    expect((thrown as Error).message).toMatch(message);
  });

  it.each<[string, unknown]>([
    ['providers null', { ...BASE, providers: null }],
    ['providers.google null', { ...BASE, providers: { google: null, github: null, oidc: null } }],
    ['cookies, transaction, linking, handoff, http null', { ...BASE, cookies: null, transaction: null, linking: null, handoff: null, http: null }],
    ['handoff.redirectUris null', { ...BASE, handoff: { redirectUris: null } }],
    ['optional lists null', { ...BASE, allowedOrigins: null, tokens: { secret: SECRET, previousKeys: null } }],
  ])('%s: optional blocks given as null read as absent', (_name, raw) => {
    const resolved = resolve(raw);
    expect(resolved.providers).toEqual({ google: undefined, github: undefined, oidc: [] });
    expect(resolved.handoff.redirectUris).toEqual([]);
    expect(resolved.allowedOrigins).toEqual([]);
    expect(resolved.tokens.previousKeys).toEqual([]);
  });
});

describe('tokens.refreshRetryWindow (a lost refresh answer retried past the grace window)', () => {
  it.each<[string, Record<string, number>, number]>([
    ['default', {}, 300],
    ['set', { refreshRetryWindow: 60 }, 60],
    ['off', { refreshRetryWindow: 0 }, 0],
    ['grace off: off by default', { refreshReuseGrace: 0 }, 0],
    ['grace off, window off', { refreshReuseGrace: 0, refreshRetryWindow: 0 }, 0],
  ])('%s', (_name, tokens, window) => {
    expect(resolve({ ...BASE, tokens: { secret: SECRET, ...tokens } }).tokens.refreshRetryWindow).toBe(window);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a window without a grace window (duplicates would each replace the last successor)', { refreshReuseGrace: 0, refreshRetryWindow: 60 }, /tokens\.refreshRetryWindow: needs tokens\.refreshReuseGrace > 0/],
    ['negative', { refreshRetryWindow: -1 }, /refreshRetryWindow/],
    ['over a day', { refreshRetryWindow: 86_401 }, /refreshRetryWindow/],
    ['not whole', { refreshRetryWindow: 1.5 }, /refreshRetryWindow/],
  ])('refused: %s', (_name, tokens, message) => {
    expect(() => resolve({ ...BASE, tokens: { secret: SECRET, ...tokens } })).toThrow(InvalidAuthOptionsError);
    expect(() => resolve({ ...BASE, tokens: { secret: SECRET, ...tokens } })).toThrow(message);
  });
});
