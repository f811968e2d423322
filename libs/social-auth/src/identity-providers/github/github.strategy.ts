import type { StrategyRequest } from '../../transaction/passport-state.store';
import { Strategy as GitHubOAuth2Strategy, type StrategyOptionsWithRequest } from 'passport-github2';
import type { ResolvedGithubOptions } from '../../auth.options';
import { AuthError } from '../../errors/auth.error';
import { PROVIDER_USER_AGENT, ProviderHttpClient, assertOk, parseJson, parseJsonObject } from '../../http/provider-http.client';
import { useProviderHttp } from '../../http/oauth2-transport';
import { TransactionStateStore } from '../../transaction/passport-state.store';
import { secureOAuth2Options, validateCallback } from '../passport-runner';
import type { VerifiedIdentity } from '../verified-identity';
import { pickVerifiedPrimaryEmail, readGithubUser } from './github-profile';

const API_HEADERS = { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' };

/**
 * GitHub sign-in on passport-github2: Authorization Code with PKCE S256 (GitHub accepts only
 * S256), `state` kept in the transaction cookie, scopes `read:user user:email`.
 *
 * Invariants (threat model C3, C4, I1, I2, B9):
 * - `userProfile` is replaced entirely: passport-github2 parses `/user/emails` with an unguarded
 *   `JSON.parse` inside an async callback (an uncaught exception on a malformed body) and drops
 *   the `verified` flag. Here both calls go through the bounded HTTP client, every body is parsed
 *   defensively, and the email is the primary **and** verified entry of `/user/emails` or null.
 * - The subject is the numeric `id`; the login is only a display fallback.
 * - GitHub's token endpoint answers `200` with `error=bad_verification_code` on failure: the
 *   strict exchange (`useProviderHttp`) treats any `error` member as a failure.
 * @internal
 */
export class GithubStrategy extends GitHubOAuth2Strategy {
  constructor(
    private readonly config: ResolvedGithubOptions,
    callbackURL: string,
    store: TransactionStateStore,
    private readonly http: ProviderHttpClient,
  ) {
    const options = {
      ...secureOAuth2Options({ ...config, callbackURL }, store),
      userProfileURL: `${config.apiURL}/user`,
      userEmailURL: `${config.apiURL}/user/emails`,
      allRawEmails: true,
      userAgent: PROVIDER_USER_AGENT,
    };
    super(options as unknown as StrategyOptionsWithRequest, validateCallback as never);
    useProviderHttp(this, http);
  }


  /** Loads the identity (`/user`, then `/user/emails`); called by passport-oauth2 after the token exchange. */
  override userProfile(accessToken: string, done: (err?: Error | null, profile?: unknown) => void): void {
    this.loadIdentity(accessToken).then(
      (identity) => done(null, identity),
      (error: unknown) => done(error instanceof Error ? error : new AuthError('provider_error')),
    );
  }

  /** passport verify callback: the identity was fully built and checked by `userProfile`. */
  async validate(_req: StrategyRequest, _accessToken: string, _refreshToken: unknown, _params: unknown, identity: VerifiedIdentity): Promise<VerifiedIdentity> {
    if (!identity || identity.provider !== 'github') throw new AuthError('provider_error');
    return identity;
  }

  private async loadIdentity(accessToken: string): Promise<VerifiedIdentity> {
    const headers = { ...API_HEADERS, Authorization: `Bearer ${accessToken}` };
    const userResponse = await this.http.requestOk(`${this.config.apiURL}/user`, { headers });
    const userBody = parseJsonObject(userResponse.text);
    const account = userBody && readGithubUser(userBody);
    if (!account) throw new AuthError('provider_error', { cause: new Error('GitHub /user has no numeric id') });

    const emailsResponse = await this.http.request(`${this.config.apiURL}/user/emails`, { headers });
    let email: string | null;
    if (emailsResponse.status === 404 || emailsResponse.status === 403) {
      // The token lacks user:email: no address, so nothing is verified.
      email = null;
    } else {
      assertOk(emailsResponse);
      const picked = pickVerifiedPrimaryEmail(parseJson(emailsResponse.text));
      if (picked === undefined) throw new AuthError('provider_error', { cause: new Error('GitHub /user/emails is not a list') });
      email = picked;
    }
    return {
      provider: 'github',
      issuer: this.config.issuer,
      subject: account.subject,
      email,
      emailVerified: email !== null,
      displayName: account.displayName,
      avatarUrl: account.avatarUrl,
    };
  }
}
