import { INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuthModule } from '@nest-social-auth/core';
import { FAKE_GITHUB_ISSUER, FAKE_GOOGLE_ISSUER, FakeGitHub, FakeGoogle } from '@nest-social-auth/testing';
import { databaseOptions } from '../../src/config/database.config';
import { createPlatformApp, initPlatformApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { countRows } from './support/sign-in-app';

type Agent = ReturnType<typeof request.agent>;

/** One run of a host app: fresh fakes on port 0 (new ports each time), the app on the kept database. */
interface Run {
  google: FakeGoogle;
  github: FakeGitHub;
  /** A new browser (its own cookie jar). */
  browser(): Agent;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * A host app's e2e suite reruns against a database it keeps (a developer's SQLite
 * file, a CI service container). The app keys identities on (provider, issuer, subject), so a fake
 * whose issuer followed its port would meet its own users as `identity_in_use` on the next run.
 * The app here is wired as the kit's README tells a host to: `providerOptions()` of each fake.
 */
describe('a rerun against a kept database signs the same fake users into the same accounts', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const migrate = new DataSource(databaseOptions(database.url));
    await migrate.initialize();
    await migrate.runMigrations({ transaction: 'each' });
    await migrate.destroy();
  });
  afterAll(async () => {
    await database?.drop();
  });

  /**
   * `otherIssuers` is the control: fake Google under another issuer, and GitHub wired without
   * `issuer`, so the module falls back to its default (the apiURL, i.e. the fake's port).
   */
  async function startRun(options: { otherIssuers?: boolean } = {}): Promise<Run> {
    const [google, github] = await Promise.all([FakeGoogle.start({ issuer: options.otherIssuers ? 'https://other-google.test' : undefined }), FakeGitHub.start()]);
    let app: INestApplication | undefined;
    try {
      @Module({
        imports: [
          TypeOrmModule.forRoot({ ...databaseOptions(database.url), retryAttempts: 0 }),
          AuthModule.forRoot({
            appUrl: 'http://localhost:3000',
            tokens: { secret: 'rerun-secret-rerun-secret-rerun-secret-0123' },
            providers: {
              google: google.providerOptions(),
              github: options.otherIssuers ? { ...github.providerOptions(), issuer: undefined } : github.providerOptions(),
            },
          }),
        ],
      })
      class HostModule {}
      const moduleRef = await Test.createTestingModule({ imports: [HostModule] }).compile();
      app = createPlatformApp(moduleRef, { logger: ['error'] });
      await initPlatformApp(app);
      const started = app;
      return {
        google,
        github,
        browser: () => request.agent(started.getHttpServer()),
        dataSource: app.get(DataSource),
        close: async () => {
          await started.close();
          await Promise.all([google.stop(), github.stop()]);
        },
      };
    } catch (error) {
      await app?.close();
      await Promise.all([google.stop(), github.stop()]);
      throw error;
    }
  }

  /** start → fake (auto-approve) → callback, as a browser follows the redirects; the app's final answer. */
  async function signIn(agent: Agent, provider: 'google' | 'github') {
    const start = await agent.get(`/auth/${provider}`).expect(302);
    const atFake = await fetch(start.headers.location, { redirect: 'manual' });
    const callback = new URL(atFake.headers.get('location')!);
    return agent.get(callback.pathname + callback.search).expect(302);
  }

  async function accountIds(run: Run): Promise<{ google: string; github: string }> {
    const ids = { google: '', github: '' };
    for (const provider of ['google', 'github'] as const) {
      const agent = run.browser();
      const done = await signIn(agent, provider);
      expect(done.headers.location).toBe('/');
      ids[provider] = (await agent.get('/auth/me').expect(200)).body.id;
    }
    return ids;
  }

  let first: { google: string; github: string };
  let firstUrls: string[];

  it('first run: the fakes sign in alice (Google) and octo (GitHub), recorded under the fakes\' fixed issuers', async () => {
    const run = await startRun();
    try {
      first = await accountIds(run);
      firstUrls = [run.google.url, run.github.url];
      const identities: Array<{ provider: string; issuer: string }> = await run.dataSource.query('SELECT provider, issuer FROM auth_identities ORDER BY provider');
      expect(identities).toEqual([
        { provider: 'github', issuer: FAKE_GITHUB_ISSUER },
        { provider: 'google', issuer: FAKE_GOOGLE_ISSUER },
      ]);
    } finally {
      await run.close();
    }
  });

  it('second run, fakes on other ports: the same users land in the same accounts, nothing new is written', async () => {
    const run = await startRun();
    try {
      expect([run.google.url, run.github.url]).not.toEqual(firstUrls);
      expect(await accountIds(run)).toEqual(first);
      expect(await countRows(run.dataSource)).toMatchObject({ users: 2, identities: 2 });
    } finally {
      await run.close();
    }
  });

  // The control: the same users under another issuer are another identity. This is what a
  // port-derived issuer did on every rerun (GitHub's issuer defaulting to the fake's apiURL).
  it('control: under an issuer that changed (GitHub\'s apiURL default, another Google issuer) the same users are refused with identity_in_use', async () => {
    const run = await startRun({ otherIssuers: true });
    try {
      for (const provider of ['google', 'github'] as const) {
        const done = await signIn(run.browser(), provider);
        expect(done.headers.location).toBe('/?error=identity_in_use');
      }
      expect(await countRows(run.dataSource)).toMatchObject({ users: 2, identities: 2 });
    } finally {
      await run.close();
    }
  });
});
