import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AuthError } from '../errors/auth.error';
import { OutageLog, describeFailure } from '../errors/outage-log';
import { AuthDatabase } from './auth-database';
import { isDatabaseUnreachable } from './database-errors';

/**
 * Turns "the database cannot be reached" into `503 service_unavailable` with `Retry-After`, the way
 * `AuthThrottlerGuard` treats its counter store: one log line when the outage starts, one when the
 * database answers again, none per request and no stack.
 *
 * Invariants:
 * - Only errors {@link isDatabaseUnreachable} recognises become 503; a failed statement stays a 500.
 * - While down, a probe (`SELECT 1`, every {@link DatabaseAvailability.probeIntervalMs}, off the
 *   event loop's keep-alive) notices the recovery even when no request comes; the first success
 *   logs the recovery line. The probe stops with the module.
 * @publicApi
 */
@Injectable()
export class DatabaseAvailability implements OnModuleDestroy {
  private static readonly log = new Logger('AuthDatabase');
  /** Seconds a client is told to wait while the database is unreachable. */
  readonly retryAfterSeconds = 5;
  /** Milliseconds between two probes while the database is down. */
  protected probeIntervalMs = 1000;
  private readonly outage = new OutageLog(DatabaseAvailability.log);
  private probe: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly db: AuthDatabase) {}

  /** Whether the database is taken to be unreachable (from the last failure until a probe succeeds). */
  get isDown(): boolean {
    return this.outage.isDown;
  }

  /**
   * `503 service_unavailable` with `Retry-After` when `error` says the database cannot be reached
   * (logging the outage once and watching for the recovery), else undefined: the caller handles
   * `error` as it would have.
   */
  unavailable(error: unknown): AuthError | undefined {
    if (!isDatabaseUnreachable(error)) return undefined;
    this.outage.failed(() => `database unreachable (${describeFailure(error)}): answering 503 service_unavailable until it is back`);
    this.scheduleProbe();
    return new AuthError('service_unavailable', { cause: error, headers: { 'Retry-After': String(this.retryAfterSeconds) } });
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = undefined;
  }

  private scheduleProbe(): void {
    if (this.probe || this.stopped) return;
    this.probe = setTimeout(() => void this.runProbe(), this.probeIntervalMs);
    this.probe.unref();
  }

  private async runProbe(): Promise<void> {
    try {
      await this.db.dataSource.query('SELECT 1');
      this.probe = undefined;
      this.outage.recovered('database reachable again');
    } catch {
      this.probe = undefined;
      this.scheduleProbe();
    }
  }
}
