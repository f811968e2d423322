import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { AuthenticatedClient } from './authenticated-client';
import { ScopeRequirement, isScopeToken } from './machine-client.policy';

/** Metadata key of {@link Scopes}. @internal */
export const SCOPES_KEY = Symbol('SOCIAL_AUTH:SCOPES');

/** @internal Property on the request where the guard stores an authenticated machine client. */
export const REQUEST_CLIENT_KEY = 'machineClient';

/** The long form of {@link Scopes}. @publicApi */
export interface ScopesOptions {
  /** The token must carry at least one of these. */
  anyOf?: string[];
  /** The token must carry every one of these. */
  allOf?: string[];
  /**
   * Let a signed-in user's token call the route too (users carry no scopes; the route then
   * decides with `@CurrentUser()`/`@CurrentClient()` who called).
   * @default false
   */
  allowUserTokens?: boolean;
}

/**
 * Opens a route (or every route of a controller) to machine clients whose token carries the
 * scopes, and closes it to users' tokens unless `allowUserTokens`. A machine token is refused on
 * any route without `@Scopes()` (default deny); a token without the scopes gets
 * `403 insufficient_scope`.
 * @example @Scopes('orders:read', 'orders:admin') // any of
 * @example @Scopes({ allOf: ['orders:read', 'orders:write'] })
 * @example @Scopes({ anyOf: ['reports:read'], allowUserTokens: true })
 * @publicApi
 */
export function Scopes(...args: string[] | [ScopesOptions]): MethodDecorator & ClassDecorator {
  const options: ScopesOptions = typeof args[0] === 'object' ? args[0] : { anyOf: args as string[] };
  const requirement: ScopeRequirement = Object.freeze({
    anyOf: Object.freeze([...(options.anyOf ?? [])]),
    allOf: Object.freeze([...(options.allOf ?? [])]),
    allowUserTokens: options.allowUserTokens === true,
  });
  const all = [...requirement.anyOf, ...requirement.allOf];
  // A typo here would silently open or close a route: refuse it when the app loads.
  if (all.length === 0) throw new Error('@Scopes() needs at least one scope');
  const bad = all.find((s) => !isScopeToken(s));
  if (bad !== undefined) throw new Error(`@Scopes(): ${JSON.stringify(bad)} is not an RFC 6749 scope token`);
  return SetMetadata(SCOPES_KEY, requirement);
}

/**
 * Injects the machine client the guard authenticated (on `@Scopes()` routes); undefined when a
 * user called. Pass a property name to get just that property.
 * @example @Get('orders') @Scopes('orders:read') list(@CurrentClient() client: AuthenticatedClient) {}
 * @publicApi
 */
export const CurrentClient = createParamDecorator((property: keyof AuthenticatedClient | undefined, ctx: ExecutionContext) => {
  const client = ctx.switchToHttp().getRequest()[REQUEST_CLIENT_KEY] as AuthenticatedClient | undefined;
  return property ? client?.[property] : client;
});
