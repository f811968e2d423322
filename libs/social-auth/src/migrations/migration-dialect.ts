import type { QueryRunner } from 'typeorm';

/** SQL dialects the module ships migrations for. @internal */
export type MigrationDialect = 'sqlite' | 'postgres' | 'mysql';

/** @internal Statements of one migration, per dialect, generated from the entities by `scripts/generate-auth-migration.ts`. */
export type DialectStatements = Record<MigrationDialect, string[]>;

/**
 * Runs the statements for the query runner's database. An unsupported database fails loudly
 * instead of half-creating a schema.
 * @internal
 */
export async function runDialectStatements(queryRunner: QueryRunner, statements: DialectStatements): Promise<void> {
  for (const sql of statements[dialectOf(queryRunner)]) await queryRunner.query(sql);
}

/** @internal */
export function dialectOf(queryRunner: QueryRunner): MigrationDialect {
  const type = queryRunner.connection.options.type;
  switch (type) {
    case 'better-sqlite3':
    case 'sqljs':
      return 'sqlite';
    case 'postgres':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mysql';
    default:
      throw new Error(`@nest-social-auth/core ships migrations for SQLite, PostgreSQL and MySQL/MariaDB, not for "${type}"`);
  }
}
