import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { REQUEST_USER_KEY } from '../auth.internal-constants';
import type { AuthenticatedUser } from '../tokens/authenticated-user';

/**
 * Injects the authenticated user (from the verified access token) into a route handler.
 * Pass a property name to get just that property.
 * @example @Get('me') me(@CurrentUser() user: AuthenticatedUser) {}
 * @publicApi
 */
export const CurrentUser = createParamDecorator((property: keyof AuthenticatedUser | undefined, ctx: ExecutionContext) => {
  const user = ctx.switchToHttp().getRequest()[REQUEST_USER_KEY] as AuthenticatedUser | undefined;
  return property ? user?.[property] : user;
});
