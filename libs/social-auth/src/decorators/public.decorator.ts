import { SetMetadata } from '@nestjs/common';
import { IS_PUBLIC_KEY } from '../auth.constants';

/**
 * Opens a route (or every route of a controller) to anonymous callers. Every other route is
 * protected by the module's global guard.
 * @example @Public() @Get('health') health() {}
 * @publicApi
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
