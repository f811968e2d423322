import { Controller, Get } from '@nestjs/common';
import { AuthenticatedClient, CurrentClient, Scopes } from '@nest-social-auth/core';

/**
 * A route for machine clients (a reporting job, a partner): it takes a client-credentials token
 * with the `reports:read` scope. A user's token, or a machine token without the scope, gets
 * `403 insufficient_scope`.
 */
@Controller('reports')
export class ReportsController {
  @Get()
  @Scopes('reports:read')
  list(@CurrentClient() client: AuthenticatedClient): { client: string; scopes: readonly string[]; reports: Array<{ id: string; title: string }> } {
    return { client: client.clientId, scopes: client.scopes, reports: [{ id: 'daily-sign-ins', title: 'Sign-ins per day' }] };
  }
}
