import { createHash } from 'node:crypto';
import type { Logger, QueryRunner } from 'typeorm';

/**
 * A TypeORM logger that counts every statement the app sends (BEGIN/COMMIT included) and, while
 * recording, keeps their text. Parameters are never kept: they can hold token hashes and emails.
 */
export class SqlCounter implements Logger {
  count = 0;
  private recording: string[] | null = null;
  private fingerprints: string[] = [];

  startRecording(): void {
    this.count = 0;
    this.recording = [];
    this.fingerprints = [];
  }

  /**
   * The recorded statements (shortened for display) and a fingerprint of each one's whole text
   * (whitespace collapsed), so two routes can be checked to send the very same statements.
   */
  stopRecording(): { count: number; statements: string[]; fingerprints: string[] } {
    const statements = this.recording ?? [];
    this.recording = null;
    return { count: statements.length, statements, fingerprints: this.fingerprints };
  }

  logQuery(query: string, _parameters?: unknown[], _queryRunner?: QueryRunner): void {
    this.count++;
    if (this.recording) {
      this.recording.push(normalise(query));
      this.fingerprints.push(createHash('sha256').update(query.replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 16));
    }
  }

  logQueryError(error: string | Error, query: string): void {
    if (this.recording) this.recording.push(`ERROR ${normalise(query)}: ${typeof error === 'string' ? error : error.message}`);
  }

  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') console.error(`typeorm: ${String(message)}`);
  }
}

/** One line, quoted identifiers unquoted, column lists shortened: enough to tell statements apart. */
function normalise(query: string): string {
  return query
    .replace(/\s+/g, ' ')
    .replace(/"/g, '')
    .replace(/SELECT (.{60}).*? FROM/, 'SELECT $1… FROM')
    .trim()
    .slice(0, 220);
}
