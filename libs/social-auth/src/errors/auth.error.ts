import { HttpException } from '@nestjs/common';
import { AUTH_ERROR_CODES, AuthErrorCode } from './auth-error-codes';

/** The JSON body of every error answer: `{ statusCode, error, message }`. @publicApi */
export interface AuthErrorBody {
  statusCode: number;
  error: AuthErrorCode;
  message: string;
}

/**
 * The one error type the module throws for expected failures. It carries a stable
 * {@link AuthErrorCode} and extends `HttpException`, so Nest's own exception layer
 * answers `{ statusCode, error, message }` on any route of the host app, even one
 * without the module's filter. `cause` is kept for server-side diagnosis and is
 * never serialised.
 * @publicApi
 */
export class AuthError extends HttpException {
  constructor(
    readonly code: AuthErrorCode,
    options?: { message?: string; cause?: unknown; headers?: Record<string, string> },
  ) {
    const { status, message } = AUTH_ERROR_CODES[code];
    const body: AuthErrorBody = { statusCode: status, error: code, message: options?.message ?? message };
    super(body, status, { cause: options?.cause });
    this.name = 'AuthError';
    this.headers = options?.headers ?? {};
  }

  /** Extra response headers (for example `Retry-After`). */
  readonly headers: Record<string, string>;

  /** The JSON body sent to the client. */
  get body(): AuthErrorBody {
    return this.getResponse() as AuthErrorBody;
  }
}

/**
 * Thrown at boot when the module's options are wrong. The message names the option.
 * @publicApi
 */
export class InvalidAuthOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAuthOptionsError';
  }
}

/**
 * Thrown at boot when the app around the module cannot run it: the module's tables are missing,
 * `AuthModule` is imported twice, the HTTP platform is not supported, or its routes are served
 * where its cookies cannot follow them. The message says what to change.
 * @publicApi
 */
export class AuthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthSetupError';
  }
}
