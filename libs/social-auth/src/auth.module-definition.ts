import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AuthModuleOptions } from './auth.options';

/** Extras of `AuthModule.forRoot`/`forRootAsync`, next to the options. @publicApi */
export interface AuthModuleExtras {
  /**
   * Make the module's exports (guard, services, options) available app-wide.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Register the JWT guard as `APP_GUARD`, so every route of the host is protected unless
   * marked `@Public()`. False lets the host apply `JwtAuthGuard` itself.
   * @default true
   */
  globalGuard?: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'SocialAuth' })
    .setClassMethodName('forRoot')
    .setExtras<AuthModuleExtras>({ isGlobal: true, globalGuard: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
    }))
    .build();
