/**
 * Pure rules of the client-credentials grant: reading a token request (RFC 6749 §4.4, §2.3.1,
 * RFC 7521/7523), granting scopes (§3.3) and deciding whether a token's scopes satisfy a route.
 * No Nest, no I/O: every decision here is table-tested in `machine-client.policy.spec.ts`.
 * @internal
 */

/** RFC 6749 §3.3 `scope-token`: printable ASCII without space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** Client ids the module accepts: URL-safe, so they read the same in Basic, forms, JWT `iss`. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/;
const MAX_SECRET_LENGTH = 256;
const MAX_ASSERTION_LENGTH = 8192;
const MAX_SCOPES = 64;

/** `client_assertion_type` of RFC 7523 §2.2. @publicApi */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The error codes a token request can end with (RFC 6749 §5.2). @internal */
export type TokenRequestError = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';

/** How the client proves who it is. @internal */
export type ClientAuthentication =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'private_key_jwt'; assertion: string; clientId?: string };

/** A well-formed client-credentials request, before the client is authenticated. @internal */
export interface ClientCredentialsRequest {
  /** Requested scopes; undefined when `scope` was absent (then every allowed scope is granted). */
  scopes?: string[];
  auth: ClientAuthentication;
}

/** Whether `id` is a client id the module issues and accepts. @internal */
export function isClientId(id: unknown): id is string {
  return typeof id === 'string' && CLIENT_ID.test(id);
}

/** Whether `scope` is one RFC 6749 scope token. @internal */
export function isScopeToken(scope: unknown): scope is string {
  return typeof scope === 'string' && SCOPE_TOKEN.test(scope);
}

/**
 * Splits a `scope` parameter (space-delimited, §3.3) into distinct scope tokens, or undefined when
 * it is not one (empty, two spaces in a row, a character outside `scope-token`, too many).
 * @internal
 */
export function parseScopeParameter(value: string): string[] | undefined {
  if (value.length === 0 || value.length > 4096) return undefined;
  const parts = value.split(' ');
  if (parts.length > MAX_SCOPES || !parts.every(isScopeToken)) return undefined;
  return [...new Set(parts)];
}

/**
 * Reads a client-credentials token request.
 *
 * - `body`: the parsed form or JSON body; every parameter must be a single string (a repeated
 *   form parameter arrives as an array and is refused, §3.2).
 * - `authorization`: the values of the `Authorization` header (none, one, or several).
 *
 * Exactly one client-authentication method must be used (§2.3): `client_secret_basic` or
 * `private_key_jwt`. A secret in the body (`client_secret_post`) is an unsupported method
 * (`invalid_client`); a request that uses two methods is malformed (`invalid_request`).
 * @internal
 */
export function readClientCredentialsRequest(body: unknown, authorization: readonly string[]): ClientCredentialsRequest | { error: TokenRequestError } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { error: 'invalid_request' };
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') return { error: 'invalid_request' };
    params[name] = value;
  }
  if (authorization.length > 1) return { error: 'invalid_request' };
  const grantType = params.grant_type;
  if (grantType === undefined || grantType === '') return { error: 'invalid_request' };
  if (grantType !== 'client_credentials') return { error: 'unsupported_grant_type' };

  let scopes: string[] | undefined;
  if (params.scope !== undefined) {
    scopes = parseScopeParameter(params.scope);
    if (!scopes) return { error: 'invalid_scope' };
  }

  const header = authorization[0];
  const assertion = params.client_assertion;
  const assertionType = params.client_assertion_type;
  const bodyClientId = params.client_id;
  if (bodyClientId !== undefined && !isClientId(bodyClientId)) return { error: 'invalid_client' };
  if (params.client_secret !== undefined) return { error: header !== undefined || assertion !== undefined ? 'invalid_request' : 'invalid_client' };

  if (header !== undefined) {
    if (assertion !== undefined || assertionType !== undefined) return { error: 'invalid_request' };
    const basic = parseBasicCredentials(header);
    if (!basic) return { error: 'invalid_client' };
    // §2.3.1: a client_id in the body, if any, must name the same client.
    if (bodyClientId !== undefined && bodyClientId !== basic.clientId) return { error: 'invalid_request' };
    return { scopes, auth: { method: 'client_secret_basic', ...basic } };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE || assertion === undefined) return { error: 'invalid_request' };
    if (assertion.length === 0 || assertion.length > MAX_ASSERTION_LENGTH) return { error: 'invalid_client' };
    return { scopes, auth: { method: 'private_key_jwt', assertion, clientId: bodyClientId } };
  }
  return { error: 'invalid_client' };
}

/**
 * Decodes `Authorization: Basic …` into the client id and secret, each form-urlencoded before
 * base64 (§2.3.1). Undefined when the scheme is not Basic or anything is malformed.
 * @internal
 */
export function parseBasicCredentials(header: string): { clientId: string; secret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  let clientId: string;
  let secret: string;
  try {
    clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  if (!isClientId(clientId) || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) return undefined;
  return { clientId, secret };
}

/**
 * The scopes a token is issued with: the requested ones when every one is allowed, every allowed
 * scope when none was requested (§3.3 lets the server apply a default), `invalid_scope` otherwise
 * or when that leaves nothing to grant.
 * @internal
 */
export function grantScopes(requested: readonly string[] | undefined, allowed: readonly string[]): string[] | { error: 'invalid_scope' } {
  const granted = requested === undefined ? [...allowed] : [...requested];
  if (granted.length === 0 || !granted.every((s) => allowed.includes(s))) return { error: 'invalid_scope' };
  return granted;
}

/** What a `@Scopes()` route asks of a token. @publicApi */
export interface ScopeRequirement {
  /** The token must carry at least one of these (ignored when empty). */
  anyOf: readonly string[];
  /** The token must carry every one of these (ignored when empty). */
  allOf: readonly string[];
  /**
   * Whether a user's access token (which carries no scopes) may call the route too. Off: only
   * machine tokens with the scopes pass.
   * @default false
   */
  allowUserTokens: boolean;
}

/**
 * Whether a machine token's scopes satisfy a route. No requirement (a route without `@Scopes()`)
 * is never satisfied: machine tokens are denied by default.
 * @internal
 */
export function machineTokenAllowed(requirement: ScopeRequirement | undefined, scopes: readonly string[]): boolean {
  if (!requirement) return false;
  if (requirement.anyOf.length === 0 && requirement.allOf.length === 0) return false;
  if (requirement.anyOf.length > 0 && !requirement.anyOf.some((s) => scopes.includes(s))) return false;
  return requirement.allOf.every((s) => scopes.includes(s));
}

/** Whether a user's token may call a route: any route but a `@Scopes()` one that does not allow users. @internal */
export function userTokenAllowed(requirement: ScopeRequirement | undefined): boolean {
  return requirement === undefined || requirement.allowUserTokens;
}
