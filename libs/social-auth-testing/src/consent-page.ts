/**
 * The few HTML pages the fakes serve to a browser: the consent page and the error page an
 * authorization server shows when it must not redirect (RFC 6749 §4.1.2.1).
 * Every interpolated value is escaped; nothing secret is ever passed in.
 * @internal
 */

/** @internal */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @internal */
export interface ConsentPageInput {
  /** e.g. 'Fake Google' */
  providerName: string;
  /** Who asks, e.g. 'localhost:3000'. */
  appName: string;
  /** The signed-in account. */
  user: { name?: string | null; email?: string | null; login?: string };
  /** Requested scopes, shown as a list. */
  scopes: string[];
  /** Form action (path of the decision endpoint). */
  action: string;
  /** Server-side transaction id; the only thing the form carries. */
  transactionId: string;
}

/**
 * Content-Security-Policy of the pages: no scripts, no framing. No `form-action`: browsers apply
 * it to the redirect that follows the form post, which would block the way back to the app.
 * @internal
 */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1f1f1f}' +
  'button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem;border-radius:.25rem;border:1px solid #444;cursor:pointer}' +
  'button[value=allow]{background:#0b57d0;color:#fff;border-color:#0b57d0}' +
  'button:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}';

function page(title: string, main: string): string {
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${main}</main></body></html>\n`
  );
}

/**
 * "Sign in to <app> with <provider>": who is signed in, what is asked, and two buttons
 * (Allow / Deny) posting the transaction id to the decision endpoint.
 * @internal
 */
export function renderConsentPage(input: ConsentPageInput): string {
  const title = `Sign in to ${input.appName} with ${input.providerName}`;
  const who = [input.user.name, input.user.login && `@${input.user.login}`, input.user.email].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  const scopes = input.scopes.length
    ? `<p id="scopes-label">${escapeHtml(input.appName)} asks for:</p><ul aria-labelledby="scopes-label">` +
      input.scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('') +
      '</ul>'
    : `<p>${escapeHtml(input.appName)} asks for basic access only.</p>`;
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>` +
      `<p>Signed in as <strong>${escapeHtml(who.join(' · ') || 'an account without a name')}</strong></p>` +
      scopes +
      `<form method="post" action="${escapeHtml(input.action)}">` +
      `<input type="hidden" name="transaction" value="${escapeHtml(input.transactionId)}">` +
      '<button type="submit" name="decision" value="allow">Allow</button>' +
      '<button type="submit" name="decision" value="deny">Deny</button>' +
      '</form>',
  );
}

/**
 * The page shown instead of a redirect when the client or redirect URI cannot be trusted.
 * @internal
 */
export function renderErrorPage(providerName: string, status: number, error: string, description: string): string {
  return page(
    `Error ${status}: ${error} - ${providerName}`,
    `<h1>${escapeHtml(providerName)}</h1>` +
      `<p role="alert"><strong>Error ${status}: ${escapeHtml(error)}</strong></p>` +
      `<p>${escapeHtml(description)}</p>`,
  );
}
