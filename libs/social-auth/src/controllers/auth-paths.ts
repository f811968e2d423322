import { Injectable, OnModuleInit, Optional, RequestMethod } from '@nestjs/common';
import { MODULE_PATH } from '@nestjs/common/constants';
import { addLeadingSlash } from '@nestjs/common/utils/shared.utils';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import type { RoutePathMetadata } from '@nestjs/core/router/interfaces/route-path-metadata.interface';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** Path and method of one route, as `@RequestMapping` takes them. @internal */
export interface AuthRouteMapping {
  readonly path: string;
  readonly method: RequestMethod;
}

/**
 * The module's routes (under `routePrefix`) whose public address other parts embed: callback
 * URLs and login URLs. The controllers map these exact entries
 * (`@RequestMapping(AUTH_ROUTES.callback)`), so the served routes and the addresses built from
 * them come from one table.
 * @internal
 */
export const AUTH_ROUTES = {
  /** Starts a sign-in (`loginUrl` of `GET /<prefix>/providers`). */
  start: { path: ':provider', method: RequestMethod.GET },
  /** The provider's `redirect_uri`; any method is routed (all but GET answer 405). Reads the transaction cookie. */
  callback: { path: ':provider/callback', method: RequestMethod.ALL },
  /** Reads the refresh cookie. */
  refresh: { path: 'refresh', method: RequestMethod.POST },
  /** Reads the refresh cookie. */
  logout: { path: 'logout', method: RequestMethod.POST },
  /** The client-credentials token endpoint; its absolute URL is the `aud` of client assertions. */
  machineToken: { path: 'oauth/token', method: RequestMethod.POST },
} as const satisfies Record<string, AuthRouteMapping>;

/** Where the routes are served, as a browser addresses them (`appUrl`'s path included). */
interface ServedPaths {
  /** Path template of the start route (`/app/api/auth/:provider`). */
  start: string;
  /** Path template of the callback route on the app's server, without `appUrl`'s path (`/api/auth/:provider/callback`). */
  callback: string;
  /** Path of the machine token endpoint on the app's server (`/api/auth/oauth/token`). */
  machineToken: string;
}

const PROVIDER_PARAM = /\/:provider(?=\/|$)/;

/**
 * Where the module's routes are actually served, and the addresses built from that: provider
 * callback URLs and login URLs. (Cookies are all at `Path=/`, wherever the routes are: see
 * `authCookieNames`.)
 *
 * Nest decides a route's path when it registers it: `routePrefix`, then the app's global prefix
 * (`app.setGlobalPrefix('api', { exclude })`, called after the providers exist), a `RouterModule`
 * path, and a URI version. This asks Nest's own `RoutePathFactory` with the same inputs, so an
 * `exclude` applies exactly as it does to the routes (matched against the route's path and
 * method). `appUrl`'s path (an app a proxy serves under `/app`) comes first.
 *
 * Invariants:
 * - Read once routes are registered (`onModuleInit` follows `registerRouter` in `app.init()`), so
 *   a prefix set after `NestFactory.create` counts, and the answers never change afterwards.
 *   Before that (used outside an initialised app) each answer reflects the app's current settings.
 * - Built from `appUrl` and the app's settings only, never from a request (threat model G3).
 * @internal
 */
@Injectable()
export class AuthPaths implements OnModuleInit {
  private served?: ServedPaths;
  private readonly appPath: string;

  constructor(
    @InjectAuthOptions() private readonly options: Pick<ResolvedAuthOptions, 'appUrl' | 'routePrefix'>,
    @Optional() private readonly config?: ApplicationConfig,
    @Optional() private readonly modules?: ModulesContainer,
  ) {
    // The path of appUrl as written (resolved options carry no trailing slash): `/app`, or ''.
    this.appPath = options.appUrl.replace(/^[a-z]+:\/\/[^/]+/i, '');
  }

  /** Routes are registered by now (`app.init()` runs `registerRouter` first): the paths are final. */
  onModuleInit(): void {
    this.served = this.resolve();
  }

  /** The absolute callback URL of `provider`, registered with the provider as its `redirect_uri`. */
  callbackUrl(provider: string): string {
    return `${this.options.appUrl}${withProvider(this.paths.callback, provider)}`;
  }

  /** The absolute URL of the client-credentials token endpoint (`https://app.example/api/auth/oauth/token`). */
  machineTokenUrl(): string {
    return `${this.options.appUrl}${this.paths.machineToken}`;
  }

  /** The path that starts a sign-in with `provider` (`/api/auth/google`). */
  loginPath(provider: string): string {
    return withProvider(this.paths.start, provider);
  }

  private get paths(): ServedPaths {
    return this.served ?? this.resolve();
  }

  private resolve(): ServedPaths {
    // Outside a Nest app (a service built by hand) the routes are those of an app without settings.
    const config = this.config ?? new ApplicationConfig();
    const factory = new RoutePathFactory(config);
    const versioning = config.getVersioning();
    const base: RoutePathMetadata = {
      // As NestApplication.registerRouter hands it to the router.
      globalPrefix: addLeadingSlash(config.getGlobalPrefix()),
      modulePath: this.modulePath(),
      ctrlPath: this.options.routePrefix,
      // The module's controllers and handlers declare no version, so the app's default applies.
      controllerVersion: versioning?.defaultVersion,
      versioningOptions: versioning,
    };
    // Several URI versions serve the same handler at several paths; any of them reaches it.
    const served = (route: AuthRouteMapping) => factory.create({ ...base, methodPath: route.path }, route.method)[0];
    return { start: `${this.appPath}${served(AUTH_ROUTES.start)}`, callback: served(AUTH_ROUTES.callback), machineToken: served(AUTH_ROUTES.machineToken) };
  }

  /** The `RouterModule` path of the module holding this instance, read like Nest's RoutesResolver does. */
  private modulePath(): string | undefined {
    if (!this.modules) return undefined;
    for (const module of this.modules.values()) {
      if (module.providers.get(AuthPaths)?.instance !== this) continue;
      const metatype = module.metatype as object;
      return (Reflect.getMetadata(MODULE_PATH + this.modules.applicationId, metatype) ?? Reflect.getMetadata(MODULE_PATH, metatype)) as string | undefined;
    }
    return undefined;
  }
}

function withProvider(template: string, provider: string): string {
  return template.replace(PROVIDER_PARAM, `/${encodeURIComponent(provider)}`);
}
