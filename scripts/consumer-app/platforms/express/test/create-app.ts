import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppModule } from '../src/app.module';

/** The app as main.ts builds it (Express, prefix `api`), listening on `port` of 127.0.0.1. */
export async function createApp(port: number): Promise<INestApplication> {
  const moduleFixture = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleFixture.createNestApplication<NestExpressApplication>();
  app.setGlobalPrefix('api');
  await app.listen(port, '127.0.0.1');
  return app;
}
