import { randomBytes } from 'node:crypto';
import { isHandoffRedirectUri } from '@nest-social-auth/core';
import { DatabaseUrlError, validateDatabaseUrl } from './database-url';
import { DemoOidcProvider, loadOidcProviders } from './oidc-providers.config';

/** The demo's configuration, read from the environment once at start-up. */
export interface DemoConfig {
  nodeEnv: string;
  production: boolean;
  port: number;
  appUrl: string;
  databaseUrl: string;
  redisUrl?: string;
  /** Prefix of every Redis key the demo writes (throttler counters, single-use records). */
  redisPrefix: string;
  jwtSecret?: string;
  jwtPrivateKey?: string;
  /** True when the JWT secret was generated for this start (development only). */
  ephemeralSecret: boolean;
  accessTtl: number;
  refreshIdleTtl: number;
  refreshAbsoluteTtl: number;
  google?: {
    clientId: string;
    clientSecret: string;
    issuer?: string;
    authorizationURL?: string;
    tokenURL?: string;
    userInfoURL?: string;
    jwksURL?: string;
    discoveryURL?: string;
    hostedDomain?: string;
  };
  github?: { clientId: string; clientSecret: string; authorizationURL?: string; tokenURL?: string; apiURL?: string; issuer?: string };
  /** Generic OpenID providers (`AUTH_OIDC_PROVIDERS`, see oidc-providers.config.ts). */
  oidc: DemoOidcProvider[];
  /** Sign in with Microsoft (`MICROSOFT_CLIENT_ID`/`SECRET`, `MICROSOFT_TENANT`, `MICROSOFT_ALLOWED_TENANTS`, endpoint overrides). */
  microsoft?: {
    clientId: string;
    clientSecret: string;
    tenant?: string;
    allowedTenants?: string[];
    issuerTemplate?: string;
    authorizationURL?: string;
    tokenURL?: string;
    jwksURL?: string;
    discoveryURL?: string;
    trustEmail?: boolean;
  };
  /** Sign in with Apple (`APPLE_CLIENT_ID`, `APPLE_TEAM_ID`, `APPLE_KEY_ID`, `APPLE_PRIVATE_KEY`, endpoint overrides). */
  apple?: {
    clientId: string;
    teamId: string;
    keyId: string;
    privateKey: string;
    issuer?: string;
    authorizationURL?: string;
    tokenURL?: string;
    jwksURL?: string;
    trustEmail?: boolean;
  };
  /** Serve the testing kit's fake Google, GitHub, Microsoft and Apple in-process (development only). */
  sandbox: boolean;
  /** The HTTP platform the demo runs on (`HTTP_PLATFORM`): Nest's Express adapter or its Fastify adapter. */
  httpPlatform: DemoHttpPlatform;
  /** Number of proxy hops trusted for `X-Forwarded-For`; 0 trusts none. */
  trustProxy: number;
  /** Requests per minute per client allowed on the module's start, callback and refresh routes. */
  rateLimits: { start: number; callback: number; refresh: number; token: number; machineClient: number };
  /** Timeout of every call to an identity provider, in ms (`AUTH_HTTP_TIMEOUT_MS`); undefined: the module's default (10 s). */
  httpTimeoutMs?: number;
  /** Native apps' redirect URIs a login-code hand-off may land on (`AUTH_HANDOFF_REDIRECT_URIS`, comma-separated). */
  handoffRedirectUris: string[];
  /** Serve the API description at `/docs` and `/docs-json` (`API_DOCS`; default: on unless NODE_ENV=production). */
  apiDocs: boolean;
  /** Ports of the sandbox's fake Google and GitHub (`AUTH_SANDBOX_GOOGLE_PORT`, `AUTH_SANDBOX_GITHUB_PORT`); 0 picks free ones. */
  sandboxPorts: { google: number; github: number };
  /** Serve the client-credentials grant (`AUTH_MACHINE_CLIENTS`; on by default when a machine client is configured). */
  machineClients: boolean;
  /** The one machine client the demo registers at start-up (`AUTH_MACHINE_CLIENT_ID`, `_SECRET`, `_SCOPES`), if any. */
  machineClient?: { id: string; secret: string; scopes: string[] };
}

/** The HTTP platforms the demo runs on (`HTTP_PLATFORM`). */
export type DemoHttpPlatform = 'express' | 'fastify';

/** A wrong environment variable; the message names it. */
export class EnvError extends Error {}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the demo's environment (see .env.example). Throws {@link EnvError} naming
 * the first bad variable, so a misconfigured demo refuses to start.
 */
