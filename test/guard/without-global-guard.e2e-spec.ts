import { AUTH_MIGRATIONS, AuthModule, AuthUserStore, SessionService } from '@nest-social-auth/core';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import request from 'supertest';
import { databaseOptions } from '../../src/config/database.config';
import { createPlatformApp, initPlatformApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * `globalGuard: false` leaves the host's routes to the host, but the module's own routes that act
 * for a signed-in user still check the credential themselves: without one they answer 401
 * `unauthorized`, never run with no user (a 500, or worse).
 */
describe('the module routes that need a user, with globalGuard: false', () => {
  let database: TestDatabase;
  let app: INestApplication;
  let bearer: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...databaseOptions(database.url), migrations: AUTH_MIGRATIONS, migrationsRun: true, retryAttempts: 0 } as TypeOrmModuleOptions),
        AuthModule.forRoot({ appUrl: 'http://127.0.0.1:1', tokens: { secret: 'without-global-guard-secret-0123456789abcdef' }, globalGuard: false }),
      ],
    }).compile();
    app = createPlatformApp(moduleRef, { logger: false });
    await initPlatformApp(app);
    const user = await app.get(AuthUserStore).create({ email: null, emailVerified: false, emailCanonical: null, displayName: 'No global guard', avatarUrl: null });
    bearer = `Bearer ${(await app.get(SessionService).open(user.id, { provider: 'test', userAgent: 'jest', ip: '127.0.0.1' })).accessToken}`;
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it.each([
    ['GET', '/auth/me'],
    ['GET', '/auth/sessions'],
    ['POST', '/auth/logout-all'],
    ['DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000'],
    ['DELETE', '/auth/identities/github'],
  ])('%s %s without a credential answers 401 unauthorized', async (method, path) => {
    const response = await request(app.getHttpServer())[method.toLowerCase() as 'get' | 'post' | 'delete'](path);
    expect({ status: response.status, error: response.body.error }).toEqual({ status: 401, error: 'unauthorized' });
  });

  it('GET /auth/sessions with a bearer token lists the session as current', async () => {
    const response = await request(app.getHttpServer()).get('/auth/sessions').set('Authorization', bearer);
    expect(response.status).toBe(200);
    expect(response.body).toEqual([expect.objectContaining({ current: true })]);
  });

  it('a host route stays the host\'s business: the module does not guard it', async () => {
    // No host controller here: an unknown path is Nest's 404, not the module's 401.
    const response = await request(app.getHttpServer()).get('/not-a-module-route');
    expect(response.status).toBe(404);
  });
});
