import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AppModule } from '../src/app.module';

/** The app as main.ts builds it (Fastify, prefix `api`), listening on `port` of 127.0.0.1. */
export async function createApp(port: number): Promise<INestApplication> {
  const moduleFixture = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleFixture.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
  app.setGlobalPrefix('api');
  // As Nest's Fastify testing docs do: routes are registered, and Fastify's plugins loaded, before
  // the first request.
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await app.listen(port, '127.0.0.1');
  return app;
}
