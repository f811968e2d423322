import { generateKeyPairSync } from 'node:crypto';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AuthModuleOptions, resolveAuthOptions } from '../auth.options';
import { AuthPaths } from '../controllers/auth-paths';
import type { ProviderHttpClient } from '../http/provider-http.client';
import { AccessTokenService } from '../tokens/access-token.service';
import { Clock } from '../tokens/clock';
import type { SingleUseStore } from '../transaction/single-use.store';
import type { MachineClientRecord, MachineClientStore } from './machine-client-store.port';
import { MachineClientService } from './machine-client.service';

class MemoryStore implements MachineClientStore {
  readonly rows = new Map<string, MachineClientRecord>();
  async findById(id: string) {
    return this.rows.get(id) ?? null;
  }
  async insert(client: MachineClientRecord) {
    if (this.rows.has(client.id)) throw new Error('duplicate');
    this.rows.set(client.id, { ...client });
  }
  async update(client: MachineClientRecord) {
    if (!this.rows.has(client.id)) return false;
    this.rows.set(client.id, { ...client });
    return true;
  }
}

const singleUse: SingleUseStore = { consume: async () => true };

function setup(extra: Partial<AuthModuleOptions> = {}, counters?: ThrottlerStorage) {
  const options = resolveAuthOptions({ appUrl: 'https://app.example.test', tokens: { secret: 's'.repeat(32) }, machineClients: { enabled: true, clientRateLimit: 2 }, ...extra } as AuthModuleOptions);
  const clock = new Clock();
  const store = new MemoryStore();
  const service = new MachineClientService(store, new AccessTokenService(options, clock), clock, singleUse, new AuthPaths(options), {} as ProviderHttpClient, options, counters);
  return { service, store };
}

/** A counter store like @nestjs/throttler's in-memory one, per key. */
function memoryCounters(): ThrottlerStorage {
  const hits = new Map<string, number>();
  return {
    increment: async (key: string, ttl: number, limit: number) => {
      const totalHits = (hits.get(key) ?? 0) + 1;
      hits.set(key, totalHits);
      return { totalHits, timeToExpire: ttl / 1000, isBlocked: totalHits > limit, timeToBlockExpire: totalHits > limit ? ttl / 1000 : 0 };
    },
  };
}

describe('MachineClientService', () => {
  const basic = (clientId: string, secret: string) => ({ auth: { method: 'client_secret_basic' as const, clientId, secret } });

  it.each<[string, Record<string, unknown>]>([
    ['a client id outside the alphabet', { id: 'a b', name: 'x', scopes: ['a'] }],
    ['no scopes', { name: 'x', scopes: [] }],
    ['a malformed scope', { name: 'x', scopes: ['a b'] }],
    ['an empty name', { name: '', scopes: ['a'] }],
    ['a short operator secret', { name: 'x', scopes: ['a'], clientSecret: 'short' }],
    ['jwks and jwksUri together', { name: 'x', scopes: ['a'], jwks: { keys: [] }, jwksUri: 'https://k.test/jwks' }],
    ['an empty jwks', { name: 'x', scopes: ['a'], jwks: { keys: [] } }],
    ['an RSA key under 2048 bits', { name: 'x', scopes: ['a'], jwks: { keys: [generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })] } }],
    ['an HMAC key', { name: 'x', scopes: ['a'], jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }],
    ['a key that names alg HS256', { name: 'x', scopes: ['a'], jwks: { keys: [{ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), alg: 'HS256' }] } }],
    ['a jwksUri that is not a URL', { name: 'x', scopes: ['a'], jwksUri: 'keys' }],
  ])('register refuses %s (invalid_request), storing nothing', async (_name, input) => {
    const { service, store } = setup();
    await expect(service.register(input as never)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(store.rows.size).toBe(0);
  });

  it('production refuses an http jwksUri', async () => {
    const { service } = setup({ production: true, cookies: { secure: true } } as Partial<AuthModuleOptions>);
    await expect(service.register({ name: 'x', scopes: ['a'], jwksUri: 'http://k.test/jwks' })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('stores only the public members of a registered key (a private "d" is dropped)', async () => {
    const { service, store } = setup();
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(jwk.d).toBeDefined();
    await service.register({ id: 'k', name: 'x', scopes: ['a'], jwks: { keys: [{ ...jwk, kid: 'k1' } as never] } });
    expect(JSON.stringify(store.rows.get('k')!.jwks)).not.toContain(jwk.d!);
    expect(store.rows.get('k')!.secretHash).toBeNull();
  });

  it('rotating twice keeps only the last two secrets', async () => {
    const { service } = setup({ machineClients: { enabled: true } });
    const { clientSecret: first } = await service.register({ id: 'r', name: 'x', scopes: ['a'] });
    const { clientSecret: second } = await service.rotateSecret('r');
    const { clientSecret: third } = await service.rotateSecret('r');
    await expect(service.issueToken(basic('r', first!))).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(service.issueToken(basic('r', second))).resolves.toMatchObject({ token_type: 'Bearer' });
    await expect(service.issueToken(basic('r', third))).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  it('issueTokenFor: refuses an unknown or disabled client, grants the allowed scopes', async () => {
    const { service } = setup();
    await service.register({ id: 'c', name: 'x', scopes: ['a', 'b'] });
    await expect(service.issueTokenFor('c', ['a'])).resolves.toMatchObject({ scope: 'a' });
    await expect(service.issueTokenFor('c', ['z'])).rejects.toMatchObject({ code: 'invalid_scope' });
    await expect(service.issueTokenFor('nobody')).rejects.toMatchObject({ code: 'invalid_client' });
    await service.disable('c');
    await expect(service.issueTokenFor('c')).rejects.toMatchObject({ code: 'invalid_client' });
  });

  it('rotate, disable and friends on an unknown client: not_found', async () => {
    const { service } = setup();
    await expect(service.rotateSecret('nobody')).rejects.toMatchObject({ code: 'not_found' });
    await expect(service.disable('nobody')).rejects.toMatchObject({ code: 'not_found' });
    await expect(service.setScopes('nobody', ['a'])).rejects.toMatchObject({ code: 'not_found' });
  });

  it('M9: the per-client-id budget answers rate_limited with Retry-After, before any hash, known client or not', async () => {
    const { service } = setup({}, memoryCounters());
    for (let i = 0; i < 2; i++) await expect(service.issueToken(basic('ghost', 'x'.repeat(40)))).rejects.toMatchObject({ code: 'invalid_client' });
    const error = await service.issueToken(basic('ghost', 'x'.repeat(40))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'rate_limited', headers: { 'Retry-After': expect.stringMatching(/^\d+$/) } });
  });

  it('M9: counters that cannot be read fail closed (service_unavailable), never unlimited', async () => {
    const broken: ThrottlerStorage = { increment: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const { service } = setup({}, broken);
    await service.register({ id: 'c', name: 'x', scopes: ['a'], clientSecret: 'c'.repeat(40) });
    await expect(service.issueToken(basic('c', 'c'.repeat(40)))).rejects.toMatchObject({ code: 'service_unavailable' });
  });
});
