import { ExecutionContext, HttpException, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions, ThrottlerRequest } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { AuthError } from '../errors/auth.error';
import { OutageLog, describeFailure } from '../errors/outage-log';
import type { AuthRequest } from '../platform/auth-http';
import { authHttpOf } from '../platform/auth-http.provider';

/**
 * Name of the throttler that enforces the module's own limits. The host registers it in its
 * `ThrottlerModule` with {@link authThrottler}; the module never registers `ThrottlerModule` itself.
 * @publicApi
 */
export const AUTH_THROTTLER = 'social-auth';

/** The kinds of route the module limits; each has its own budget. @publicApi */
export type AuthRateLimitKind = 'start' | 'callback' | 'refresh' | 'token';

/** One budget: at most `limit` requests per `ttl` milliseconds per client. @publicApi */
export interface AuthRateLimit {
  limit: number;
  ttl: number;
}

/**
 * Default budgets, per client IP (IPv6: per /64) and per route handler.
 *
 * - `start`: `GET /auth/:provider` and `GET /auth/:provider/link` (each its own bucket). Cheap and
 *   stateless, but every start sends the browser to the provider: 30 per minute.
 * - `callback`: `GET /auth/:provider/callback`. Each one costs a code exchange at the provider and
 *   database writes: 30 per minute.
 * - `refresh`: `POST /auth/refresh`. A browser with several tabs refreshes now and then: 60 per minute.
 * - `token`: `POST /auth/oauth/token` (machine clients). A client asks once per token lifetime (5
 *   minutes by default), and each request costs two scrypt hashes: 60 per minute per address. The
 *   budget per client id is `machineClients.clientRateLimit`.
 * @publicApi
 */
export const AUTH_RATE_LIMITS: Readonly<Record<AuthRateLimitKind, Readonly<AuthRateLimit>>> = Object.freeze({
  start: Object.freeze({ limit: 30, ttl: 60_000 }),
  callback: Object.freeze({ limit: 30, ttl: 60_000 }),
  refresh: Object.freeze({ limit: 60, ttl: 60_000 }),
  token: Object.freeze({ limit: 60, ttl: 60_000 }),
});

/**
 * Route kinds whose limits fail closed: when the counter store cannot be reached, these routes
 * answer `503 service_unavailable` instead of running unlimited, because they mint tokens.
 * Starting a sign-in and signing out stay open (signing out must always work).
 * @publicApi
 */
export const AUTH_FAIL_CLOSED_KINDS: readonly AuthRateLimitKind[] = Object.freeze(['callback', 'refresh', 'token']);

/** Metadata key of {@link AuthRateLimited}. @internal */
export const AUTH_RATE_LIMIT_KIND = Symbol('SOCIAL_AUTH:RATE_LIMIT_KIND');

/**
 * Marks a route of the module with the budget it belongs to. The limits themselves come from the
 * host's {@link authThrottler} registration, so a host can tune them without touching the module.
 * @example @AuthRateLimited('refresh') @Post('refresh') refresh() {}
 * @publicApi
 */
export const AuthRateLimited = (kind: AuthRateLimitKind): MethodDecorator & ClassDecorator => SetMetadata(AUTH_RATE_LIMIT_KIND, kind);

/** The budget kind of the route being handled, if the module marked it. @internal */
export function rateLimitKindOf(context: ExecutionContext): AuthRateLimitKind | undefined {
  const handler = context.getHandler?.();
  const classRef = context.getClass?.();
  const fromHandler = handler ? (Reflect.getMetadata(AUTH_RATE_LIMIT_KIND, handler) as AuthRateLimitKind | undefined) : undefined;
  return fromHandler ?? (classRef ? (Reflect.getMetadata(AUTH_RATE_LIMIT_KIND, classRef) as AuthRateLimitKind | undefined) : undefined);
}

/**
 * True when the route being handled has a budget of the module's own ({@link AuthRateLimited}):
 * the host's other throttlers skip such routes (`skipIf: hasAuthRateLimit`), so the budget the
 * host gave {@link authThrottler} is the one enforced there instead of the lower of the two.
 * @example ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: 60_000, limit: 600, skipIf: hasAuthRateLimit }, authThrottler()] })
 * @publicApi
 */
