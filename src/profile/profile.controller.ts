import { Controller, Get } from '@nestjs/common';
import { AuthenticatedUser, CurrentUser } from '@nest-social-auth/core';

/** A protected route of the host app: no `@Public()`, so the global guard requires a token. */
@Controller('me')
export class ProfileController {
  @Get()
  me(@CurrentUser() user: AuthenticatedUser): { id: string; sessionId: string } {
    return { id: user.id, sessionId: user.sessionId };
  }
}
