import { Injectable, Logger, OnModuleInit, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthDatabase } from '../database/auth-database';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuditEvent } from '../entities/audit-event.entity';
import { isAuthErrorCode } from '../errors/auth-error-codes';
import { AuthEvent, AuthEventContext, SignInFailedEvent } from './auth.events';

/**
 * Publishes the module's domain events: to `EventEmitter2` when the host registered
 * `EventEmitterModule.forRoot()`, and to the `auth_audit_events` table when `linking.audit` is on.
 *
 * `@nestjs/event-emitter` is an optional peer: it is looked up once at start-up and never
 * imported at load time, so requiring the module works in an app that has not installed it.
 *
 * Invariants:
 * - Events are published after the transaction they describe has committed, so no listener or
 *   audit row ever sees a user or identity that was rolled back.
 * - Audit rows hold ids, the provider id, an error code and the client IP; never an email, a
 *   token, an authorization code or a provider payload. Values that come from the request (the
 *   route's provider, the code) are kept only when they are a configured provider id or a known
 *   error code, so an attacker cannot write arbitrary text into the audit table.
 * - Publishing never fails the operation that triggered it: a failing listener or audit insert is
 *   logged (class name only) and swallowed. Events are notifications, not vetoes.
 * @publicApi
 */
@Injectable()
export class AuthEvents implements OnModuleInit {
  private readonly logger = new Logger('AuthEvents');
  private emitter: EventSink | undefined;

  constructor(
    private readonly db: AuthDatabase,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Finds the host's `EventEmitter2`, if it installed `@nestjs/event-emitter` and registered its module. */
  onModuleInit(): void {
    this.emitter = this.findEventEmitter();
  }

  private findEventEmitter(): EventSink | undefined {
    let token: Type;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      token = (require('@nestjs/event-emitter') as { EventEmitter2: Type }).EventEmitter2;
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') {
        this.logger.warn(`@nestjs/event-emitter is installed but could not be loaded (${describe(error)}); auth events reach no listener`);
      }
      return undefined;
    }
    try {
      return this.moduleRef.get<EventSink>(token, { strict: false });
    } catch {
      // Installed but EventEmitterModule.forRoot() not registered: there are no listeners.
      return undefined;
    }
  }

  /**
   * Reports a refused sign-in or connect. The OAuth callback calls this for every failure it
   * answers with `?error=<code>`, including the refusals of `AccountLinkingService` (which does
   * not report failures itself, so each failure is reported exactly once).
   * @param provider the provider id from the route; kept only when it is a configured provider
   * @param code the error code shown to the user; unknown codes are recorded as `internal_error`
   * @param details the local user when one is known (a refused connect), and the request context
   */
  signInFailed(provider: string | null, code: string, details: AuthEventContext & { userId?: string | null } = {}): Promise<void> {
    const { userId = null, ...context } = details;
    return this.publish(new SignInFailedEvent(this.knownProvider(provider), isAuthErrorCode(code) ? code : 'internal_error', userId, context));
  }

  /** Audits (when enabled) and emits `events`, in order. Never throws. */
  async publish(...events: AuthEvent[]): Promise<void> {
    if (this.options.linking.audit) await this.audit(events);
    if (!this.emitter) return;
    for (const event of events) {
      try {
        this.emitter.emit(event.name, event);
      } catch (error) {
        this.logger.error(`a listener of ${event.name} threw ${describe(error)}`);
      }
    }
  }

  private async audit(events: AuthEvent[]): Promise<void> {
    const rows = events.map((event) => ({
      id: randomUUID(),
      type: event.name,
      userId: event.subjectUserId,
      provider: clip(event.subjectProvider, 64),
      code: event.subjectCode,
      ip: clip(event.context.ip, 64),
      createdAt: event.occurredAt,
    }));
    try {
      // Through AuthDatabase, so on SQLite the insert never lands inside another request's open
      // transaction (one shared connection) and disappears with its rollback.
      await this.db.transaction((m) => m.insert(AuditEvent, rows));
    } catch (error) {
      this.logger.error(`audit rows for ${events.map((e) => e.name).join(', ')} were not written: ${describe(error)}`);
    }
  }

  /** `provider` when it is an enabled provider id (a built-in block, or an entry of a list of configured providers), else null. */
  private knownProvider(provider: string | null): string | null {
    if (provider === null) return null;
    for (const [key, value] of Object.entries(this.options.providers as Record<string, unknown>)) {
      const known = Array.isArray(value) ? value.some((entry) => (entry as { id?: unknown } | null)?.id === provider) : key === provider && Boolean(value);
      if (known) return provider;
    }
    return null;
  }
}

function clip(value: string | null | undefined, max: number): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

/** The part of `EventEmitter2` the module uses. */
interface EventSink {
  emit(event: string, payload: unknown): unknown;
}
