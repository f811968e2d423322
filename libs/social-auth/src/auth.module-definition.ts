import { ConfigurableModuleBuilder, Type } from '@nestjs/common';
import type { AuthModuleOptions } from './auth.options';
import type { AuthUserStore } from './linking/user-store.port';
import type { MachineClientStore } from './machine-clients/machine-client-store.port';
import type { SingleUseStore } from './transaction/single-use.store';

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
  /**
   * Your own {@link AuthUserStore}, to keep users in your table instead of `auth_users`. Its
   * dependencies resolve in AuthModule's scope: global providers (`DataSource`, global modules)
   * and the `imports` of `forRootAsync`. See docs/accounts.md.
   * @example AuthModule.forRootAsync({ imports: [MembersModule], userStore: MemberUserStore, useFactory })
   * @default undefined (TypeOrmUserStore, the module's `auth_users` table)
   */
  userStore?: Type<AuthUserStore>;
  /**
   * Your own {@link SingleUseStore} (consumed OAuth transactions), for example a subclass of
   * `RedisSingleUseStore` whose constructor injects your Redis client. Its dependencies resolve like
   * `userStore`'s. See docs/several-instances.md.
   * @default undefined (TypeOrmSingleUseStore, the module's `auth_single_use` table)
   */
  singleUseStore?: Type<SingleUseStore>;
  /**
   * Your own {@link MachineClientStore}, to keep machine clients elsewhere than `auth_machine_clients`.
   * Its dependencies resolve like `userStore`'s. See docs/machine-clients.md.
   * @default undefined (TypeOrmMachineClientStore)
   */
  machineClientStore?: Type<MachineClientStore>;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'SocialAuth' })
    .setClassMethodName('forRoot')
    // Every extra needs a key here (even undefined): only these keys are kept out of the options.
    .setExtras<AuthModuleExtras>({ isGlobal: true, globalGuard: true, userStore: undefined, singleUseStore: undefined, machineClientStore: undefined }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal ?? true,
    }))
    .build();
