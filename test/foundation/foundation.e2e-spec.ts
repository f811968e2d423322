import { AUTH_MIGRATIONS } from '@nest-social-auth/core';
import { createTestApp, TestApp } from '../support/test-app';

describe('foundation: the demo on a fresh database', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('GET /health is public and reports the database up', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('GET /me without a token answers 401 with the stable error code', async () => {
    const res = await t.http.get('/me').expect(401);
    expect(res.body).toEqual({ statusCode: 401, error: 'unauthorized', message: expect.any(String) });
  });

  it('migrations create every table of the module', async () => {
    const tables = (await t.dataSource.query(listTablesSql(t.database.kind))).map((r: Record<string, string>) => Object.values(r)[0]);
    for (const table of ['auth_users', 'auth_identities', 'auth_sessions', 'auth_refresh_tokens', 'auth_single_use', 'auth_audit_events']) {
      expect(tables).toContain(table);
    }
    const ran = await t.dataSource.query('SELECT name FROM migrations');
    expect(ran.map((r: { name: string }) => r.name)).toEqual(AUTH_MIGRATIONS.map((m) => new m().name ?? m.name));
  });

  it('the migrated schema is exactly what the entities describe (no drift)', async () => {
    const pending = await t.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });
});

function listTablesSql(kind: string): string {
  if (kind === 'postgres') return "SELECT tablename FROM pg_tables WHERE schemaname = 'public'";
  if (kind === 'mariadb') return 'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()';
  return "SELECT name FROM sqlite_master WHERE type = 'table'";
}
