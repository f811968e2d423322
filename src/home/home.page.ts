/**
 * The demo's one page, rendered on the server (no build step): "Sign in with …" buttons for the
 * enabled providers, who is signed in (the page asks `/auth/me`), a sign-out button, buttons to
 * connect the providers not linked yet, and `?error=` codes in words.
 *
 * Invariants: every interpolated value is HTML-escaped; an error code is only ever shown through
 * the fixed sentences below (an unknown code gets a generic sentence, never its own text); the
 * inline script and style run only with the per-response CSP nonce; the script reads and writes
 * the page with `textContent`, never `innerHTML`, and can see no credential (cookies are HttpOnly).
 */

/** A provider button of the page. */
export interface HomeProvider {
  id: string;
  name: string;
  loginUrl: string;
}

/** What the page is rendered from. */
export interface HomePageInput {
  providers: HomeProvider[];
  /** The `?error=` query value, if any (untrusted). */
  error?: string;
  /** CSP nonce of this response (base64url). */
  nonce: string;
  /** The fake providers of the testing kit are serving (AUTH_SANDBOX). */
  sandbox: boolean;
}

/** Error codes of docs/http-api.md in words a person can act on. */
const ERROR_SENTENCES: Record<string, string> = {
  access_denied: 'Sign-in was cancelled at the provider. You can try again whenever you like.',
  invalid_state: 'That sign-in attempt could not be verified. Please start again from this page.',
  state_expired: 'That sign-in attempt took too long. Please start again.',
  invalid_request: 'The sign-in response was malformed. Please start again.',
  unknown_provider: 'That sign-in provider is not available here.',
  provider_error: 'The sign-in provider answered with an error. Please try again.',
  provider_unavailable: 'The sign-in provider could not be reached. Please try again in a moment.',
  invalid_id_token: 'The identity returned by the provider could not be verified. Please try again.',
  email_not_verified: 'The provider has not confirmed your email address, so the account cannot be created.',
  account_exists: 'An account with this email address already exists. Sign in with the method you used before, then connect this provider.',
  identity_in_use: 'This provider account is already connected to another account here.',
  account_disabled: 'This account is disabled.',
  sign_up_disabled: 'New accounts cannot be created here; sign in with an account that already exists.',
  unauthorized: 'Your session has ended. Please sign in again.',
  rate_limited: 'Too many attempts in a short time. Please wait a minute and try again.',
  internal_error: 'Something went wrong on our side. Please try again.',
  service_unavailable: 'The service is temporarily unavailable. Please try again in a moment.',
};

const GENERIC_ERROR = 'Sign-in did not work. Please try again.';

