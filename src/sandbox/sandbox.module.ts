import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { FakeApple, FakeGitHub, FakeGoogle, FakeMicrosoft } from '@nest-social-auth/testing';
import type { ProviderOverrides } from '../config/auth.config';
import type { DemoConfig } from '../config/demo.config';

/**
 * Injection token of the running sandbox ({@link SandboxProviders}), or `null` when the sandbox
 * is off.
 */
export const SANDBOX_PROVIDERS = Symbol('DEMO:SANDBOX_PROVIDERS');

/** The testing kit's fake providers, running inside the demo. */
export interface SandboxProviders {
  google: FakeGoogle;
  github: FakeGitHub;
  /** Fake Microsoft, multi-tenant (`common`). */
  microsoft: FakeMicrosoft;
  /** Fake Apple (form_post callback, ES256 client secret). */
  apple: FakeApple;
  /** AuthModule provider options that point at the fakes. */
  overrides: ProviderOverrides;
  stop(): Promise<void>;
}

/**
 * Starts the fake Google, GitHub, Microsoft and Apple of the testing kit in consent mode (a person sees an
 * Allow / Deny page, as with the real providers) on `127.0.0.1`, on the configured ports
 * (`AUTH_SANDBOX_GOOGLE_PORT`, `AUTH_SANDBOX_GITHUB_PORT`; 0 picks free ones).
 *
 * The fakes only accept this demo's callback URLs, like a provider with registered redirect URIs.
 */
export async function startSandbox(config: DemoConfig): Promise<SandboxProviders> {
  const appName = 'Social sign-in demo';
  // Started together: each generates its keys first, and one after the other they would add up
  // at every start of the demo.
  const started = await Promise.allSettled([
    FakeGoogle.start({ mode: 'consent', port: config.sandboxPorts.google, appName }),
    FakeGitHub.start({ mode: 'consent', port: config.sandboxPorts.github, appName }),
    FakeMicrosoft.start({ mode: 'consent', appName }),
    FakeApple.start({ mode: 'consent', appName }),
  ] as const);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  const [google, github, microsoft, apple] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [FakeGoogle, FakeGitHub, FakeMicrosoft, FakeApple];
  const registered = (provider: string) => [`${config.appUrl}/auth/${provider}/callback`];
  google.scenario.allowedRedirectUris = registered('google');
  github.scenario.allowedRedirectUris = registered('github');
  microsoft.scenario.allowedRedirectUris = registered('microsoft');
  apple.scenario.allowedRedirectUris = registered('apple');
  return {
    google,
    github,
    microsoft,
    apple,
    // The fakes' issuers do not depend on their ports, so a restart on other ports (port 0) keeps
    // the sandbox accounts of a kept database signing in as themselves.
    overrides: { google: google.providerOptions(), github: github.providerOptions(), microsoft: microsoft.providerOptions('common'), apple: apple.providerOptions() },
    stop: async () => {
      await Promise.all([google.stop(), github.stop(), microsoft.stop(), apple.stop()]);
    },
  };
}

/** Stops the fakes when the app shuts down. */
@Injectable()
class SandboxShutdown implements OnApplicationShutdown {
  constructor(@Inject(SANDBOX_PROVIDERS) private readonly sandbox: SandboxProviders | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sandbox?.stop();
  }
}

/**
 * The demo's sandbox (`AUTH_SANDBOX`, on by default in development when no provider credentials
 * are set; refused in production by the config loader). Import it into `AuthModule.forRootAsync`
 * and inject {@link SANDBOX_PROVIDERS} to point the module at the fakes.
 */
@Module({})
export class SandboxModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: SandboxModule,
      providers: [
        {
          provide: SANDBOX_PROVIDERS,
          useFactory: async (): Promise<SandboxProviders | null> => {
            if (!config.sandbox) return null;
            const sandbox = await startSandbox(config);
            new Logger('Sandbox').log(`fake Google at ${sandbox.google.url}, fake GitHub at ${sandbox.github.url}, fake Microsoft at ${sandbox.microsoft.url}, fake Apple at ${sandbox.apple.url} (consent pages; no real accounts)`);
            return sandbox;
          },
        },
        SandboxShutdown,
      ],
      exports: [SANDBOX_PROVIDERS],
    };
  }
}
