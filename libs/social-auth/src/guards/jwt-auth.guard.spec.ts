import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { Request } from 'express';
import { AuthModuleOptions, resolveAuthOptions } from '../auth.options';
import { Public } from '../decorators/public.decorator';
import { AuthError } from '../errors/auth.error';
import { AccessTokenService } from '../tokens/access-token.service';
import { AuthCookies } from '../tokens/auth-cookies';
import type { AuthenticatedUser } from '../tokens/authenticated-user';
import { Clock } from '../tokens/clock';
import { SessionLivenessCache } from '../tokens/session-liveness.cache';
import type { SessionService } from '../tokens/session.service';
import { JwtAuthGuard } from './jwt-auth.guard';

const APP = 'https://app.example.test';
const options = resolveAuthOptions({ appUrl: APP, tokens: { secret: 'unit-secret-unit-secret-unit-secret-0123' } } as AuthModuleOptions);
const clock = new Clock();
const tokens = new AccessTokenService(options, clock);
const cookies = new AuthCookies(options, clock);

@Controller()
class Routes {
  @Get('private')
  private(): void {}

  @Public()
  @Get('public')
  open(): void {}
}

/**
 * The session store's side of the guard: the real liveness cache in front of a table of
 * sessions, counting store lookups. Only SessionService's two liveness methods are used by the guard.
 */
function sessionsWith(live: Record<string, string>) {
  const cache = new SessionLivenessCache(5000, () => Date.now());
  let lookups = 0;
  const sessions = {
    knownSessionLiveness: (sid: string, uid: string) => cache.peek(sid, uid),
    isSessionLive: (sid: string, uid: string) =>
      cache.isLive(sid, uid, async () => {
        lookups += 1;
        return { live: sid in live, userId: live[sid] ?? null, until: Number.POSITIVE_INFINITY };
      }),
    revoke: (sid: string) => cache.markRevoked(sid),
  };
  return { sessions, lookups: () => lookups };
}

function request(headers: Record<string, string>, method = 'GET'): Request {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, headers: lower, rawHeaders: Object.entries(headers).flat() } as unknown as Request;
}

function context(req: Request, handler: 'private' | 'open' = 'private'): ExecutionContextHost {
  const ctx = new ExecutionContextHost([req, {}, () => undefined], Routes, Routes.prototype[handler]);
  ctx.setType('http');
  return ctx;
}

function guardWith(sessions: unknown): JwtAuthGuard {
  return new JwtAuthGuard(new Reflector(), tokens, sessions as SessionService, cookies, options);
}

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return error instanceof AuthError ? error.code : `not an AuthError: ${String(error)}`;
  }
  return 'passed';
}

describe('JwtAuthGuard: synchronous when nothing needs waiting for', () => {
  it('asks the store once, then answers the same session without a promise', async () => {
    const { sessions, lookups } = sessionsWith({ s1: 'u1' });
    const guard = guardWith(sessions);
    const bearer = { Authorization: `Bearer ${tokens.sign('u1', 's1').token}` };

    const first = guard.canActivate(context(request(bearer)));
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toBe(true);

    const req = request(bearer);
    expect(guard.canActivate(context(req))).toBe(true);
    expect((req as unknown as { user: AuthenticatedUser }).user).toMatchObject({ id: 'u1', sessionId: 's1', authMethod: 'bearer' });
    expect(lookups()).toBe(1);
  });

  it.each([
    ['no credential', {}, 'unauthorized'],
    ['a malformed bearer token', { Authorization: 'Bearer not-a-jwt' }, 'unauthorized'],
    ['two Authorization headers', 'twice', 'unauthorized'],
  ])('refuses %s synchronously, before any store lookup', async (_name, headers, code) => {
    const { sessions, lookups } = sessionsWith({ s1: 'u1' });
    const guard = guardWith(sessions);
    const token = tokens.sign('u1', 's1').token;
    const req =
      headers === 'twice'
        ? ({ method: 'GET', headers: { authorization: `Bearer ${token}` }, rawHeaders: ['Authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`] } as unknown as Request)
        : request(headers as Record<string, string>);
    expect(() => guard.canActivate(context(req))).toThrow(AuthError);
    expect(await codeOf(() => guard.canActivate(context(req)))).toBe(code);
    expect(lookups()).toBe(0);
  });

  it('refuses a revoked session at once, from memory and from the store', async () => {
    const { sessions } = sessionsWith({ s1: 'u1' });
    const guard = guardWith(sessions);
    const bearer = { Authorization: `Bearer ${tokens.sign('u1', 's1').token}` };
    await guard.canActivate(context(request(bearer)));
    sessions.revoke('s1');
    expect(await codeOf(() => guard.canActivate(context(request(bearer))))).toBe('unauthorized');
    const unknown = { Authorization: `Bearer ${tokens.sign('u1', 's-unknown').token}` };
    expect(await codeOf(() => guard.canActivate(context(request(unknown))))).toBe('unauthorized');
  });

  it('refuses a token whose session belongs to another user', async () => {
    const { sessions } = sessionsWith({ s1: 'u1' });
    const guard = guardWith(sessions);
    const bearer = { Authorization: `Bearer ${tokens.sign('u2', 's1').token}` };
    expect(await codeOf(() => guard.canActivate(context(request(bearer))))).toBe('unauthorized');
    expect(await codeOf(() => guard.canActivate(context(request(bearer))))).toBe('unauthorized');
  });

  it('still applies the CSRF rule on the synchronous path (cookie, unsafe method, foreign origin)', async () => {
    const { sessions } = sessionsWith({ s1: 'u1' });
    const guard = guardWith(sessions);
    const cookie = `${cookies.names.access}=${tokens.sign('u1', 's1').token}`;
    await guard.canActivate(context(request({ Cookie: cookie })));
    expect(await codeOf(() => guard.canActivate(context(request({ Cookie: cookie, Origin: 'https://evil.example' }, 'POST'))))).toBe('csrf_rejected');
    expect(guard.canActivate(context(request({ Cookie: cookie, Origin: APP }, 'POST')))).toBe(true);
  });

  it('lets @Public() routes through without a credential', () => {
    const guard = guardWith(sessionsWith({}).sessions);
    expect(guard.canActivate(context(request({}), 'open'))).toBe(true);
  });

  it('an async checkSession override is still awaited on every request', async () => {
    const { sessions } = sessionsWith({ s1: 'u1' });
    const seen: string[] = [];
    class Strict extends JwtAuthGuard {
      protected override async checkSession(user: AuthenticatedUser): Promise<void> {
        seen.push(user.sessionId);
        throw new AuthError('unauthorized');
      }
    }
    const guard = new Strict(new Reflector(), tokens, sessions as unknown as SessionService, cookies, options);
    const bearer = { Authorization: `Bearer ${tokens.sign('u1', 's1').token}` };
    expect(await codeOf(() => guard.canActivate(context(request(bearer))))).toBe('unauthorized');
    expect(await codeOf(() => guard.canActivate(context(request(bearer))))).toBe('unauthorized');
    expect(seen).toEqual(['s1', 's1']);
  });
});
