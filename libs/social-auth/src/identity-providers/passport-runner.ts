import type { Request } from 'express';
import { Passport } from 'passport';

/** How one run of a passport strategy ended. @internal */
export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: unknown }
  | { kind: 'fail'; challenge: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'pass' };

/** The passport-strategy protocol the runner drives. @internal */
export interface RunnableStrategy {
  authenticate(req: Request, options?: object): void;
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
export function runStrategy(strategy: RunnableStrategy, req: Request, options: object): Promise<StrategyOutcome> {
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

/**
 * A passport instance of its own for one strategy. `PassportStrategy` registers every strategy
 * on the instance this returns; the module never registers on passport's global singleton, so
 * two apps in one process (tests) or a host's own `social-auth:google` strategy cannot replace
 * each other's strategies. Strategies are run directly with {@link runStrategy}.
 * @internal
 */
export function isolatedPassport(): InstanceType<typeof Passport> {
  return new Passport();
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
