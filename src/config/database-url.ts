// Kept free of library imports so the demo can validate its environment before loading the app.

/** The database kinds the demo supports, by `DATABASE_URL` scheme. */
export type DatabaseKind = 'sqlite' | 'postgres' | 'mariadb';

/** Thrown for a `DATABASE_URL` the demo cannot use; the message names the variable. */
export class DatabaseUrlError extends Error {}

/** The database kind of a `DATABASE_URL`, or a {@link DatabaseUrlError} naming the variable. */
export function databaseKind(url: string): DatabaseKind {
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite':
      return 'sqlite';
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case 'mysql':
    case 'mariadb':
      return 'mariadb';
    default:
      throw new DatabaseUrlError(`DATABASE_URL has an unsupported scheme "${scheme ?? url.slice(0, 12)}": use sqlite:, postgres:// or mysql:// (MariaDB)`);
  }
}

/**
 * Checks a `DATABASE_URL` completely (scheme, URL syntax, database name) without connecting, so
 * start-up can refuse it before loading anything else.
 */
export function validateDatabaseUrl(url: string): DatabaseKind {
  const kind = databaseKind(url);
  if (kind === 'sqlite') {
    if (!url.slice('sqlite:'.length)) throw new DatabaseUrlError('DATABASE_URL: sqlite URL needs a path, e.g. sqlite:./data/app.sqlite');
    return kind;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError('DATABASE_URL is not a valid URL');
  }
  if (!parsed.pathname.replace(/^\//, '')) {
    throw new DatabaseUrlError('DATABASE_URL must name a database, e.g. postgres://postgres@127.0.0.1:5432/app');
  }
  return kind;
}
