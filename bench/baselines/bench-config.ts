/** Injection token of the benchmark server's configuration. */
export const BENCH_CONFIG = Symbol('BENCH_CONFIG');

/** What a benchmark server child is told to be (JSON in BENCH_SERVER_CONFIG). */
export interface BenchServerConfig {
  /** `postgres://…`, `mysql://…` or `sqlite:<file>` (the demo's DATABASE_URL forms). */
  databaseUrl: string;
  /**
   * Nest's HTTP platform.
   * @default 'express'
   */
  platform?: 'express' | 'fastify';
  /** HS256 secret shared by the kit and both baselines, so all three verify the same tokens. */
  secret: string;
  /** appUrl of the module, also the tokens' `iss` and `aud`. Its port is the one the server listens on. */
  appUrl: string;
  port: number;
  /** Size of the TypeORM (pg) pool. */
  poolSize: number;
  google?: { issuer: string; authorizationURL: string; tokenURL: string; userInfoURL: string; jwksURL: string; discoveryURL: string; clientId: string; clientSecret: string };
  /**
   * `synchronous_commit` of the app's connections; 'off' trades the durability of the last few
   * hundred milliseconds of commits on a server crash for not waiting on a WAL flush per commit.
   * @default the server's setting (on)
   */
  synchronousCommit?: 'on' | 'off';
  github?: { authorizationURL: string; tokenURL: string; apiURL: string; clientId: string; clientSecret: string };
}
