import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityTarget } from 'typeorm';
import { AuditEvent } from '../entities/audit-event.entity';
import { AuthSession } from '../entities/auth-session.entity';
import { ExternalIdentity } from '../entities/external-identity.entity';
import { RefreshToken } from '../entities/refresh-token.entity';
import { SingleUseMarker } from '../entities/single-use-marker.entity';
import { MachineClient } from '../entities/machine-client.entity';
import { UserAccount } from '../entities/user-account.entity';
import { AuthSetupError } from '../errors/auth.error';
import { TypeOrmUserStore } from '../linking/typeorm-user.store';
import { MachineClientStore } from '../machine-clients/machine-client-store.port';
import { TypeOrmMachineClientStore } from '../machine-clients/typeorm-machine-client.store';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthUserStore } from '../linking/user-store.port';
import { SingleUseStore } from '../transaction/single-use.store';
import { TypeOrmSingleUseStore } from '../transaction/typeorm-single-use.store';
import { AuthDatabase } from './auth-database';

/**
 * Refuses to start when the module's tables are missing (the host did not add `AUTH_MIGRATIONS`
 * or did not run them), instead of failing at the first sign-in with a driver error.
 *
 * Invariants:
 * - Runs at `onApplicationBootstrap`, after every provider exists (TypeORM's `migrationsRun`
 *   migrates while its DataSource is created) and after every `onModuleInit` (a host that runs
 *   migrations there), so it sees the schema the app will run with.
 * - Required: every table of the module's migrations, except `auth_users` when the host's
 *   `userStore` keeps users elsewhere and `auth_single_use` when its `singleUseStore` does;
 *   `auth_machine_clients` only with `machineClients.enabled` and the default machine-client store
 *   (a host without machine clients never needs that table).
 * - One cheap lookup per table (`QueryRunner.hasTable`, on every supported database); nothing is
 *   created or changed. A DataSource the host initialises itself later (`manualInitialization`)
 *   is not checked.
 * @internal
 */
@Injectable()
export class AuthSchemaCheck implements OnApplicationBootstrap {
  constructor(
    private readonly db: AuthDatabase,
    @Inject(AuthUserStore) private readonly users: AuthUserStore,
    @Inject(SingleUseStore) private readonly singleUse: SingleUseStore,
    @Inject(MachineClientStore) private readonly machineClients: MachineClientStore,
    @InjectAuthOptions() private readonly options: Pick<ResolvedAuthOptions, 'machineClients'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const machineClients = this.options.machineClients.enabled && this.machineClients instanceof TypeOrmMachineClientStore;
    await assertAuthTables(this.db.dataSource, requiredEntities(this.users, this.singleUse, machineClients));
  }
}

/** The entities whose tables the module reads and writes with these stores. @internal */
export function requiredEntities(users: AuthUserStore, singleUse: SingleUseStore, machineClients = false): EntityTarget<object>[] {
  return [
    ...(users instanceof TypeOrmUserStore ? [UserAccount] : []),
    ExternalIdentity,
    AuthSession,
    RefreshToken,
    ...(singleUse instanceof TypeOrmSingleUseStore ? [SingleUseMarker] : []),
    AuditEvent,
    ...(machineClients ? [MachineClient] : []),
  ];
}

/**
 * Throws {@link AuthSetupError} naming what is missing: entities the DataSource does not know
 * (`AUTH_ENTITIES` not listed) or tables the database does not have (migrations not run).
 * @internal
 */
export async function assertAuthTables(dataSource: DataSource, entities: EntityTarget<object>[]): Promise<void> {
  if (!dataSource.isInitialized) return;
  const unknown = entities.filter((e) => !dataSource.hasMetadata(e)).map((e) => (e as { name: string }).name);
  if (unknown.length > 0) {
    throw new AuthSetupError(
      `The TypeORM DataSource does not know the entities ${unknown.join(', ')} of @nest-social-auth/core: add AUTH_ENTITIES to its \`entities\` (or set \`autoLoadEntities: true\`).`,
    );
  }
  const missing: string[] = [];
  const runner = dataSource.createQueryRunner();
  try {
    for (const entity of entities) {
      const metadata = dataSource.getMetadata(entity);
      if (!(await runner.hasTable(metadata.tablePath))) missing.push(metadata.tableName);
    }
  } finally {
    await runner.release();
  }
  if (missing.length > 0) {
    throw new AuthSetupError(
      `The database has no table ${missing.join(', ')} of @nest-social-auth/core: add AUTH_MIGRATIONS to TypeORM's \`migrations\` with \`migrationsRun: true\`, or run them before the app starts.`,
    );
  }
}
