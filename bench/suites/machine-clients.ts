import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { createSign, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import {
  AccessTokenService,
  AuthCookies,
  Clock,
  JwtAuthGuard,
  MachineClientService,
  Scopes,
  SessionService,
  resolveAuthOptions,
  type MachineClientRecord,
  type MachineClientStore,
  type ResolvedAuthOptions,
  type SingleUseStore,
} from '@nest-social-auth/core';
import { AuthPaths } from '../../libs/social-auth/src/controllers/auth-paths';
import type { ProviderHttpClient } from '../../libs/social-auth/src/http/provider-http.client';
import { median } from '../lib/stats';

/**
 * Machine clients (docs/machine-clients.md), in-process, no database or network: how many tokens
 * the client-credentials grant issues per second (secret and private_key_jwt), and what the guard
 * costs on a `@Scopes()` route next to a user's token on an ordinary route.
 *
 * `npm run bench -- --only=clients`, or standalone:
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/suites/machine-clients.ts
 */
export interface MachineClientsRow {
  operation: string;
  /** Tokens per second (issuance rows) or µs of CPU per call (guard rows). */
  value: number;
  unit: 'tokens/s' | 'µs';
}

class ScopedController {
  @Scopes('reports:read')
  reports(): void {}

  plain(): void {}
}

/** A store in memory: what the TypeORM store answers, without the database round trip. */
class MemoryStore implements MachineClientStore {
  readonly rows = new Map<string, MachineClientRecord>();
  async findById(id: string): Promise<MachineClientRecord | null> {
    return this.rows.get(id) ?? null;
  }
  async insert(client: MachineClientRecord): Promise<void> {
    this.rows.set(client.id, { ...client });
  }
  async update(client: MachineClientRecord): Promise<boolean> {
    if (!this.rows.has(client.id)) return false;
    this.rows.set(client.id, { ...client });
    return true;
  }
}

class MemorySingleUse implements SingleUseStore {
  private readonly seen = new Set<string>();
  async consume(key: string): Promise<boolean> {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

function contextFor(token: string, handler: 'reports' | 'plain'): ExecutionContextHost {
  const authorization = `Bearer ${token}`;
  const request = { headers: { host: '127.0.0.1:3000', authorization }, rawHeaders: ['Host', '127.0.0.1:3000', 'Authorization', authorization] };
  const context = new ExecutionContextHost([request, { setHeader: () => undefined, header: () => undefined }, () => undefined], ScopedController, ScopedController.prototype[handler]);
  context.setType('http');
  return context;
}

async function timeAsync(fn: (i: number) => unknown, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(500, iterations); i++) await fn(i);
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      const answer = fn(i);
      if (answer instanceof Promise) await answer;
    }
    batches.push(Number(process.hrtime.bigint() - started) / 1e3 / iterations);
  }
  return median(batches);
}

/** Tokens per second over `seconds`, `concurrency` requests in flight. */
async function throughput(issue: () => Promise<unknown>, seconds: number, concurrency: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < until) {
      await issue();
      done++;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

function assertion(key: KeyObject, clientId: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 60, jti: randomUUID() })}`;
  return `${input}.${createSign('sha256').update(input).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

export async function machineClientsSuite(options: { seconds: number; iterations: number }): Promise<MachineClientsRow[]> {
  const appUrl = 'http://127.0.0.1:3000';
  const resolved: ResolvedAuthOptions = resolveAuthOptions({ appUrl, production: false, tokens: { secret: randomBytes(32).toString('base64url') }, machineClients: { enabled: true } });
  const clock = new Clock();
  const tokens = new AccessTokenService(resolved, clock);
  const store = new MemoryStore();
  const clients = new MachineClientService(store, tokens, clock, new MemorySingleUse(), new AuthPaths(resolved), undefined as unknown as ProviderHttpClient, resolved);
  const rows: MachineClientsRow[] = [];

  const { clientId, clientSecret } = await clients.register({ id: 'bench-secret', name: 'bench', scopes: ['reports:read'] });
  const byBasic = () => clients.issueToken({ auth: { method: 'client_secret_basic', clientId, secret: clientSecret! } });
  for (const concurrency of [1, 4]) {
    rows.push({ operation: `token endpoint (service), client_secret_basic, ${concurrency} in flight (two scrypt hashes each)`, value: await throughput(byBasic, options.seconds, concurrency), unit: 'tokens/s' });
  }

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await clients.register({ id: 'bench-jwt', name: 'bench', scopes: ['reports:read'], jwks: { keys: [{ ...(publicKey.export({ format: 'jwk' }) as { kty: string }), kid: 'k1' }] } });
  const audience = clients.tokenEndpointUrl;
  const byAssertion = () => clients.issueToken({ auth: { method: 'private_key_jwt', assertion: assertion(privateKey, 'bench-jwt', audience) } });
  rows.push({ operation: 'token endpoint (service), private_key_jwt ES256, 1 in flight (assertion signed in the loop)', value: await throughput(byAssertion, options.seconds, 1), unit: 'tokens/s' });

  // The guard: a machine token on its @Scopes() route, next to a user token on a plain route.
  const sessions = { knownSessionLiveness: () => true, isSessionLive: async () => true } as unknown as SessionService;
  const guard = new JwtAuthGuard(new Reflector(), tokens, sessions, new AuthCookies(resolved, clock), resolved);
  (guard as unknown as { machineClients: MachineClientService }).machineClients = clients;
  const machine = (await byBasic()).access_token;
  const user = tokens.sign(randomUUID(), randomUUID()).token;
  for (const [label, token, handler] of [
    ['machine token on a @Scopes() route', machine, 'reports'],
    ['user token on a route without @Scopes()', user, 'plain'],
  ] as const) {
    const contexts = Array.from({ length: options.iterations }, () => contextFor(token, handler));
    if ((await guard.canActivate(contextFor(token, handler))) !== true) throw new Error(`machine-clients bench: the guard refused the ${label}`);
    rows.push({ operation: `guard canActivate, ${label} (token verified before, liveness cached)`, value: await timeAsync((i) => guard.canActivate(contexts[i]), options.iterations), unit: 'µs' });
  }
  return rows;
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  machineClientsSuite({ seconds: quick ? 1 : 3, iterations: quick ? 1000 : 5000 })
    .then((rows) => {
      for (const row of rows) console.log(`${row.operation}: ${row.value.toFixed(row.unit === 'µs' ? 2 : 0)} ${row.unit}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
