import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, Optional } from '@nestjs/common';
import type { AuthResponse } from '../platform/auth-http';
import { AuthHttpPlatform, authHttpOf } from '../platform/auth-http.provider';
import { DatabaseAvailability } from '../database/database-availability';
import { AUTH_ERROR_CODES, AuthErrorCode } from './auth-error-codes';
import { AuthError } from './auth.error';

const STATUS_CODES: Partial<Record<number, AuthErrorCode>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'unauthorized',
  404: 'not_found',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/**
 * Turns any error into the module's JSON error shape `{ statusCode, error, message }`.
 *
 * Invariant: nothing from an unexpected error (message, stack, SQL, parameters) reaches
 * the client or the log line, because driver and HTTP-client errors may quote codes,
 * tokens or secrets. Only the error's class name is logged. A database that cannot be reached
 * answers `503 service_unavailable` with `Retry-After` and is logged once per outage
 * ({@link DatabaseAvailability}), not once per request.
 * @publicApi
 */
@Catch()
export class AuthErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('AuthErrorFilter');

  /**
   * `http`: the app's platform seam; a filter built by hand (`new AuthErrorFilter()`) recognises the
   * response by its shape. `database`: turns an unreachable database into 503 (without it, a 500).
   */
  constructor(
    @Optional() private readonly http?: AuthHttpPlatform,
    @Optional() private readonly database?: DatabaseAvailability,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<AuthResponse>();
    const http = this.http ?? authHttpOf(response);
    if (http.headersSent(response)) return;
    // The module's own errors keep their meaning (a provider that is down is provider_unavailable).
    const error = (!(exception instanceof HttpException) && this.database?.unavailable(exception)) || toAuthError(exception);
    if (error.getStatus() >= 500 && !(exception instanceof AuthError) && error.code !== 'service_unavailable') {
      this.logger.error(`unexpected ${describe(exception)} answered as ${error.code}`);
    }
    for (const [name, value] of Object.entries(error.headers)) http.setHeader(response, name, value);
    http.send(response, error.getStatus(), error.body);
  }
}

/** Maps an arbitrary thrown value to an {@link AuthError} without leaking its details. */
export function toAuthError(exception: unknown): AuthError {
  if (exception instanceof AuthError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request');
    const headers: Record<string, string> = {};
    if (status === HttpStatus.TOO_MANY_REQUESTS) {
      const retryAfter = (exception as { retryAfter?: number }).retryAfter;
      if (retryAfter) headers['Retry-After'] = String(retryAfter);
    }
    return new AuthError(code, { cause: exception, message: AUTH_ERROR_CODES[code].message, headers });
  }
  return new AuthError('internal_error', { cause: exception });
}

function describe(exception: unknown): string {
  return exception instanceof Error ? exception.constructor.name : typeof exception;
}
