import { errors as joseErrors, jwtVerify } from 'jose';
import { AuthError } from '../../errors/auth.error';
import type { Clock } from '../../tokens/clock';
import type { RemoteJwks } from '../remote-jwks';
import { checkGoogleClaims } from './google-claims';

/** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. @internal */
export const ID_TOKEN_CLOCK_TOLERANCE = 60;
/** An ID token issued longer ago than this (seconds) is refused: it was minted for another login. @internal */
export const ID_TOKEN_MAX_AGE = 600;

/** The configuration an ID token is checked against. @internal */
export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  hostedDomain?: string;
}

/**
 * Verifies Google ID tokens from the token response (OIDC Core §3.1.3.7).
 *
 * Invariants (SECURITY B1–B7):
 * - Signature: RS256 only (`none`, HS256, ES256, a missing `alg` are refused by the allowlist),
 *   with a key from the configured JWKS chosen by `kid`; header-supplied keys are ignored.
 * - `iss` equals the configured issuer as an exact string (no trailing-slash leniency).
 * - `aud` is our client id (alone), `azp` if present is our client id, `nonce` equals the
 *   transaction's, `sub` is 1–255 printable ASCII, `hd` matches `hostedDomain` when configured.
 * - `exp` and `iat` are required; `exp`/`nbf`/`iat`-in-the-future allow 60 s of skew and `iat`
 *   may be at most 10 minutes old. `typ` is not checked (Google sets none).
 * - Every failure is `invalid_id_token`, except an unreachable JWKS (`provider_unavailable`).
 *   Nothing of the token or its claims is put in the error.
 * @internal
 */
export class GoogleIdTokenVerifier {
  constructor(
    private readonly expected: IdTokenExpectations,
    private readonly jwks: RemoteJwks,
    private readonly clock: Clock,
  ) {}

  /** The verified claims; throws `AuthError` otherwise. */
  async verify(idToken: string, nonce: string | undefined): Promise<Record<string, unknown>> {
    let claims: Record<string, unknown>;
    try {
      const result = await jwtVerify(idToken, this.jwks.getKey, {
        issuer: this.expected.issuer,
        audience: this.expected.clientId,
        algorithms: ['RS256'],
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
    const refused = checkGoogleClaims(claims, { clientId: this.expected.clientId, nonce, hostedDomain: this.expected.hostedDomain });
    if (refused) throw new AuthError('invalid_id_token', { cause: new Error(`ID token claim refused (${refused})`) });
    return claims;
  }
}

function joseCode(error: unknown): string {
  return error instanceof joseErrors.JOSEError ? error.code : error instanceof Error ? error.name : 'error';
}