/** The sentence shown for an `?error=` value (a generic one for anything unknown). */
export function errorSentence(code: string): string {
  return Object.prototype.hasOwnProperty.call(ERROR_SENTENCES, code) ? ERROR_SENTENCES[code] : GENERIC_ERROR;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The Content-Security-Policy of the page for one response. */
export function homePageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; background: #ffffff; }
main { max-width: 34rem; margin: 3rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.75rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
p { margin: .5rem 0; }
.muted { color: #4a4a4a; }
.stack { display: flex; flex-direction: column; gap: .75rem; padding: 0; margin: 1rem 0; list-style: none; }
.button { display: inline-block; min-width: 16rem; padding: .7rem 1.2rem; border: 2px solid #0b3d91; border-radius: .4rem;
  background: #0b3d91; color: #ffffff; font: inherit; font-weight: 600; text-align: center; text-decoration: none; cursor: pointer; }
.button:hover { background: #072a66; border-color: #072a66; }
.button.secondary { background: #ffffff; color: #0b3d91; }
.button.secondary:hover { background: #e8eef9; }
.button:focus-visible, a:focus-visible, button:focus-visible { outline: 3px solid #b35900; outline-offset: 3px; }
.alert { border: 2px solid #a4161a; border-left-width: .5rem; border-radius: .4rem; background: #fff5f5; color: #7a0e11; padding: .75rem 1rem; margin: 1rem 0; }
.who { border: 1px solid #c4c4c4; border-radius: .4rem; padding: 1rem; }
.who strong { font-size: 1.1rem; }
.note { font-size: .9rem; color: #4a4a4a; border-top: 1px solid #dcdcdc; margin-top: 2.5rem; padding-top: 1rem; }
`;

/**
 * Client behaviour: ask who is signed in (one silent refresh when the access token has expired),
 * then show either the sign-in buttons or the account, the connect buttons and sign-out.
 * Progressive: without JavaScript the sign-in buttons still work (they are plain links).
 */
const SCRIPT = `
(function () {
  var signedOut = document.getElementById('signed-out');
  var signedIn = document.getElementById('signed-in');
  var providers = JSON.parse(document.getElementById('providers').textContent);

  function get(url) { return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }); }

  async function whoAmI() {
    var res = await get('/auth/me');
    if (res.status === 401) {
      var refreshed = await fetch('/auth/refresh', { method: 'POST', credentials: 'same-origin' });
      if (refreshed.ok) res = await get('/auth/me');
    }
    if (res.status === 404) res = await get('/me');
    return res.ok ? res.json() : null;
  }

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (className) el.className = className;
    return el;
  }

  function render(me) {
    var who = document.getElementById('who');
    who.replaceChildren();
    var name = me.displayName || me.email || 'your account';
    var line = text('p', 'Signed in as ');
    line.appendChild(text('strong', name));
    who.appendChild(line);
    if (me.email && me.email !== name) who.appendChild(text('p', me.email + (me.emailVerified ? ' (verified)' : ' (not verified)'), 'muted'));
    var linked = (me.identities || []).map(function (i) { return i.provider; });
    var names = providers.filter(function (p) { return linked.indexOf(p.id) >= 0; }).map(function (p) { return p.name; });
    if (names.length) who.appendChild(text('p', 'Connected: ' + names.join(', '), 'muted'));

    var connect = document.getElementById('connect');
    connect.replaceChildren();
    providers.forEach(function (p) {
      if (!me.identities || linked.indexOf(p.id) >= 0) return;
      var item = document.createElement('li');
      var link = text('a', 'Connect ' + p.name, 'button secondary');
      link.href = p.loginUrl + '/link?returnTo=%2F';
      item.appendChild(link);
      connect.appendChild(item);
    });
    document.getElementById('connect-heading').hidden = connect.children.length === 0;
    signedOut.hidden = true;
    signedIn.hidden = false;
  }

  document.getElementById('sign-out').addEventListener('click', async function () {
    this.disabled = true;
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(function () {});
    window.location.assign('/');
  });

  whoAmI().then(function (me) { if (me) render(me); }).catch(function () {});
})();
`;

/** The page's HTML. */
export function renderHomePage(input: HomePageInput): string {
  const nonce = escapeHtml(input.nonce);
  const buttons = input.providers
    .map((p) => `<li><a class="button" href="${escapeHtml(p.loginUrl)}">Sign in with ${escapeHtml(p.name)}</a></li>`)
    .join('');
  const alert = input.error !== undefined ? `<div class="alert" role="alert"><p>${escapeHtml(errorSentence(input.error))}</p></div>` : '';
  const noProviders = input.providers.length === 0 ? '<p>No sign-in provider is configured. Set GOOGLE_CLIENT_ID/SECRET or GITHUB_CLIENT_ID/SECRET, or run with AUTH_SANDBOX=true.</p>' : '';
  const sandbox = input.sandbox
    ? '<p class="note">Sandbox: these buttons use the built-in fake Google, GitHub, Microsoft and Apple of the testing kit, which ask you to allow or deny on a consent page. No real account is involved.</p>'
    : '';
  // JSON inside <script type="application/json">: escape "<" so no value can close the element.
  const providersJson = JSON.stringify(input.providers.map((p) => ({ id: p.id, name: p.name, loginUrl: p.loginUrl }))).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Social sign-in demo</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
<h1>Social sign-in demo</h1>
${alert}
<section id="signed-out" aria-labelledby="signed-out-heading">
<h2 id="signed-out-heading">Sign in</h2>
${noProviders}<ul class="stack">${buttons}</ul>
</section>
<section id="signed-in" aria-labelledby="signed-in-heading" hidden>
<h2 id="signed-in-heading">Your account</h2>
<div id="who" class="who" aria-live="polite"></div>
<h2 id="connect-heading" hidden>Connect another provider</h2>
<ul id="connect" class="stack"></ul>
<p><button type="button" id="sign-out" class="button secondary">Sign out</button></p>
</section>
${sandbox}
</main>
<script type="application/json" id="providers">${providersJson}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
