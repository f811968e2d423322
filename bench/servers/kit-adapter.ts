/**
 * The few places the benchmarks call the kit's services directly (not over HTTP): opening
 * sessions for the load generators and timing identity lookups. Kept in one file so an API change
 * of the kit is one edit here.
 */
import { INestApplication } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SessionService, UserAccount } from '@nest-social-auth/core';
import { randomUUID } from 'node:crypto';
import { AccountLinkingService } from '@nest-social-auth/core';

export interface OpenedSessions {
  /** The kit's access tokens, one per session. */
  access: string[];
  /** Raw refresh tokens, one per session. */
  refresh: string[];
  /**
   * Tokens for the baselines: each kit token's exact header and claims re-signed with the raw
   * secret by jsonwebtoken, so the baseline guards verify tokens of the same shape and size.
   */
  baseline: string[];
  sessionIds: string[];
}

function dataSourceOf(app: INestApplication): DataSource {
  return app.get<DataSource>(getDataSourceToken());
}

/** Creates `count` users (one INSERT) and opens one session for each through the kit's SessionService. */
export async function openSessions(app: INestApplication, count: number, baselineSecret: string): Promise<OpenedSessions> {
  const ds = dataSourceOf(app);
  const userIds = Array.from({ length: count }, () => randomUUID());
  // Through the entity, so it runs on every dialect; in chunks, under any driver's parameter limit.
  for (let i = 0; i < count; i += 500) {
    await ds.getRepository(UserAccount).insert(
      userIds.slice(i, i + 500).map((id, j) => ({ id, email: `bench${i + j}@example.com`, emailCanonical: null, emailVerified: false, displayName: `Bench ${i + j}`, avatarUrl: null, disabled: false })),
    );
  }
  const sessions = app.get(SessionService);
  const access: string[] = new Array(count);
  const refresh: string[] = new Array(count);
  const sessionIds: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const issued = await sessions.open(userIds[i], { provider: 'google', userAgent: 'bench', ip: '127.0.0.1' });
      access[i] = issued.accessToken;
      refresh[i] = issued.refreshToken;
      sessionIds[i] = issued.sessionId;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const jwt = new JwtService();
  const baseline = access.map((token) => {
    const [h, p] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    return jwt.sign(payload, { secret: baselineSecret, algorithm: 'HS256', header: { alg: 'HS256', typ: header.typ, kid: header.kid } });
  });
  return { access, refresh, baseline, sessionIds };
}

/**
 * Times the kit's identity lookup for returning users: `AccountLinkingService.signIn` of an
 * identity that exists (find identity by (provider, subject), load its user). Milliseconds per call.
 */
export async function timeIdentityLookups(app: INestApplication, subjects: string[], issuer: string): Promise<number[]> {
  const linking = app.get(AccountLinkingService);
  const times: number[] = [];
  for (const subject of subjects) {
    const started = process.hrtime.bigint();
    await linking.signIn({ provider: 'google', issuer, subject, email: `${subject}@example.com`, emailVerified: true, displayName: subject, avatarUrl: null });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}
