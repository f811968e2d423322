/**
 * Every failure the module reports, as stable lowercase snake codes.
 *
 * The same code appears in JSON bodies (`error`) and in `?error=` redirects, so
 * a code is part of the public contract: add codes, never rename them.
 * @publicApi
 */
export const AUTH_ERROR_CODES = {
  unknown_provider: { status: 404, message: 'This sign-in provider is not enabled.' },
  invalid_request: { status: 400, message: 'The request is malformed.' },
  invalid_state: { status: 400, message: 'The sign-in attempt could not be verified. Please start again.' },
  state_expired: { status: 400, message: 'The sign-in attempt took too long. Please start again.' },
  invalid_login_code: { status: 400, message: 'The login code is invalid, expired or already used. Please sign in again.' },
  access_denied: { status: 403, message: 'Sign-in was cancelled at the provider.' },
  provider_error: { status: 502, message: 'The sign-in provider answered with an error.' },
  provider_unavailable: { status: 503, message: 'The sign-in provider could not be reached. Please try again later.' },
  invalid_id_token: { status: 401, message: 'The identity returned by the provider could not be verified.' },
  email_not_verified: { status: 403, message: 'The provider did not confirm this email address.' },
  account_exists: {
    status: 409,
    message: 'An account with this email already exists. Sign in with your existing method, then connect this provider.',
  },
  identity_in_use: { status: 409, message: 'This identity is already linked to another account.' },
  sign_up_disabled: { status: 403, message: 'New accounts cannot be created here. Sign in with an account that already exists.' },
  account_disabled: { status: 403, message: 'This account is disabled.' },
  unauthorized: { status: 401, message: 'Authentication is required.' },
  token_expired: { status: 401, message: 'The access token has expired.' },
  refresh_token_invalid: { status: 401, message: 'The refresh token is invalid or expired.' },
  refresh_token_reused: { status: 401, message: 'The refresh token was already used; every session of this sign-in is revoked.' },
  cookie_conflict: { status: 401, message: 'A sign-in cookie was sent more than once (one copy was not set by this site); every copy was cleared. Please sign in again.' },
  csrf_rejected: { status: 403, message: 'The request did not come from an allowed origin.' },
  last_login_method: { status: 409, message: 'This is the last way to sign in to the account; connect another provider first.' },
  rate_limited: { status: 429, message: 'Too many requests. Please wait and try again.' },
  not_found: { status: 404, message: 'Not found.' },
  internal_error: { status: 500, message: 'Something went wrong. Please try again.' },
  service_unavailable: { status: 503, message: 'The service is temporarily unavailable. Please try again.' },
  // Machine clients (OAuth 2.0 client credentials): the codes RFC 6749 §5.2 and RFC 6750 §3.1 name.
  invalid_client: { status: 401, message: 'Client authentication failed.' },
  invalid_scope: { status: 400, message: 'The requested scope is invalid, unknown or not allowed for this client.' },
  unsupported_grant_type: { status: 400, message: 'The grant type is not supported by this endpoint.' },
  insufficient_scope: { status: 403, message: 'The access token does not carry the scope this route requires.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code of the module. @publicApi */
export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;

/** True when `value` is one of the module's error codes. */
export function isAuthErrorCode(value: unknown): value is AuthErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(AUTH_ERROR_CODES, value);
}
