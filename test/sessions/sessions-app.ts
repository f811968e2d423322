import { Controller, Delete, Get, HttpCode, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import cookieParser from 'cookie-parser';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuthModule, AuthModuleOptions, AuthenticatedUser, CurrentUser, Public } from '@nest-social-auth/core';
import { databaseOptions } from '../../src/config/database.config';
import { createPlatformApp, listening, reservePort } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/** Routes of a tiny host app: protected GET/POST/DELETE and one public route. */
@Controller('probe')
class ProbeController {
  @Get()
  read(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  @Post()
  @HttpCode(200)
  write(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  @Delete()
  remove(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    return user;
  }

  @Public()
  @Get('open')
  open(): { ok: true } {
    return { ok: true };
  }
}

/** An app under test, as the session fixtures need it. */
export interface SessionsApp {
  app: INestApplication;
  dataSource: DataSource;
  database: TestDatabase;
  url: string;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * A minimal host app importing `AuthModule.forRoot` with options the demo does not expose
 * (grace window, audit, route prefix, allowed origins), on a fresh database of the current kind.
 */
export async function createSessionsApp(options: Omit<Partial<AuthModuleOptions>, 'tokens'> & { tokens?: AuthModuleOptions['tokens'] } = {}): Promise<SessionsApp> {
  const database = await createTestDatabase();
  // Kept so a boot that fails (a broken option) can still close its connection pool.
  const created: Array<Promise<DataSource>> = [];
  try {
    const port = await reservePort();
    const url = `http://127.0.0.1:${port}`;
    const db = databaseOptions(database.url);
    const migrate = new DataSource(db);
    await migrate.initialize();
    await migrate.runMigrations({ transaction: 'each' });
    await migrate.destroy();

    @Module({
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...db, retryAttempts: 0 }),
          dataSourceFactory: (o) => {
            const initialized = new DataSource(o!).initialize();
            created.push(initialized);
            return initialized;
          },
        }),
        AuthModule.forRoot({ appUrl: url, ...options, tokens: { secret: 'sessions-secret-sessions-secret-0123456789', ...options.tokens } }),
      ],
      controllers: [ProbeController],
    })
    class HostModule {}

    const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
    const app = createPlatformApp(moduleRef, { logger: ['error'] });
    // The module reads cookies from the raw header; cookie-parser stays on Express as the demo has it.
    if (app.getHttpAdapter().getType() === 'express') app.use(cookieParser());
    await app.listen(port, '127.0.0.1');
    return listening(app, database, url);
  } catch (error) {
    for (const result of await Promise.allSettled(created)) {
      if (result.status === 'fulfilled' && result.value.isInitialized) await result.value.destroy();
    }
    await database.drop();
    throw error;
  }
}
