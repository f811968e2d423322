import { AUTH_ENTITIES, AUTH_MIGRATIONS, AuthModule, AuthThrottlerGuard, authThrottler, hasAuthRateLimit } from '@nest-social-auth/core';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppController } from './app.controller';
import { AppService } from './app.service';
import { CreateMembers1767225600000 } from './members/create-members.migration';
import { Member } from './members/member.entity';
import { MeController } from './members/me.controller';
import { MemberUserStore } from './members/member-user.store';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        type: 'postgres',
        url: config.getOrThrow<string>('DATABASE_URL'),
        // The module's tables and migrations next to the app's own `members` table.
        entities: [...AUTH_ENTITIES, Member],
        migrations: [...AUTH_MIGRATIONS, CreateMembers1767225600000],
        migrationsRun: true,
      }),
    }),
    // The app owns throttling; authThrottler() turns the module's route marks into budgets, and
    // `default` leaves those routes to them (skipIf), as the package README shows.
    ThrottlerModule.forRoot({ throttlers: [{ name: 'default', ttl: 60_000, limit: 600, skipIf: hasAuthRateLimit }, authThrottler()] }),
    AuthModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      userStore: MemberUserStore,
      useFactory: (config: ConfigService) => ({
        appUrl: config.getOrThrow<string>('APP_URL'),
        tokens: { secret: config.getOrThrow<string>('AUTH_JWT_SECRET') },
        providers: {
          google: {
            clientId: config.getOrThrow<string>('GOOGLE_CLIENT_ID'),
            clientSecret: config.getOrThrow<string>('GOOGLE_CLIENT_SECRET'),
            // Set only by the e2e tests (the testing kit's fakes); unset: the real providers' endpoints.
            issuer: config.get<string>('GOOGLE_ISSUER'),
            authorizationURL: config.get<string>('GOOGLE_AUTHORIZATION_URL'),
            tokenURL: config.get<string>('GOOGLE_TOKEN_URL'),
            userInfoURL: config.get<string>('GOOGLE_USERINFO_URL'),
            jwksURL: config.get<string>('GOOGLE_JWKS_URL'),
            discoveryURL: config.get<string>('GOOGLE_DISCOVERY_URL'),
          },
          github: {
            clientId: config.getOrThrow<string>('GITHUB_CLIENT_ID'),
            clientSecret: config.getOrThrow<string>('GITHUB_CLIENT_SECRET'),
            authorizationURL: config.get<string>('GITHUB_AUTHORIZATION_URL'),
            tokenURL: config.get<string>('GITHUB_TOKEN_URL'),
            apiURL: config.get<string>('GITHUB_API_URL'),
            issuer: config.get<string>('GITHUB_ISSUER'),
          },
        },
      }),
    }),
  ],
  controllers: [AppController, MeController],
  providers: [AppService, { provide: APP_GUARD, useClass: AuthThrottlerGuard }],
})
export class AppModule {}
