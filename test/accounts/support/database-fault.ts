import type { DataSource } from 'typeorm';

/**
 * A fault inside PostgreSQL for threat model I3: a trigger that fails the identity insert of
 * `email` once. PostgreSQL writes a new user and its first identity in one statement, which no
 * TypeORM subscriber sees, so the subscriber faults of the other dialects cannot reach it; this
 * one fails that very statement, after its user insert. The sequence counts attempts and, unlike
 * the failed statement, is not rolled back. Returns how many times the fault fired.
 */
export async function installIdentityInsertFault(dataSource: DataSource, email: string): Promise<() => Promise<number>> {
  if (!/^[a-z0-9.@-]+$/.test(email)) throw new Error('test email must be plain');
  const name = `test_fault_${email.replace(/[^a-z0-9]/g, '_')}`;
  await dataSource.query(`CREATE SEQUENCE ${name}_seq`);
  await dataSource.query(`
    CREATE FUNCTION ${name}() RETURNS trigger AS $$
    BEGIN
      IF NEW.email = '${email}' AND nextval('${name}_seq') = 1 THEN
        RAISE EXCEPTION 'injected fault: connection lost while inserting %', NEW.email;
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await dataSource.query(`CREATE TRIGGER ${name} BEFORE INSERT ON auth_identities FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return async () => {
    const [row] = (await dataSource.query(`SELECT last_value, is_called FROM ${name}_seq`)) as Array<{ last_value: string; is_called: boolean }>;
    return row.is_called ? Number(row.last_value) : 0;
  };
}
