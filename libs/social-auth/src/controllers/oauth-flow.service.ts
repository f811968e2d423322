import { Injectable, Logger, Optional } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthDatabase } from '../database/auth-database';
import { DatabaseAvailability } from '../database/database-availability';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthSession } from '../entities/auth-session.entity';
import { AuthErrorCode } from '../errors/auth-error-codes';
import { AuthError } from '../errors/auth.error';
import { AuthEvents } from '../events/auth-events.service';
import { JwtAuthGuard } from '../guards/jwt-auth.guard';
import { HandoffService } from '../handoff/handoff.service';
import { parseHandoffQuery, withLoginCode } from '../handoff/login-code';
import { IdentityProviderRegistry } from '../identity-providers/identity-provider.registry';
import type { OAuthIdentityProvider } from '../identity-providers/oauth-identity-provider';
import { runStrategy } from '../identity-providers/passport-runner';
import type { VerifiedIdentity } from '../identity-providers/verified-identity';
import { AccountLinkingService } from '../linking/account-linking.service';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import { AuthCookies } from '../tokens/auth-cookies';
import type { AuthenticatedUser } from '../tokens/authenticated-user';
import { Clock } from '../tokens/clock';
import { SessionService } from '../tokens/session.service';
import type { OAuthTransaction, TransactionIntent } from '../transaction/oauth-transaction';
import { OAuthTransactionService, TransactionSeed } from '../transaction/oauth-transaction.service';
import { attachVerifiedTransaction, createdTransaction, safeEqual, StrategyRequest } from '../transaction/passport-state.store';
import { resolveReturnTo } from '../transaction/return-to.policy';
import { FORM_POST_RELAY_HEADERS, checkCallbackForm, renderFormPostRelay, type FormCallbackCheck } from './form-post-relay';
import { checkCallbackQuery, issuerMatches } from './oauth-callback.checks';

/**
 * The sign-in flow behind the OAuth controller: starting an authorization request and finishing
 * it at the callback.
 *
 * Invariants (threat model A1–A8, F4, G1–G3, I4):
 * - Callback order: query pre-checks → transaction cookie (decrypt, expiry) → provider binding →
 *   RFC 9207 `iss` → `state` (timing-safe) → single-use consume → only then the code exchange.
 *   Nothing reaches a provider, and no row but the single-use marker is written, before the
 *   transaction has been verified and consumed; a provider `error=` consumes it too.
 * - The transaction cookie is cleared on every callback answer, success or failure; sent more than
 *   once, the callback refuses it (`cookie_conflict`) and expires every copy (threat model F2).
 * - `client=native` hand-offs need a `returnTo` listed in `handoff.redirectUris`; `client=browser`
 *   ones set the login-binding cookie at the start, which `POST /<prefix>/token` checks.
 * - A failure answers `302 <errorRedirect>?error=<code>` with a fixed code; no auth cookie is set
 *   and no user, identity or session is written (sessions open only after linking succeeded).
 * - Success lands on the transaction's `returnTo`, never on anything from the callback query,
 *   so the final `Location` carries no code, state or token. A hand-off flow (`code_challenge` at
 *   the start) appends only `login_code`, a sealed single-use value bound to the client's PKCE
 *   challenge, and opens no session (`POST /<prefix>/token` does).
 * - Start and callback answers carry `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.
 * - Logs name the provider, the step and the error code only: never a code, token, state,
 *   verifier, nonce, cookie or provider message.
 * @internal
 */
