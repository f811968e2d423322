import { SessionService, TypeOrmSingleUseStore } from '@nest-social-auth/core';
import { DataSource, QueryRunner } from 'typeorm';

/** BEGIN/COMMIT and friends: round trips, but no data work. */
export const TRANSACTION_CONTROL = /^(START TRANSACTION|BEGIN|BEGIN TRANSACTION|COMMIT|ROLLBACK)\b/i;

/**
 * Every statement `dataSource` sends while `work` runs (text only, whitespace collapsed), counted
 * at the query runner, where TypeORM sends transaction control too. The background clean-ups
 * (the single-use store's sweep of expired markers, the purge of ended sessions) are switched off
 * meanwhile: they are not part of any request and would land in a count at random. Call `jest.restoreAllMocks()` after the test.
 */
export async function statementsOf(dataSource: DataSource, work: () => Promise<unknown>): Promise<string[]> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  const proto = Object.getPrototypeOf(runner) as QueryRunner;
  await runner.release();
  quietBackgroundWork();
  const seen: string[] = [];
  let recording = true;
  const query = proto.query;
  jest.spyOn(proto, 'query').mockImplementation(function (this: QueryRunner, sql: string, ...rest: unknown[]) {
    if (recording) seen.push(sql.replace(/\s+/g, ' ').trim());
    return (query as (...a: unknown[]) => Promise<unknown>).call(this, sql, ...rest) as never;
  });
  try {
    await work();
  } finally {
    recording = false;
  }
  return seen;
}

/**
 * Switches off the background clean-ups (the single-use sweep, the purge of ended sessions) until
 * `jest.restoreAllMocks()`. {@link statementsOf} does it for its own window, but a clean-up that an
 * earlier request of the file started can still be running then (on a loaded machine it was, and
 * its statements landed in the count): files that count statements call this in `beforeEach`, so
 * none starts at all.
 */
export function quietBackgroundWork(): void {
  jest.spyOn(TypeOrmSingleUseStore.prototype as unknown as { sweep(): void }, 'sweep').mockImplementation(() => undefined);
  jest.spyOn(SessionService.prototype as unknown as { purgeInBackground(): void }, 'purgeInBackground').mockImplementation(() => undefined);
}
