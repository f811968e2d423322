/**
 * Pre-checks of an OAuth callback's query string, as a pure function (table-tested). They run
 * before the transaction is opened and before anything is sent to a provider.
 *
 * Invariants (threat model A1, A3, A7; RFC 6749 §3.1, §4.1.2; RFC 9700 §2.1.2):
 * - Every parameter appears at most once ("MUST NOT be included more than once"), with a plain
 *   name (no `state[]`, `code[x]`), a value of at most 2 kB and no control characters (CR, LF,
 *   NUL, …). The whole query is at most 8 kB.
 * - Implicit/hybrid responses are refused: `access_token`, `id_token`, `token`, `refresh_token`
 *   in a code-flow callback are an injection attempt.
 * - `state` is required (missing or empty → `invalid_state`); exactly one of `code` and `error`.
 * - `error_description` and `error_uri` are never returned to the caller, so they can never be
 *   reflected; `error` itself must use RFC 6749's error-code characters.
 * @internal
 */

/** The callback parameters the flow reads. @internal */
export interface CallbackParams {
  state: string;
  code?: string;
  error?: string;
  /** RFC 9207 issuer identifier, when the provider sent one. */
  iss?: string;
}

/** The verdict on a callback query. @internal */
export type CallbackCheck = { ok: true; params: CallbackParams } | { ok: false; code: 'invalid_request' | 'invalid_state' };

const MAX_QUERY_LENGTH = 8192;
const MAX_VALUE_LENGTH = 2048;
const IMPLICIT_PARAMS = new Set(['access_token', 'id_token', 'token', 'refresh_token']);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** RFC 6749 §A.7 error: %x20-21 / %x23-5B / %x5D-7E. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** RFC 6749 §A.11 code: VSCHAR. */
const CODE = /^[\x20-\x7e]+$/;

/**
 * Checks the raw query string of a callback (`a=1&b=2`, without `?`).
 * @example checkCallbackQuery('code=abc&state=xyz') // { ok: true, params: { code: 'abc', state: 'xyz' } }
 * @internal
 */
export function checkCallbackQuery(rawQuery: string): CallbackCheck {
  if (rawQuery.length > MAX_QUERY_LENGTH) return { ok: false, code: 'invalid_request' };
  const seen = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    if (seen.has(name) || /[[\]]/.test(name) || CONTROL.test(name)) return { ok: false, code: 'invalid_request' };
    if (IMPLICIT_PARAMS.has(name)) return { ok: false, code: 'invalid_request' };
    if (value.length > MAX_VALUE_LENGTH || CONTROL.test(value)) return { ok: false, code: 'invalid_request' };
    seen.set(name, value);
  }
  const state = seen.get('state');
  if (!state) return { ok: false, code: 'invalid_state' };
  const code = seen.get('code') || undefined;
  const error = seen.get('error') || undefined;
  if ((code === undefined) === (error === undefined)) return { ok: false, code: 'invalid_request' };
  if (code !== undefined && !CODE.test(code)) return { ok: false, code: 'invalid_request' };
  if (error !== undefined && !ERROR_CODE.test(error)) return { ok: false, code: 'invalid_request' };
  const iss = seen.get('iss');
  return { ok: true, params: { state, code, error, ...(iss !== undefined ? { iss } : {}) } };
}

/**
 * RFC 9207 §2.4: an `iss` on the callback must equal the issuer the request was sent to, and a
 * provider that announced the parameter must send it. True when the callback passes.
 * @internal
 */
export function issuerMatches(iss: string | undefined, expected: { issuer?: string; requireIss: boolean }): boolean {
  if (iss === undefined) return !expected.requireIss;
  return expected.issuer !== undefined && iss === expected.issuer;
}
