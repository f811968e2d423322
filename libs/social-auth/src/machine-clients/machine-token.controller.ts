import { Controller, HttpCode, Req, RequestMapping, Res, UseFilters } from '@nestjs/common';
import { AUTH_ROUTES } from '../controllers/auth-paths';
import { Public } from '../decorators/public.decorator';
import { AuthErrorFilter } from '../errors/auth-error.filter';
import { AuthError } from '../errors/auth.error';
import { AuthRateLimited } from '../guards/auth-throttler.guard';
import type { AuthRequest, AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform } from '../platform/auth-http.provider';
import { ClientCredentialsTokenResponse, MachineClientService, invalidClient } from './machine-client.service';
import { readClientCredentialsRequest } from './machine-client.policy';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/**
 * `POST /<prefix>/oauth/token` — the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for
 * machine clients, authenticated by `client_secret_basic` or `private_key_jwt` (RFC 7523).
 *
 * Invariants (threat model M1–M9):
 * - `404 not_found` while `machineClients.enabled` is off.
 * - Every answer carries `Cache-Control: no-store` and `Pragma: no-cache` (§5.1); errors are the
 *   §5.2 codes, `invalid_client` with `401` and `WWW-Authenticate`. Never a refresh token.
 * - The body is `application/x-www-form-urlencoded` (what §4.4.2 specifies) or JSON; anything
 *   else, or a parameter sent twice, is `400 invalid_request`.
 * - Rate-limited per address (`token` kind of `authThrottler`) and per client id.
 * @internal
 */
@Controller('auth')
@UseFilters(AuthErrorFilter)
export class MachineTokenController {
  constructor(
    private readonly clients: MachineClientService,
    private readonly http: AuthHttpPlatform,
  ) {}

  /** Issues a machine access token. */
  @AuthRateLimited('token')
  @Public()
  @RequestMapping(AUTH_ROUTES.machineToken)
  @HttpCode(200)
  async token(@Req() req: AuthRequest & { body?: unknown }, @Res({ passthrough: true }) res: AuthResponse): Promise<ClientCredentialsTokenResponse> {
    this.http.setHeader(res, 'Cache-Control', 'no-store');
    this.http.setHeader(res, 'Pragma', 'no-cache');
    if (!this.clients.enabled) throw new AuthError('not_found');
    const type = (this.http.header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== FORM && type !== JSON_TYPE) throw new AuthError('invalid_request');
    const authorization = req.headers.authorization === undefined ? [] : this.http.headerValues(req, 'authorization');
    const parsed = readClientCredentialsRequest(req.body, authorization);
    if ('error' in parsed) throw parsed.error === 'invalid_client' ? invalidClient() : new AuthError(parsed.error);
    return this.clients.issueToken(parsed);
  }
}
