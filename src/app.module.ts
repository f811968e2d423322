import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@nest-social-auth/core';
import { authOptionsFromConfig } from './config/auth.config';
import { databaseOptions } from './config/database.config';
import { DEMO_CONFIG } from './config/demo-config.token';
import type { DemoConfig } from './config/demo.config';
import { HealthController } from './health/health.controller';
import { HomeController } from './home/home.controller';
import { ProfileController } from './profile/profile.controller';
import { DemoMachineClientSeeder } from './reports/demo-machine-client.seeder';
import { ReportsController } from './reports/reports.controller';
import { SANDBOX_PROVIDERS, SandboxModule, SandboxProviders } from './sandbox/sandbox.module';
import { DemoRedisSingleUseStore } from './redis/redis-single-use.store';
import { RedisModule } from './redis/redis.module';
import { ThrottlingModule } from './throttling/throttling.module';

/**
 * The demo monolith: a host app that imports AuthModule like any team would. It owns TypeORM,
 * throttling and configuration; the module owns sign-in, accounts and sessions.
 */
@Module({})
export class AppModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ demo: config })] }),
        // Schema changes come from migrations, run before the app starts (see bootstrap.ts).
        TypeOrmModule.forRoot({ ...databaseOptions(config.databaseUrl), retryAttempts: 0 }),
        // The module's domain events (user created, identity linked, …) reach @OnEvent listeners.
        EventEmitterModule.forRoot(),
        // Rate limits (host-owned ThrottlerModule, counters in Redis when REDIS_URL is set).
        RedisModule.forRoot(config),
        ThrottlingModule.forRoot(config),
        AuthModule.forRootAsync({
          // In sandbox mode the testing kit's fake providers run in-process and the module points at them.
          imports: [SandboxModule.forRoot(config)],
          inject: [SANDBOX_PROVIDERS],
          useFactory: (sandbox: SandboxProviders | null) => authOptionsFromConfig(config, sandbox?.overrides),
          // Consumed OAuth transactions in Redis when it is configured (else the auth_single_use table).
          singleUseStore: config.redisUrl ? DemoRedisSingleUseStore : undefined,
        }),
      ],
      controllers: [HealthController, ProfileController, ReportsController, HomeController],
      providers: [{ provide: DEMO_CONFIG, useValue: config }, DemoMachineClientSeeder],
    };
  }
}
