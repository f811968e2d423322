import { createHash } from 'node:crypto';
import { checkCallbackQuery, type CallbackCheck } from './oauth-callback.checks';

/**
 * The form_post callback (Apple) as pure functions: the checks of a posted callback and the
 * same-origin page that re-posts it.
 *
 * Why a relay page (docs/apple.md): the provider's POST is a cross-site request, so the
 * `SameSite=Lax` transaction cookie is not sent with it and the callback cannot be verified there.
 * The page is served by the app, so the POST its form sends is same-site and carries the cookie;
 * the real callback runs on that second POST. No cookie is read or written on the first.
 * A 302/303 from the first POST would depend on browser-specific rules for redirect chains that
 * began cross-site; a same-origin form does not.
 * @internal
 */

/** The field the relay page adds: present, the POST is the app's own re-post and is verified. @internal */
export const FORM_POST_RELAY_FIELD = 'sa_relay';

/** The posted fields the relay carries over (everything else is dropped). */
const RELAYED_FIELDS = ['state', 'code', 'error', 'user'] as const;

/** The relay page's only script; its hash is the page's `script-src`. */
const SUBMIT_SCRIPT = "document.getElementById('relay').submit();";
const SUBMIT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(SUBMIT_SCRIPT).digest('base64')}'`;

/**
 * Headers of the relay page: never cached, never framed, no referrer, and no script but the
 * hashed submit. No `form-action`: browsers apply it to the redirect that answers the form, which
 * may lead to a hand-off `returnTo` on another origin or a custom scheme.
 * @internal
 */
export const FORM_POST_RELAY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': `default-src 'none'; script-src ${SUBMIT_SCRIPT_HASH}; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'`,
});

/** The verdict on a posted callback: its checked parameters and the fields to relay. @internal */
export type FormCallbackCheck = (CallbackCheck & { ok: false }) | (Extract<CallbackCheck, { ok: true }> & { fields: Record<string, string>; relayed: boolean });

/**
 * Checks a callback's parsed form body with the same rules as a query callback
 * (`checkCallbackQuery`: one `state`, exactly one of `code`/`error`, sizes, no control characters,
 * no implicit-flow tokens). A field that is not a single string (a repeated name parsed into an
 * array, `a[b]=` parsed into an object) is `invalid_request`; a body that is not an object
 * (no body parser for forms) too.
 * @internal
 */
export function checkCallbackForm(body: unknown): FormCallbackCheck {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, code: 'invalid_request' };
  const form = new URLSearchParams();
  let relayed = false;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') return { ok: false, code: 'invalid_request' };
    if (name === FORM_POST_RELAY_FIELD) {
      if (value !== '1') return { ok: false, code: 'invalid_request' };
      relayed = true;
      continue;
    }
    form.append(name, value);
  }
  const checked = checkCallbackQuery(form.toString());
  if (!checked.ok) return checked;
  const fields: Record<string, string> = {};
  for (const name of RELAYED_FIELDS) {
    const value = form.get(name);
    if (value !== null) fields[name] = value;
  }
  return { ...checked, fields, relayed };
}

/** HTML-escapes text and attribute values. @internal */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page that re-posts `fields` (plus the relay marker) to `action`, the callback URL as served.
 * Every value is HTML-escaped; a browser without script gets a "Continue" button.
 * @internal
 */
export function renderFormPostRelay(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries({ ...fields, [FORM_POST_RELAY_FIELD]: '1' })
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="robots" content="noindex"><title>Signing in…</title></head><body>' +
    `<form id="relay" method="post" action="${escapeHtml(action)}">${inputs}` +
    '<noscript><p>Continue to finish signing in.</p><button type="submit">Continue</button></noscript></form>' +
    `<script>${SUBMIT_SCRIPT}</script></body></html>\n`
  );
}
