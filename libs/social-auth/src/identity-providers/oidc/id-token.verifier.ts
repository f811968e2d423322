import type { KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type FlattenedJWSInput, type JWSHeaderParameters, type KeyLike } from 'jose';
import { AuthError } from '../../errors/auth.error';
import type { Clock } from '../../tokens/clock';
import { checkIdTokenClaims } from './id-token-claims';

/** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. @internal */
export const ID_TOKEN_CLOCK_TOLERANCE = 60;
/** An ID token issued longer ago than this (seconds) is refused: it was minted for another login. @internal */
export const ID_TOKEN_MAX_AGE = 600;

/** jose key resolver over the provider's JWKS (`RemoteJwks.getKey`). @internal */
export type IdTokenKeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<KeyLike | KeyObject | Uint8Array>;

/** The configuration an ID token is checked against. @internal */
export interface OidcIdTokenExpectations {
  /**
   * The exact `iss`, or, for an issuer that depends on the token (a multi-tenant template), a rule
   * on the verified claims that must return true for the token's `iss`.
   */
  issuer: string | ((claims: Record<string, unknown>) => boolean);
  clientId: string;
  /** Accepted signature algorithms (asymmetric only). */
  algorithms: readonly string[];
  /** A provider-specific claim rule (Google's `hd`); returns the refused claim's name. */
  extraCheck?: (claims: Record<string, unknown>) => string | undefined;
}

/**
 * Verifies an OpenID provider's ID token from the token response (OIDC Core §3.1.3.7). Shared
 * by Google and every generic OpenID provider.
 *
 * Invariants (threat model B1–B7):
 * - Signature: only the configured asymmetric algorithms (`none`, HS*, a missing `alg` and any
 *   other algorithm are refused by the allowlist), with a key from the provider's JWKS chosen by
 *   `kid` (unknown `kid`: one rate-limited refetch, see `RemoteJwks`); header-supplied keys
 *   (`jku`, `x5u`, `jwk`) are ignored.
 * - `iss` equals the configured issuer as an exact string (no trailing-slash leniency), or
 *   passes the configured issuer rule (Microsoft's multi-tenant template).
 * - `aud` is our client id (alone), `azp` if present is our client id, `nonce` equals the
 *   transaction's, `sub` is 1–255 printable ASCII.
 * - `exp` and `iat` are required; `exp`/`nbf`/`iat`-in-the-future allow 60 s of skew and `iat`
 *   may be at most 10 minutes old.
 * - Every failure is `invalid_id_token`, except an unreachable JWKS (`provider_unavailable`).
 *   Nothing of the token or its claims is put in the error.
 * @internal
 */
export class OidcIdTokenVerifier {
  constructor(
    private readonly expected: OidcIdTokenExpectations,
    private readonly getKey: IdTokenKeyResolver,
    private readonly clock: Clock,
  ) {}

  /** The verified claims; throws `AuthError` otherwise. */
  async verify(idToken: string, nonce: string | undefined): Promise<Record<string, unknown>> {
    let claims: Record<string, unknown>;
    try {
      const result = await jwtVerify(idToken, this.getKey, {
        ...(typeof this.expected.issuer === 'string' ? { issuer: this.expected.issuer } : {}),
        audience: this.expected.clientId,
        algorithms: [...this.expected.algorithms],
        clockTolerance: ID_TOKEN_CLOCK_TOLERANCE,
        maxTokenAge: ID_TOKEN_MAX_AGE,
        requiredClaims: ['iss', 'aud', 'sub', 'exp', 'iat'],
        currentDate: this.clock.now(),
      });
      claims = result.payload as Record<string, unknown>;
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError('invalid_id_token', { cause: new Error(`ID token refused (${joseCode(error)})`) });
    }
    const issuerRule = this.expected.issuer;
    const refused =
      (typeof issuerRule === 'function' && !issuerRule(claims) ? 'iss' : undefined) ??
      checkIdTokenClaims(claims, { clientId: this.expected.clientId, nonce }) ??
      this.expected.extraCheck?.(claims);
    if (refused) throw new AuthError('invalid_id_token', { cause: new Error(`ID token claim refused (${refused})`) });
    return claims;
  }
}

function joseCode(error: unknown): string {
  return error instanceof joseErrors.JOSEError ? error.code : error instanceof Error ? error.name : 'error';
}
