/**
 * Captures everything the process writes while a test file runs: `process.stdout` and
 * `process.stderr` (where Nest's ConsoleLogger writes) and `console.*` (which Jest would
 * otherwise buffer on its own), so SECURITY I4 can assert on every log line.
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
        return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
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

  stop(): void {
    for (const undo of this.restore.reverse()) undo();
    this.restore = [];
  }

  /** Everything captured so far. */
  get text(): string {
    return this.chunks.join('');
  }
}