export function hasAuthRateLimit(context: ExecutionContext): boolean {
  return rateLimitKindOf(context) !== undefined;
}

/**
 * The named throttler a host adds to its own `ThrottlerModule` so the module's routes get their
 * budgets. It applies only to routes marked with {@link AuthRateLimited}; every other route is
 * left to the host's throttlers.
 * @example
 * ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: 60_000, limit: 600, skipIf: hasAuthRateLimit }, authThrottler({ refresh: { limit: 20 } })] })
 * @publicApi
 */
export function authThrottler(overrides: Partial<Record<AuthRateLimitKind, Partial<AuthRateLimit>>> = {}): ThrottlerOptions {
  const budgets = {} as Record<AuthRateLimitKind, AuthRateLimit>;
  for (const kind of Object.keys(AUTH_RATE_LIMITS) as AuthRateLimitKind[]) {
    const budget = { ...AUTH_RATE_LIMITS[kind], ...definedOnly(overrides[kind]) };
    if (!Number.isInteger(budget.limit) || budget.limit < 1) throw new RangeError(`authThrottler: ${kind}.limit must be a whole number ≥ 1`);
    if (!Number.isInteger(budget.ttl) || budget.ttl < 1000) throw new RangeError(`authThrottler: ${kind}.ttl must be a whole number of milliseconds ≥ 1000`);
    budgets[kind] = budget;
  }
  const budgetOf = (context: ExecutionContext): AuthRateLimit => budgets[rateLimitKindOf(context) ?? 'start'];
  return {
    name: AUTH_THROTTLER,
    limit: (context) => budgetOf(context).limit,
    ttl: (context) => budgetOf(context).ttl,
    skipIf: (context) => !hasAuthRateLimit(context),
  };
}

/**
 * `ThrottlerGuard` with keys that cannot be dodged, the module's error shape, and a defined answer
 * when the counter store is down. Register it as the host's `APP_GUARD` (instead of
 * `ThrottlerGuard`):
 *
 * - Tracker: the client address the platform computed (`req.ip`), which honours exactly the
 *   hop count the host set (Express's `trust proxy`, Fastify's `trustProxy`), so a forged
 *   `X-Forwarded-For` is ignored unless a trusted proxy wrote it. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) counts as the IPv4 address; other
 *   IPv6 addresses count per /64 (one customer's prefix), so rotating inside it does not help.
 * - Key: the route *handler* (method, declared path, class and method name) plus the throttler name
 *   and the tracker, hashed. Path spelling (`/AUTH/refresh`, `/auth/refresh/`) cannot matter because
 *   the raw path is never part of the key, and it is the same on every instance.
 * - Over the limit: `429 rate_limited` with `Retry-After` (seconds), on any route.
 * - Store down (Redis unreachable, timeout): one log line per outage (and one when it recovers);
 *   routes marked `callback` or `refresh` fail closed with `503 service_unavailable` and
 *   `Retry-After`, every other route goes through unlimited. Never a crash, never a 500.
 *
 * Every policy is a protected hook (`getTracker`, `generateKey`, `throwThrottlingException`,
 * `failsClosed`), so hosts customise by subclassing.
 * @example { provide: APP_GUARD, useClass: AuthThrottlerGuard }
 * @publicApi
 */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  private static readonly log = new Logger('AuthThrottlerGuard');
  /** Seconds a client is told to wait when the counter store is down. */
  protected storageRetryAfterSeconds = 5;
  /** Prefix length that groups IPv6 clients. */
  protected ipv6Prefix = 64;
  /** One line when the counter store goes down, one when it is back (shared with the database's outage log's shape). */
  private readonly storageOutage = new OutageLog(AuthThrottlerGuard.log);

  /** Non-HTTP contexts (RPC, WebSocket) are not limited by this guard. */
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http';
  }

  protected override async handleRequest(requestProps: ThrottlerRequest): Promise<boolean> {
    let allowed: boolean;
    try {
      allowed = await super.handleRequest(requestProps);
    } catch (error) {
      if (error instanceof HttpException) throw error;
      return this.onStorageError(requestProps.context, error);
    }
    this.storageOutage.recovered('rate-limit store reachable again: limits are enforced');
    return allowed;
  }

  /** The client: `req.ip` as the platform computed it from the trusted hops, normalised ({@link clientAddressKey}). */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as AuthRequest;
    return clientAddressKey(authHttpOf(request).clientIp(request), this.ipv6Prefix);
  }

  /** The route handler, never the raw path: spelling variants share one bucket, on every instance. */
  protected override generateKey(context: ExecutionContext, tracker: string, throttlerName: string): string {
    return createHash('sha256').update(`social-auth|${throttlerName}|${routeIdentity(context)}|${tracker}`).digest('hex');
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = String(Math.max(1, Math.ceil(detail.timeToBlockExpire || detail.timeToExpire || 1)));
    this.setResponseHeader(this.getRequestResponse(context).res, 'Retry-After', retryAfter);
    throw new AuthError('rate_limited', { headers: { 'Retry-After': retryAfter } });
  }

  /**
   * Whether a route must refuse requests while the counter store is down. Default: the routes the
   * module marked as minting tokens ({@link AUTH_FAIL_CLOSED_KINDS}).
   */
  protected failsClosed(context: ExecutionContext): boolean {
    const kind = rateLimitKindOf(context);
    return kind !== undefined && AUTH_FAIL_CLOSED_KINDS.includes(kind);
  }

  private onStorageError(context: ExecutionContext, error: unknown): boolean {
    this.storageOutage.failed(
      () => `rate-limit store unavailable (${describeFailure(error)}): sign-in callbacks and token refresh answer 503 service_unavailable, other routes run unlimited until it is back`,
    );
    if (!this.failsClosed(context)) return true;
    const retryAfter = String(this.storageRetryAfterSeconds);
    this.setResponseHeader(this.getRequestResponse(context).res, 'Retry-After', retryAfter);
    throw new AuthError('service_unavailable', { cause: error, headers: { 'Retry-After': retryAfter } });
  }
}

