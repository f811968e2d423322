import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../src/app.module';

/** The app as main.ts builds it (Express), listening on `port` of 127.0.0.1. */
export async function createApp(port: number): Promise<INestApplication> {
  const moduleFixture = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleFixture.createNestApplication();
  app.setGlobalPrefix('api');
  await app.listen(port, '127.0.0.1');
  return app;
}
