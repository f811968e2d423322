import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
  app.setGlobalPrefix('api');
  app.enableShutdownHooks(); // in-flight sign-ins finish before the database closes
  // Fastify listens on localhost only unless told otherwise (Nest's Fastify docs): every interface,
  // as Express does by default.
  await app.listen(process.env.PORT ?? 3000, '0.0.0.0');
}
bootstrap();