/**
 * Normalises a client address into a rate-limit tracker: IPv4 as is, IPv4-mapped IPv6 as its IPv4
 * address, any other IPv6 address masked to its `/ipv6Prefix` network (`2001:db8:1:2::/64`), zone
 * ids dropped. Anything unparsable is tracked under one shared `unknown` key (never under a
 * caller-chosen string).
 * @publicApi
 */
export function clientAddressKey(ip: string | undefined, ipv6Prefix = 64): string {
  if (!ip) return 'unknown';
  const bare = ip.split('%')[0];
  const version = isIP(bare);
  if (version === 4) return bare;
  if (version !== 6) return 'unknown';
  const groups = ipv6Groups(bare.toLowerCase());
  if (!groups) return 'unknown';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  }
  const prefix = Math.min(128, Math.max(0, Math.trunc(ipv6Prefix)));
  const masked = groups.map((group, index) => {
    const keep = Math.min(16, Math.max(0, prefix - index * 16));
    return keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${prefix}`;
}

/** The eight 16-bit groups of an IPv6 address (already validated by `isIP`), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const octets = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((octets[0] << 8) | octets[1]).toString(16)}:${((octets[2] << 8) | octets[3]).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  const groups = [...head, ...new Array<string>(Math.max(0, fill)).fill('0'), ...rest].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** A stable identity of the route handler: the same on every instance, independent of the request's spelling. */
function routeIdentity(context: ExecutionContext): string {
  const classRef = context.getClass();
  const handler = context.getHandler();
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as number | undefined;
  const classPath = Reflect.getMetadata(PATH_METADATA, classRef) as string | string[] | undefined;
  const handlerPath = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
  return `${method ?? ''} ${String(classPath ?? '')}/${String(handlerPath ?? '')} ${classRef.name}.${handler.name}`;
}

function definedOnly(budget: Partial<AuthRateLimit> | undefined): Partial<AuthRateLimit> {
  const out: Partial<AuthRateLimit> = {};
  if (budget?.limit !== undefined) out.limit = budget.limit;
  if (budget?.ttl !== undefined) out.ttl = budget.ttl;
  return out;
}
