import { Controller, Get } from '@nestjs/common';
import { AuthenticatedClient, AuthenticatedUser, CurrentClient, CurrentUser, Scopes } from '@nest-social-auth/core';

/**
 * Routes for machine clients (a reporting job, a partner). `GET /reports` takes only a
 * client-credentials token with `reports:read`: a user's token, or a machine token without the
 * scope, gets `403 insufficient_scope`. `GET /reports/summary` also lets signed-in users in.
 */
@Controller('reports')
export class ReportsController {
  @Get()
  @Scopes('reports:read')
  list(@CurrentClient() client: AuthenticatedClient): { client: string; scopes: readonly string[]; reports: Array<{ id: string; title: string }> } {
    return { client: client.clientId, scopes: client.scopes, reports: [{ id: 'daily-sign-ins', title: 'Sign-ins per day' }] };
  }

  @Get('summary')
  @Scopes({ anyOf: ['reports:read'], allowUserTokens: true })
  summary(@CurrentUser() user: AuthenticatedUser | undefined, @CurrentClient() client: AuthenticatedClient | undefined): { caller: { user: string } | { client: string } } {
    return { caller: user ? { user: user.id } : { client: client!.clientId } };
  }
}
