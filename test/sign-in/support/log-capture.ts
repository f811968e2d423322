import { ConsoleLogger, Logger } from '@nestjs/common';

/**
 * Captures everything the process writes while a test file runs: `process.stdout` and
 * `process.stderr` (where Nest's ConsoleLogger writes) and `console.*` (which Jest would
 * otherwise buffer on its own), so threat model I4 can assert on every log line. Captured output is
 * not forwarded, so the suite stays quiet.
 *
 * `@nestjs/testing` replaces Nest's logger with one that drops everything but errors; call
 * {@link LogCapture.verboseNestLogger} after the app is created so every level (log, warn, debug,
 * verbose) is printed, and therefore checked.
 */
export class LogCapture {
  private readonly chunks: string[] = [];
  private restore: Array<() => void> = [];

  start(): this {
    const capture = (chunk: unknown) => this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        capture(chunk);
        const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }) as typeof stream.write;
      this.restore.push(() => {
        stream.write = original;
      });
    }
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[level];
      console[level] = (...args: unknown[]) => {
        capture(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      };
      this.restore.push(() => {
        console[level] = original;
      });
    }
    return this;
  }

  /** Makes Nest print every log level (the testing module silences all but errors). */
  verboseNestLogger(): this {
    Logger.overrideLogger(new ConsoleLogger({ logLevels: ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] }));
    return this;
  }

  stop(): void {
    for (const undo of this.restore.reverse()) undo();
    this.restore = [];
  }

  /** Everything captured so far. */
  get text(): string {
    return this.chunks.join('');
  }
}
