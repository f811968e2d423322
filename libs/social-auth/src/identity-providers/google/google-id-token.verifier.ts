import type { Clock } from '../../tokens/clock';
import type { RemoteJwks } from '../remote-jwks';
import { OidcIdTokenVerifier } from '../oidc/id-token.verifier';

export { ID_TOKEN_CLOCK_TOLERANCE, ID_TOKEN_MAX_AGE } from '../oidc/id-token.verifier';

/** The configuration an ID token is checked against. @internal */
export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  hostedDomain?: string;
}

/**
 * Verifies Google ID tokens from the token response (OIDC Core §3.1.3.7) with the verifier every
 * OpenID provider shares (`OidcIdTokenVerifier`), configured for Google.
 *
 * Invariants (threat model B1–B7):
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
export class GoogleIdTokenVerifier extends OidcIdTokenVerifier {
  constructor(expected: IdTokenExpectations, jwks: RemoteJwks, clock: Clock) {
    // Google is an OpenID provider with its own endpoints: the shared verifier, RS256 only, plus `hd`.
    super(
      {
        issuer: expected.issuer,
        clientId: expected.clientId,
        algorithms: ['RS256'],
        extraCheck: (claims) => (expected.hostedDomain !== undefined && claims.hd !== expected.hostedDomain ? 'hd' : undefined),
      },
      jwks.getKey,
      clock,
    );
  }
}
