import type { AuthModuleOptions } from '@nest-social-auth/core';
import type { DemoConfig } from './demo.config';

/** Identity-provider endpoints that replace the real ones (the sandbox's fakes). */
export interface ProviderOverrides {
  google?: NonNullable<DemoConfig['google']>;
  github?: NonNullable<DemoConfig['github']>;
  microsoft?: NonNullable<DemoConfig['microsoft']>;
  apple?: NonNullable<DemoConfig['apple']>;
}

/** Maps the demo's environment to `AuthModule` options. */
export function authOptionsFromConfig(config: DemoConfig, overrides: ProviderOverrides = {}): AuthModuleOptions {
  const google = overrides.google ?? config.google;
  const github = overrides.github ?? config.github;
  const microsoft = overrides.microsoft ?? config.microsoft;
  const apple = overrides.apple ?? config.apple;
  return {
    appUrl: config.appUrl,
    production: config.production,
    errorRedirect: '/',
    defaultReturnTo: '/',
    ...(config.httpTimeoutMs !== undefined ? { http: { timeoutMs: config.httpTimeoutMs } } : {}),
    handoff: { redirectUris: config.handoffRedirectUris },
    machineClients: { enabled: config.machineClients, clientRateLimit: config.rateLimits.machineClient },
    tokens: {
      secret: config.jwtSecret,
      privateKey: config.jwtPrivateKey,
      accessTtl: config.accessTtl,
      refreshIdleTtl: config.refreshIdleTtl,
      refreshAbsoluteTtl: config.refreshAbsoluteTtl,
    },
    providers: {
      google: google && strip(google),
      github: github && strip(github),
      oidc: config.oidc,
      microsoft: microsoft && strip(microsoft),
      apple: apple && strip(apple),
    },
  };
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