@Injectable()
export class OAuthFlowService {
  private readonly logger = new Logger('OAuthSignIn');

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly registry: IdentityProviderRegistry,
    private readonly transactions: OAuthTransactionService,
    private readonly linking: AccountLinkingService,
    private readonly sessions: SessionService,
    private readonly cookies: AuthCookies,
    private readonly guard: JwtAuthGuard,
    private readonly events: AuthEvents,
    private readonly db: AuthDatabase,
    private readonly clock: Clock,
    private readonly handoff: HandoffService,
    private readonly http: AuthHttpPlatform,
    @Optional() private readonly availability?: DatabaseAvailability,
  ) {}

  /**
   * Starts a flow: 302 to the provider with state, PKCE S256 (and nonce for Google), and the
   * transaction cookie set. Throws `unknown_provider` (a JSON 404) before anything else.
   */
  async start(providerId: string, req: AuthRequest, res: AuthResponse, intent: TransactionIntent): Promise<void> {
    this.noStore(res);
    const provider = this.registry.get(providerId);
    const query = this.http.query(req);
    // Login-code hand-off (SPA / native app): a malformed request is a JSON 400 before any redirect.
    const handoff = parseHandoffQuery(query);
    if (!handoff.ok || (handoff.handoff && intent.kind !== 'login')) throw new AuthError('invalid_request', { message: 'Invalid code_challenge, code_challenge_method or client.' });
    // A hand-off may also land on one of `handoff.redirectUris` (exact match: native apps' custom schemes).
    const requested = query.returnTo;
    const registered = typeof requested === 'string' && this.options.handoff.redirectUris.includes(requested);
    // A native code goes only to a registered redirect URI: landing on a web page would leave it in
    // history, logs and analytics for whoever started the flow (and so holds the verifier) to redeem.
    if (handoff.handoff?.client === 'native' && !registered) throw new AuthError('invalid_request', { message: 'client=native needs a returnTo listed in handoff.redirectUris.' });
    const returnTo = handoff.handoff && registered ? requested : resolveReturnTo(requested, this.options);
    try {
      if (intent.kind === 'link') await this.assertRecentSignIn(intent);
      const facts = await provider.prepareAuthorization();
      // A browser code is bound to this browser: the binding's hash rides in the transaction, then the code.
      const binding = handoff.handoff?.client === 'browser' ? this.handoff.newBrowserBinding() : undefined;
      const seed: TransactionSeed = { provider: provider.id, intent, returnTo, ...(handoff.handoff ? { handoff: { ...handoff.handoff, ...(binding ? { binding: binding.hash } : {}) } } : {}), ...facts };
      // passport-oauth2 treats any request carrying `code` or `error` as a callback; a start route
      // never is one, so the strategy sees a request without query (returnTo is read above).
      const startRequest: StrategyRequest = { query: {} };
      const outcome = await runStrategy(provider.strategy, startRequest, { session: false, state: seed });
      if (outcome.kind !== 'redirect') throw outcome.kind === 'error' ? outcome.error : new AuthError('internal_error');
      const created = createdTransaction(startRequest);
      if (!created) throw new AuthError('internal_error', { cause: new Error('strategy redirected without a transaction') });
      // A planted transaction cookie left next to the new one would break (or decide) its callback.
      this.transactions.expireConflict(req, res);
      this.transactions.setCookie(res, created);
      if (binding) this.handoff.setBrowserBinding(res, binding.value);
      this.http.redirect(res, outcome.url);
    } catch (error) {
      // No transaction was handed out (or it is useless without the redirect): drop the cookie.
      this.transactions.clear(res);
      this.failRedirect(res, provider.id, 'start', error);
    }
  }

  /**
   * `POST /<prefix>/:provider/callback` of a form_post provider (Apple). The provider's own POST
   * is cross-site, without the transaction cookie: it is checked (the same rules as a query
   * callback) and answered with the relay page, touching no cookie and reaching no provider. The
   * relay page's same-site re-post (marked, with the cookie) is then finished like a GET callback.
   * See `form-post-relay.ts` and docs/apple.md.
   */
  async formPostCallback(providerId: string, req: AuthRequest, res: AuthResponse): Promise<void> {
    this.noStore(res);
    const body = (req as { body?: unknown }).body;
    const posted = checkCallbackForm(body);
    if (!posted.ok) {
      if (body === undefined) this.logger.warn(`sign-in callback via ${providerId} has no parsed form body: enable the platform's application/x-www-form-urlencoded parser (Nest's default)`);
      this.failRedirect(res, providerId, 'callback', new AuthError(posted.code));
      return;
    }
    if (posted.relayed) return this.callback(providerId, req, res, posted);
    for (const [name, value] of Object.entries(FORM_POST_RELAY_HEADERS)) this.http.setHeader(res, name, value);
    this.http.sendHtml(res, 200, renderFormPostRelay(this.registry.callbackUrl(providerId), posted.fields));
  }

  /** Finishes a flow at `GET /<prefix>/:provider/callback` (or a relayed form post). Always answers with a redirect. */
  async callback(providerId: string, req: AuthRequest, res: AuthResponse, posted?: Extract<FormCallbackCheck, { ok: true }>): Promise<void> {
    this.noStore(res);
    this.transactions.clear(res);
    const context = { ip: this.http.clientIp(req) ?? null, userAgent: header(req, 'user-agent') };
    let userId: string | null = null;
    try {
      const provider = this.registry.get(providerId);
      const { transaction, strategyRequest } = await this.verifyAndConsume(provider, req, posted);
      if (transaction.intent.kind === 'link') userId = transaction.intent.userId;
      attachVerifiedTransaction(strategyRequest, transaction);
      const identity = await this.exchange(provider, strategyRequest);
      if (transaction.intent.kind === 'login') {
        const user = await this.linking.signIn(identity, context);
        if (transaction.handoff) {
          // No session yet and no cookie: the client redeems the login code at POST /<prefix>/token.
          this.http.redirect(res, withLoginCode(transaction.returnTo, this.handoff.mint(user.id, provider.id, transaction.handoff), this.options.appOrigin));
          return;
        }
        const tokens = await this.sessions.openForUser(user, { provider: provider.id, ...context });
        this.cookies.setSession(res, tokens);
      } else {
        await this.assertLinkAllowed(req, transaction.intent);
        await this.linking.link(transaction.intent.userId, identity, context);
      }
      this.http.redirect(res, transaction.returnTo);
    } catch (error) {
      this.transactions.expireConflict(req, res);
      const code = this.failRedirect(res, providerId, 'callback', error);
      await this.events.signInFailed(providerId, code, { ...context, userId });
    }
  }

  /** `405` for a callback with another method than GET (or POST, for a form_post provider); the transaction cookie is cleared. */
  refuseMethod(res: AuthResponse, allow = 'GET'): void {
    this.noStore(res);
    this.transactions.clear(res);
    this.http.setHeader(res, 'Allow', allow);
    const error = new AuthError('invalid_request', { message: 'Use GET for the sign-in callback.' });
    this.http.send(res, 405, { ...error.body, statusCode: 405 });
  }

  /** Everything that must hold before a code may be redeemed; consumes the transaction. */
  private async verifyAndConsume(
    provider: OAuthIdentityProvider,
    req: AuthRequest,
    posted?: Extract<FormCallbackCheck, { ok: true }>,
  ): Promise<{ transaction: OAuthTransaction; strategyRequest: StrategyRequest }> {
    // A relayed form post carries its parameters in the body (already checked) and none in the URL.
    const query = posted ?? checkCallbackQuery(this.http.rawQuery(req));
    if (!query.ok) throw new AuthError(query.code);
    if (posted && this.http.rawQuery(req) !== '') throw new AuthError('invalid_request');
    const { params } = query;
    // passport reads the query the platform parsed; it must see exactly what was checked.
    const parsed = posted ? { state: params.state, ...(params.code !== undefined ? { code: params.code } : {}) } : this.http.query(req);
    if (parsed.state !== params.state || (params.code !== undefined && parsed.code !== params.code)) throw new AuthError('invalid_request');

    const opened = this.transactions.read(req);
    if (!opened.ok) throw new AuthError(opened.code);
    const transaction = opened.transaction;
    if (transaction.provider !== provider.id) throw new AuthError('invalid_state', { cause: new Error('transaction of another provider') });
    if (!issuerMatches(params.iss, transaction)) throw new AuthError('invalid_state', { cause: new Error('RFC 9207 iss check failed') });
    if (!safeEqual(params.state, transaction.state)) throw new AuthError('invalid_state', { cause: new Error('state mismatch') });
    if (!(await this.transactions.consume(transaction))) throw new AuthError('invalid_state', { cause: new Error('transaction replayed') });

    if (params.error !== undefined) {
      // The provider's own words (error_description) are never shown: a fixed code only.
      // Apple says `user_cancelled_authorize` for the user's "Cancel".
      const denied = params.error === 'access_denied' || params.error === 'user_cancelled_authorize';
      throw new AuthError(denied ? 'access_denied' : 'provider_error', { cause: new Error('provider returned an error') });
    }
    // The strategy sees only the checked query (a GET callback has no body), and of a relayed
    // form post only Apple's `user` field besides.
    const body = posted?.fields.user !== undefined ? { user: posted.fields.user } : undefined;
    return { transaction, strategyRequest: { query: { ...parsed }, ...(body ? { body } : {}) } };
  }

  /** Redeems the code through passport and returns the provider-verified identity. */
  private async exchange(provider: OAuthIdentityProvider, req: StrategyRequest): Promise<VerifiedIdentity> {
    const outcome = await runStrategy(provider.strategy, req, { session: false });
    switch (outcome.kind) {
      case 'success':
        return outcome.user as VerifiedIdentity;
      case 'error':
        throw toFlowError(outcome.error);
      case 'fail':
        throw new AuthError('invalid_state', { cause: new Error('state store refused the transaction') });
      default:
        // A redirect here would start a new flow from the callback route.
        throw new AuthError('invalid_request', { cause: new Error(`strategy ended with ${outcome.kind}`) });
    }
  }

  /**
   * Connecting a provider needs a recent sign-in (`linking.maxAuthAgeForLink`, default 1 hour): an
   * access token stolen or left behind on a shared machine cannot attach the thief's identity to
   * a session that signed in long ago (threat model C6).
   */
  private async assertRecentSignIn(intent: Extract<TransactionIntent, { kind: 'link' }>): Promise<void> {
    const session = await this.db.dataSource.getRepository(AuthSession).findOneBy({ id: intent.sessionId, userId: intent.userId });
    const age = session ? (this.clock.now().getTime() - session.createdAt.getTime()) / 1000 : Number.POSITIVE_INFINITY;
    if (age > this.options.linking.maxAuthAgeForLink) {
      throw new AuthError('unauthorized', { message: 'Sign in again to connect another provider.', cause: new Error('sign-in too old to link') });
    }
  }

  /**
   * A link flow finishes only for the user and session that started it: the session must still
   * be live, and if someone is signed in on this browser now, it must be that same user.
   */
  private async assertLinkAllowed(req: AuthRequest, intent: Extract<TransactionIntent, { kind: 'link' }>): Promise<void> {
    let current: AuthenticatedUser | undefined;
    try {
      current = await this.guard.authenticate(req);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
    }
    if (current && current.id !== intent.userId) throw new AuthError('invalid_state', { cause: new Error('link finished by another user') });
    if (!(await this.sessions.isSessionLive(intent.sessionId, intent.userId))) throw new AuthError('unauthorized', { cause: new Error('linking session ended') });
  }

  private failRedirect(res: AuthResponse, providerId: string, step: 'start' | 'callback', error: unknown): AuthErrorCode {
    // An unreachable database is an outage, logged once by DatabaseAvailability (not a line per
    // sign-in) and answered ?error=service_unavailable.
    const outage = this.availability?.unavailable((error as { oauthError?: unknown } | null)?.oauthError ?? error);
    const authError = outage ?? toFlowError(error);
    const provider = /^[a-z0-9-]{1,32}$/.test(providerId) ? providerId : 'unknown';
    const cause = authError.cause instanceof Error ? authError.cause.message : '';
    const detail = SAFE_CAUSE.test(cause) ? ` (${cause})` : '';
    if (!outage && authError.code === 'internal_error') this.logger.error(`sign-in ${step} via ${provider} failed unexpectedly${detail}`);
    else if (!outage) this.logger.warn(`sign-in ${step} via ${provider} refused: ${authError.code}${detail}`);
    this.http.redirect(res, this.errorLocation(authError.code));
    return authError.code;
  }

  private noStore(res: AuthResponse): void {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    this.http.setHeader(res, 'Pragma', 'no-cache');
    this.http.setHeader(res, 'Referrer-Policy', 'no-referrer');
  }

  /** `errorRedirect` with `?error=<code>`, as a path of the app. */
  errorLocation(code: AuthErrorCode): string {
    const url = new URL(this.options.errorRedirect, `${this.options.appOrigin}/`);
    url.searchParams.set('error', code);
    return `${url.pathname}${url.search}${url.hash}`;
  }
}

/**
 * Causes the module writes are short fixed phrases; a message that could carry a value (a long
 * unbroken word like a token, an address, a URL with a query) is not logged.
 */
const SAFE_CAUSE = /^(?=.* )(?!.*[^ ]{33})[A-Za-z0-9 ,.:;()/_-]{1,120}$/;

/** passport-oauth2's own errors: the provider answered with an error. */
const PASSPORT_ERRORS = new Set(['TokenError', 'AuthorizationError', 'InternalOAuthError']);

/**
 * The `AuthError` behind whatever the flow or a strategy threw: ours as is (also when
 * passport-oauth2 wrapped it in `InternalOAuthError.oauthError`), passport-oauth2's own errors as
 * `provider_error`, anything else (a bug, a database failure) as `internal_error`.
 * @internal
 */
export function toFlowError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const inner = (error as { oauthError?: unknown } | null)?.oauthError;
  if (inner instanceof AuthError) return inner;
  if (error instanceof Error && PASSPORT_ERRORS.has(error.name)) return new AuthError('provider_error', { cause: new Error(`passport ${error.name}`) });
  return new AuthError('internal_error', { cause: new Error(describe(error)) });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

function header(req: AuthRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}
