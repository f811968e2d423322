import { Injectable } from '@nestjs/common';
import { AuthDatabase } from '../database/auth-database';
import { MachineClient } from '../entities/machine-client.entity';
import type { MachineClientRecord, MachineClientStore } from './machine-client-store.port';

/**
 * Default {@link MachineClientStore}: the `auth_machine_clients` table. Writes go through
 * {@link AuthDatabase.transaction} (serialised on SQLite's shared connection).
 * @publicApi
 */
@Injectable()
export class TypeOrmMachineClientStore implements MachineClientStore {
  constructor(private readonly db: AuthDatabase) {}

  async findById(id: string): Promise<MachineClientRecord | null> {
    const row = await this.db.dataSource.manager.findOne(MachineClient, { where: { id } });
    return row ? toRecord(row) : null;
  }

  async insert(client: MachineClientRecord): Promise<void> {
    await this.db.transaction((m) => m.insert(MachineClient, toRow(client)));
  }

  async update(client: MachineClientRecord): Promise<boolean> {
    const { id, ...fields } = toRow(client);
    const result = await this.db.transaction((m) => m.update(MachineClient, { id }, fields));
    return (result.affected ?? 0) > 0;
  }
}

function toRow(client: MachineClientRecord): Omit<MachineClient, 'createdAt' | 'updatedAt'> {
  return {
    id: client.id,
    name: client.name,
    scopes: client.scopes.join(' '),
    enabled: client.enabled,
    secretHash: client.secretHash,
    previousSecretHash: client.previousSecretHash,
    jwks: client.jwks ? JSON.stringify(client.jwks) : null,
    jwksUri: client.jwksUri,
  };
}

function toRecord(row: MachineClient): MachineClientRecord {
  let jwks: { keys: object[] } | null = null;
  if (row.jwks) {
    try {
      jwks = JSON.parse(row.jwks) as { keys: object[] };
    } catch {
      jwks = null;
    }
  }
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes ? row.scopes.split(' ').filter(Boolean) : [],
    // MariaDB's tinyint arrives as a number on some drivers.
    enabled: Boolean(row.enabled),
    secretHash: row.secretHash,
    previousSecretHash: row.previousSecretHash,
    jwks,
    jwksUri: row.jwksUri,
  };
}
