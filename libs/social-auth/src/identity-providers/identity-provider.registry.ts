import { Injectable, OnModuleInit } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthPaths } from '../controllers/auth-paths';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';
import { ProviderHttpClient } from '../http/provider-http.client';
import { Clock } from '../tokens/clock';
import { OAuthTransactionService } from '../transaction/oauth-transaction.service';
import { TransactionStateStore } from '../transaction/passport-state.store';
import { GithubIdentityProvider } from './github/github.provider';
import { AppleIdentityProvider } from './apple/apple.provider';
import { GoogleIdentityProvider } from './google/google.provider';
import { MicrosoftIdentityProvider } from './microsoft/microsoft.provider';
import { OidcIdentityProvider } from './oidc/oidc.provider';
import type { OAuthIdentityProvider } from './oauth-identity-provider';

/**
 * An enabled sign-in provider as the host's UI lists it (`GET /auth/providers`).
 * @publicApi
 */
export interface SignInProvider {
  /** Provider id: `google`, `github`. */
  id: string;
  /** Human name for a "Sign in with …" button. */
  name: string;
  /** Path that starts the sign-in (`/auth/google`, `/api/auth/google` under a global prefix); add `?returnTo=/path` to land somewhere. */
  loginUrl: string;
}

/**
 * The enabled identity providers (a provider is enabled when its options block is present),
 * built at start-up once the routes are registered, so their callback URLs follow where the
 * callback route is served (a global prefix set after `NestFactory.create` included).
 *
 * Invariant (threat model G3): each strategy's callback URL is absolute and built from `appUrl`
 * and the served route (`${appUrl}/${routePrefix}/${provider}/callback` without a global
 * prefix; see `AuthPaths`), never from request headers, so `Host` or `X-Forwarded-Host` cannot
 * steer the `redirect_uri`.
 * @publicApi
 */
@Injectable()
export class IdentityProviderRegistry implements OnModuleInit {
  private built?: Map<string, OAuthIdentityProvider>;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly transactions: OAuthTransactionService,
    private readonly http: ProviderHttpClient,
    private readonly clock: Clock,
    private readonly paths: AuthPaths,
  ) {}

  /** Routes are registered by now: the strategies get the callback URLs the app really serves. */
  onModuleInit(): void {
    this.built = this.build();
  }

  /** The enabled providers, for "Sign in with …" buttons. */
  list(): SignInProvider[] {
    return [...this.providers.values()].map((p) => ({ id: p.id, name: p.name, loginUrl: this.paths.loginPath(p.id) }));
  }

  /** The absolute callback URL registered with the provider. */
  callbackUrl(provider: string): string {
    return this.paths.callbackUrl(provider);
  }

  /** Whether `id` is an enabled provider whose callback arrives as a form POST (Apple). @internal */
  answersWithFormPost(id: unknown): boolean {
    return typeof id === 'string' && this.providers.get(id)?.responseMode === 'form_post';
  }

  /**
   * The enabled provider `id`; `AuthError('unknown_provider')` for anything else.
   * @internal
   */
  get(id: unknown): OAuthIdentityProvider {
    const provider = typeof id === 'string' ? this.providers.get(id) : undefined;
    if (!provider) throw new AuthError('unknown_provider');
    return provider;
  }

  /** Before `onModuleInit` (used outside an initialised app) built on first use; replaced at init. */
  private get providers(): Map<string, OAuthIdentityProvider> {
    return (this.built ??= this.build());
  }

  private build(): Map<string, OAuthIdentityProvider> {
    const { options, transactions, http, clock } = this;
    const providers = new Map<string, OAuthIdentityProvider>();
    const { google, github } = options.providers;
    if (google) {
      const store = new TransactionStateStore('google', transactions);
      providers.set('google', new GoogleIdentityProvider(google, { callbackURL: this.callbackUrl('google'), store, http, clock }));
    }
    if (github) {
      const store = new TransactionStateStore('github', transactions);
      providers.set('github', new GithubIdentityProvider(github, { callbackURL: this.callbackUrl('github'), store, http }));
    }
    const { microsoft, apple } = options.providers;
    if (microsoft) {
      const store = new TransactionStateStore('microsoft', transactions);
      providers.set('microsoft', new MicrosoftIdentityProvider(microsoft, { callbackURL: this.callbackUrl('microsoft'), store, http, clock }));
    }
    if (apple) {
      const store = new TransactionStateStore('apple', transactions);
      providers.set('apple', new AppleIdentityProvider(apple, { callbackURL: this.callbackUrl('apple'), store, http, clock }));
    }
    for (const oidc of options.providers.oidc ?? []) {
      const store = new TransactionStateStore(oidc.id, transactions);
      providers.set(oidc.id, new OidcIdentityProvider(oidc, { callbackURL: this.callbackUrl(oidc.id), store, http, clock, production: options.production }));
    }
    return providers;
  }
}
