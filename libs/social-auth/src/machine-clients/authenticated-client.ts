/**
 * What the guard puts on the request after verifying a machine client's access token
 * (read it with `@CurrentClient()`). Never a user: `@CurrentUser()` is undefined on such a request.
 * @publicApi
 */
export interface AuthenticatedClient {
  /** Always `'machine'`: tells a client apart from an {@link AuthenticatedUser}. */
  readonly kind: 'machine';
  /** Client id (`sub` and `client_id`). */
  readonly clientId: string;
  /** Scopes the token was issued with (`scope`). */
  readonly scopes: readonly string[];
  /** Access-token id (`jti`). */
  readonly tokenId: string;
  /** When the token was issued (seconds since epoch). */
  readonly issuedAt: number;
  /** When the token expires (seconds since epoch). */
  readonly expiresAt: number;
}

/** Whether a verified principal is a machine client (not a user). @internal */
export function isAuthenticatedClient(principal: object): principal is AuthenticatedClient {
  return (principal as { kind?: unknown }).kind === 'machine';
}
