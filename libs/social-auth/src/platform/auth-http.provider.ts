import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthHttp, AuthHttpPlatformType, AuthRequest, AuthResponse } from './auth-http';
import { expressHttp } from './express-http';
import { fastifyHttp } from './fastify-http';

/** The {@link AuthHttp} of an adapter type (`HttpAdapterHost.httpAdapter.getType()`), or undefined. @internal */
export function authHttpFor(platform: string | undefined | null): AuthHttp | undefined {
  if (platform === 'express') return expressHttp;
  if (platform === 'fastify') return fastifyHttp;
  return undefined;
}

/**
 * For objects handed in without an app (a hand-built `AuthCookies`, the public CSRF helpers):
 * Fastify's request and reply wrap Node's objects in `raw`; Express's are Node's objects.
 * @internal
 */
export function authHttpOf(value: AuthRequest | AuthResponse): AuthHttp {
  const raw = (value as { raw?: unknown }).raw;
  return raw !== null && typeof raw === 'object' ? fastifyHttp : expressHttp;
}

/**
 * The app's {@link AuthHttp}, chosen once from the HTTP adapter (`getType()`). A testing module
 * learns its adapter only in `createNestApplication()`, after providers exist, so the choice is
 * made at `onModuleInit` (or at first use, whichever comes first).
 * @internal
 */
@Injectable()
export class AuthHttpPlatform implements AuthHttp, OnModuleInit {
  private chosen?: AuthHttp;

  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  onModuleInit(): void {
    this.resolve();
  }

  get platform(): AuthHttpPlatformType {
    return this.impl(undefined).platform;
  }

  private resolve(): AuthHttp | undefined {
    this.chosen ??= authHttpFor(this.adapterHost?.httpAdapter?.getType?.());
    return this.chosen;
  }

  private impl(value: AuthRequest | AuthResponse | undefined): AuthHttp {
    return this.resolve() ?? (value ? authHttpOf(value) : expressHttp);
  }

  headerValues(req: AuthRequest, name: string): string[] {
    return this.impl(req).headerValues(req, name);
  }
  header(req: AuthRequest, name: string): string | undefined {
    return this.impl(req).header(req, name);
  }
  clientIp(req: AuthRequest): string | undefined {
    return this.impl(req).clientIp(req);
  }
  rawQuery(req: AuthRequest): string {
    return this.impl(req).rawQuery(req);
  }
  requestPath(req: AuthRequest): string {
    return this.impl(req).requestPath(req);
  }
  query(req: AuthRequest): Record<string, unknown> {
    return this.impl(req).query(req);
  }
  isJson(req: AuthRequest): boolean {
    return this.impl(req).isJson(req);
  }
  setHeader(res: AuthResponse, name: string, value: string): void {
    this.impl(res).setHeader(res, name, value);
  }
  appendSetCookie(res: AuthResponse, cookie: string): void {
    this.impl(res).appendSetCookie(res, cookie);
  }
  headersSent(res: AuthResponse): boolean {
    return this.impl(res).headersSent(res);
  }
  send(res: AuthResponse, status: number, body: object): void {
    this.impl(res).send(res, status, body);
  }
  sendHtml(res: AuthResponse, status: number, html: string): void {
    this.impl(res).sendHtml(res, status, html);
  }
  redirect(res: AuthResponse, location: string): void {
    this.impl(res).redirect(res, location);
  }
}
