import type { StrategyRequest } from '../transaction/passport-state.store';

/** How one run of a passport strategy ended. @internal */
export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: unknown }
  | { kind: 'fail'; challenge: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'pass' };

/** The passport-strategy protocol the runner drives. @internal */
export interface RunnableStrategy {
  authenticate(req: StrategyRequest, options?: object): void;
}

/**
 * Runs a passport strategy for one request and resolves with how it ended.
 *
 * This is the protocol `passport.authenticate()` itself uses (a per-request `Object.create` of
 * the strategy with `success`/`fail`/`error`/`redirect`/`pass` actions), without its session
 * handling and without writing to the response: every outcome, including the redirect to the
 * provider, comes back as a value, so the controller decides status, headers and error codes in
 * one place. The first action wins; later calls are ignored.
 * @internal
 */
export function runStrategy(strategy: RunnableStrategy, req: StrategyRequest, options: object): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: StrategyOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const run = Object.create(strategy) as RunnableStrategy & Record<string, unknown>;
    run.success = (user: unknown) => settle({ kind: 'success', user });
    run.fail = (challenge: unknown) => settle({ kind: 'fail', challenge });
    run.error = (error: unknown) => settle({ kind: 'error', error });
    run.redirect = (url: string) => settle({ kind: 'redirect', url });
    run.pass = () => settle({ kind: 'pass' });
    try {
      run.authenticate(req, options);
    } catch (error) {
      settle({ kind: 'error', error });
    }
  });
}

/** A strategy whose `validate` turns passport-oauth2's verify arguments into the signed-in identity. @internal */
export interface ValidatingStrategy {
  validate(req: StrategyRequest, accessToken: string, refreshToken: unknown, params: Record<string, unknown>, profile: unknown): Promise<unknown>;
}

/**
 * The verify callback every provider strategy hands passport-oauth2: it calls the strategy's own
 * `validate` and reports through passport's `done`.
 *
 * passport-oauth2 picks the arguments by the callback's arity, so this function declares exactly
 * six (with `passReqToCallback`: request, tokens, token response, profile, done); it calls it as a
 * method of the per-request strategy object, so `this` reaches `validate`. Strategies are plain
 * passport strategies run by {@link runStrategy}: nothing is registered on any passport instance,
 * so two apps in one process or a host's own strategies cannot replace each other's.
 * @internal
 */
export function validateCallback(
  this: ValidatingStrategy,
  req: StrategyRequest,
  accessToken: string,
  refreshToken: unknown,
  params: Record<string, unknown>,
  profile: unknown,
  done: (error: unknown, user?: unknown) => void,
): void {
  this.validate(req, accessToken, refreshToken, params, profile).then(
    (user) => done(null, user),
    (error: unknown) => done(error),
  );
}

/** What differs between providers in the options of a passport OAuth 2.0 strategy. @internal */
export interface OAuth2Endpoints {
  clientId: string;
  clientSecret: string;
  callbackURL: string;
  authorizationURL: string;
  tokenURL: string;
  scopes: string[];
}

/**
 * The passport-oauth2 options every provider strategy starts from.
 *
 * Invariants, held here once for every provider: PKCE with S256 (never `plain`); `state: true`
 * with our transaction store, so passport-oauth2 verifies the state and takes the PKCE verifier
 * from the encrypted transaction (without a store it would fall back to no CSRF protection);
 * `passReqToCallback` so the verify callback reads the verified transaction; an absolute
 * `callbackURL`, so passport never rebuilds it from request headers.
 * @internal
 */
export function secureOAuth2Options(endpoints: OAuth2Endpoints, store: object): Record<string, unknown> {
  return {
    clientID: endpoints.clientId,
    clientSecret: endpoints.clientSecret,
    callbackURL: endpoints.callbackURL,
    authorizationURL: endpoints.authorizationURL,
    tokenURL: endpoints.tokenURL,
    scope: endpoints.scopes,
    scopeSeparator: ' ',
    pkce: 'S256',
    state: true,
    store,
    passReqToCallback: true,
  };
}
