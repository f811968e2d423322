import type { Logger } from '@nestjs/common';
import { isUniqueViolation } from '../database/auth-database';
import { AuthError } from '../errors/auth.error';

/** Attempts of one account operation before a lost race is reported as a failure. */
const MAX_ATTEMPTS = 3;

/**
 * Runs `transaction` (one whole `AuthDatabase.transaction`) and re-runs it, from a fresh
 * transaction, when it lost a race: a unique violation (another request inserted the same
 * identity first) or a deadlock/serialisation failure. The re-run reads the winner's committed
 * rows and decides again, so it ends in the same account, or in the refusal the policy gives.
 *
 * Invariant: every other failure becomes `AuthError('internal_error')` with the original as
 * `cause` (never serialised); the log line names only the error class and driver code, because
 * driver messages quote statement parameters (emails, names).
 * @internal
 */
export async function runWithRetry<T>(logger: Logger, operation: string, transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (attempt < MAX_ATTEMPTS && isLostRace(error)) continue;
      logger.error(`${operation} failed and was rolled back: ${describe(error)}`);
      throw new AuthError('internal_error', { cause: error });
    }
  }
}

/** A unique violation, deadlock or serialisation failure: the transaction may succeed if re-run. @internal */
export function isLostRace(error: unknown): boolean {
  if (isUniqueViolation(error)) return true;
  const e = error as { code?: string; errno?: number; driverError?: { code?: string; errno?: number } } | null;
  const code = e?.driverError?.code ?? e?.code;
  const errno = e?.driverError?.errno ?? e?.errno;
  // PostgreSQL deadlock_detected / serialization_failure; MariaDB ER_LOCK_DEADLOCK.
  return code === '40P01' || code === '40001' || code === 'ER_LOCK_DEADLOCK' || errno === 1213;
}

function describe(error: unknown): string {
  const e = error as { driverError?: { code?: string }; code?: string } | null;
  const code = e?.driverError?.code ?? e?.code;
  const name = error instanceof Error ? error.constructor.name : typeof error;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/i.test(code) ? `${name} (${code})` : name;
}
