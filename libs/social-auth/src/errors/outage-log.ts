import type { Logger } from '@nestjs/common';

/**
 * The log of one dependency's outages (the rate-limit store, the database): one error line when it
 * becomes unreachable and one line when it is back, never a line per failed request, never a stack.
 * @internal
 */
export class OutageLog {
  private down = false;

  constructor(private readonly logger: Pick<Logger, 'error' | 'log'>) {}

  /** Whether the last report was a failure. */
  get isDown(): boolean {
    return this.down;
  }

  /** Reports a failure; logs `line` only when the dependency was up until now. Answers whether it logged. */
  failed(line: () => string): boolean {
    if (this.down) return false;
    this.down = true;
    this.logger.error(line());
    return true;
  }

  /** Reports a success; logs `line` only when the dependency was down until now. */
  recovered(line: string): void {
    if (!this.down) return;
    this.down = false;
    this.logger.log(line);
  }
}

/**
 * A failure in one line for the log: the error's class, its code and the first line of its message,
 * with anything shaped like URL credentials removed (a driver message may quote its connection URL).
 * @internal
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  const line = (error.message ?? '').split('\n')[0].replace(/[a-z][a-z0-9+.-]*:\/\/[^\s/@]*@/gi, '').slice(0, 120);
  return [error.name, typeof code === 'string' && /^[A-Z0-9_]{2,32}$/.test(code) ? code : '', line ? `"${line}"` : ''].filter(Boolean).join(' ');
}