export function loadDemoConfig(env: Env): DemoConfig {
  const nodeEnv = env.NODE_ENV || 'development';
  const production = nodeEnv === 'production';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const appUrl = url(env, 'APP_URL') ?? `http://localhost:${port}`;
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/app.sqlite';
  try {
    validateDatabaseUrl(databaseUrl);
  } catch (error) {
    throw new EnvError((error as DatabaseUrlError).message);
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) throw new EnvError('REDIS_URL must look like redis://127.0.0.1:6379');
  const redisPrefix = env.REDIS_PREFIX ?? 'social-auth:';
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(redisPrefix)) throw new EnvError('REDIS_PREFIX must be at most 64 characters of A-Z a-z 0-9 : _ . -');

  let jwtSecret = env.AUTH_JWT_SECRET || undefined;
  const jwtPrivateKey = env.AUTH_JWT_PRIVATE_KEY?.replace(/\\n/g, '\n') || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new EnvError('AUTH_JWT_SECRET must be at least 32 characters');
  if (jwtPrivateKey !== undefined && !jwtPrivateKey.includes('-----BEGIN PRIVATE KEY-----')) {
    throw new EnvError('AUTH_JWT_PRIVATE_KEY must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)');
  }
  let ephemeralSecret = false;
  if (!jwtSecret && !jwtPrivateKey) {
    if (production) throw new EnvError('AUTH_JWT_SECRET or AUTH_JWT_PRIVATE_KEY is required in production');
    jwtSecret = randomBytes(32).toString('base64url');
    ephemeralSecret = true;
  }

  const google = pair(env, 'GOOGLE');
  const github = pair(env, 'GITHUB');
  const oidc = loadOidcProviders(env);
  const microsoft = pair(env, 'MICROSOFT');
  const apple = appleKey(env);
  const sandboxDefault = !google && !github && !microsoft && !apple && oidc.length === 0 && !production;
  const sandbox = bool(env, 'AUTH_SANDBOX', sandboxDefault);
  if (sandbox && production) throw new EnvError('AUTH_SANDBOX must not be on in production');

  const machineClient = machineClientOf(env);
  return {
    nodeEnv,
    production,
    port,
    appUrl: appUrl.replace(/\/+$/, ''),
    databaseUrl,
    redisUrl,
    redisPrefix,
    jwtSecret,
    jwtPrivateKey,
    ephemeralSecret,
    accessTtl: int(env, 'AUTH_ACCESS_TTL', 600, 30, 900),
    refreshIdleTtl: int(env, 'AUTH_REFRESH_IDLE_TTL', 14 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
    refreshAbsoluteTtl: int(env, 'AUTH_REFRESH_ABSOLUTE_TTL', 30 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
    google: google && {
      ...google,
      issuer: url(env, 'GOOGLE_ISSUER'),
      authorizationURL: url(env, 'GOOGLE_AUTHORIZATION_URL'),
      tokenURL: url(env, 'GOOGLE_TOKEN_URL'),
      userInfoURL: url(env, 'GOOGLE_USERINFO_URL'),
      jwksURL: url(env, 'GOOGLE_JWKS_URL'),
      discoveryURL: url(env, 'GOOGLE_DISCOVERY_URL'),
      hostedDomain: env.GOOGLE_HOSTED_DOMAIN || undefined,
    },
    github: github && {
      ...github,
      authorizationURL: url(env, 'GITHUB_AUTHORIZATION_URL'),
      tokenURL: url(env, 'GITHUB_TOKEN_URL'),
      apiURL: url(env, 'GITHUB_API_URL'),
      issuer: url(env, 'GITHUB_ISSUER'),
    },
    oidc,
    microsoft: microsoft && {
      ...microsoft,
      tenant: env.MICROSOFT_TENANT || undefined,
      allowedTenants: env.MICROSOFT_ALLOWED_TENANTS ? env.MICROSOFT_ALLOWED_TENANTS.split(',').map((t) => t.trim()).filter(Boolean) : undefined,
      issuerTemplate: env.MICROSOFT_ISSUER_TEMPLATE || undefined,
      authorizationURL: url(env, 'MICROSOFT_AUTHORIZATION_URL'),
      tokenURL: url(env, 'MICROSOFT_TOKEN_URL'),
      jwksURL: url(env, 'MICROSOFT_JWKS_URL'),
      discoveryURL: url(env, 'MICROSOFT_DISCOVERY_URL'),
      trustEmail: bool(env, 'MICROSOFT_TRUST_EMAIL', false),
    },
    apple: apple && {
      ...apple,
      issuer: url(env, 'APPLE_ISSUER'),
      authorizationURL: url(env, 'APPLE_AUTHORIZATION_URL'),
      tokenURL: url(env, 'APPLE_TOKEN_URL'),
      jwksURL: url(env, 'APPLE_JWKS_URL'),
      trustEmail: bool(env, 'APPLE_TRUST_EMAIL', false),
    },
    sandbox,
    httpPlatform: httpPlatform(env),
    apiDocs: bool(env, 'API_DOCS', !production),
    trustProxy: int(env, 'AUTH_TRUST_PROXY', 0, 0, 10),
    rateLimits: {
      start: int(env, 'AUTH_RATE_LIMIT_START', 30, 1, 100_000),
      callback: int(env, 'AUTH_RATE_LIMIT_CALLBACK', 30, 1, 100_000),
      refresh: int(env, 'AUTH_RATE_LIMIT_REFRESH', 60, 1, 100_000),
      token: int(env, 'AUTH_RATE_LIMIT_TOKEN', 60, 1, 100_000),
      machineClient: int(env, 'AUTH_RATE_LIMIT_MACHINE_CLIENT', 60, 1, 100_000),
    },
    httpTimeoutMs: env.AUTH_HTTP_TIMEOUT_MS ? int(env, 'AUTH_HTTP_TIMEOUT_MS', 10_000, 100, 10_000) : undefined,
    handoffRedirectUris: redirectUris(env, 'AUTH_HANDOFF_REDIRECT_URIS'),
    sandboxPorts: { google: int(env, 'AUTH_SANDBOX_GOOGLE_PORT', 0, 0, 65535), github: int(env, 'AUTH_SANDBOX_GITHUB_PORT', 0, 0, 65535) },
    machineClients: bool(env, 'AUTH_MACHINE_CLIENTS', machineClient !== undefined),
    machineClient,
  };
}

/** `AUTH_MACHINE_CLIENT_ID` + `AUTH_MACHINE_CLIENT_SECRET` (both or neither) and `AUTH_MACHINE_CLIENT_SCOPES` (space-separated). */
function machineClientOf(env: Env): DemoConfig['machineClient'] {
  const id = env.AUTH_MACHINE_CLIENT_ID || undefined;
  const secret = env.AUTH_MACHINE_CLIENT_SECRET || undefined;
  if (!id && !secret) return undefined;
  if (!id || !secret) throw new EnvError('AUTH_MACHINE_CLIENT_ID and AUTH_MACHINE_CLIENT_SECRET must be set together');
  if (!/^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/.test(id)) throw new EnvError('AUTH_MACHINE_CLIENT_ID must be 1 to 64 of A-Z a-z 0-9 . _ ~ -');
  if (!/^[A-Za-z0-9._~-]{32,256}$/.test(secret)) throw new EnvError('AUTH_MACHINE_CLIENT_SECRET must be 32 to 256 of A-Z a-z 0-9 . _ ~ - (openssl rand -hex 32)');
  const scopes = (env.AUTH_MACHINE_CLIENT_SCOPES || 'reports:read').split(' ').filter(Boolean);
  return { id, secret, scopes };
}

function httpPlatform(env: Env): DemoHttpPlatform {
  const raw = env.HTTP_PLATFORM;
  if (raw === undefined || raw === '') return 'express';
  if (raw === 'express' || raw === 'fastify') return raw;
  throw new EnvError(`HTTP_PLATFORM must be express or fastify (got "${raw.slice(0, 20)}")`);
}

/** A comma-separated list of hand-off redirect URIs, each checked by the module's own rule. */
function redirectUris(env: Env, name: string): string[] {
  const list = (env[name] ?? '').split(',').map((uri) => uri.trim()).filter((uri) => uri.length > 0);
  const bad = list.find((uri) => !isHandoffRedirectUri(uri));
  if (bad !== undefined) throw new EnvError(`${name} must list absolute URLs without credentials or fragment, comma-separated (got "${bad.slice(0, 40)}")`);
  return list;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new EnvError(`${name} must be a whole number (got "${raw.slice(0, 20)}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new EnvError(`${name} must be between ${min} and ${max} (got ${value})`);
  return value;
}

/** Apple's four required variables, all or none. */
function appleKey(env: Env): { clientId: string; teamId: string; keyId: string; privateKey: string } | undefined {
  const names = ['APPLE_CLIENT_ID', 'APPLE_TEAM_ID', 'APPLE_KEY_ID', 'APPLE_PRIVATE_KEY'] as const;
  const set = names.filter((n) => env[n]);
  if (set.length === 0) return undefined;
  const missing = names.find((n) => !env[n]);
  if (missing) throw new EnvError(`${missing} is required when any APPLE_* key variable is set`);
  return { clientId: env.APPLE_CLIENT_ID!, teamId: env.APPLE_TEAM_ID!, keyId: env.APPLE_KEY_ID!, privateKey: env.APPLE_PRIVATE_KEY!.replace(/\\n/g, '\n') };
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new EnvError(`${name} must be true or false (got "${raw.slice(0, 20)}")`);
}

function url(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw new EnvError(`${name} must be an absolute http(s) URL`);
  }
  return raw;
}

function pair(env: Env, prefix: string): { clientId: string; clientSecret: string } | undefined {
  const clientId = env[`${prefix}_CLIENT_ID`];
  const clientSecret = env[`${prefix}_CLIENT_SECRET`];
  if (!clientId && !clientSecret) return undefined;
  if (!clientId) throw new EnvError(`${prefix}_CLIENT_ID is required when ${prefix}_CLIENT_SECRET is set`);
  if (!clientSecret) throw new EnvError(`${prefix}_CLIENT_SECRET is required when ${prefix}_CLIENT_ID is set`);
  return { clientId, clientSecret };
}
