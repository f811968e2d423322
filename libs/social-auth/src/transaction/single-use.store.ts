/**
 * Port of the atomic "use once" records that make a transaction (or any other one-time value)
 * single-use across every instance of the app.
 *
 * Contract: `consume(key, ttlSeconds)` returns `true` exactly once per key among all concurrent
 * and later callers, on any instance, for at least `ttlSeconds`; every other call returns
 * `false`. It throws only when the store itself fails (the caller then refuses the request).
 * Keys are at most 128 characters.
 *
 * The default binding stores markers in the `auth_single_use` table (primary-key insert); bind
 * another implementation (Redis `SET key 1 NX EX ttl`, …) to share markers elsewhere:
 * @example { provide: SingleUseStore, useClass: RedisSingleUseStore }
 * @publicApi
 */
export interface SingleUseStore {
  /** Marks `key` as used; true when this call was the first to do so. */
  consume(key: string, ttlSeconds: number): Promise<boolean>;
}

/** Injection token of the {@link SingleUseStore} port (same name as the interface). @publicApi */
export const SingleUseStore = Symbol('SOCIAL_AUTH:SINGLE_USE_STORE');
