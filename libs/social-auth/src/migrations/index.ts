import type { MigrationInterface } from 'typeorm';
import { SocialAuthInitial1795608402002 } from './1795608402002-social-auth-initial';
import { SocialAuthPurgeIndexes1796000000002 } from './1796000000002-social-auth-purge-indexes';
import { SocialAuthMachineClients1796000000003 } from './1796000000003-social-auth-machine-clients';

/**
 * The module's migrations, oldest first, for the host's TypeORM `migrations` list.
 * Each runs the statements of the connection's dialect (SQLite, PostgreSQL, MySQL/MariaDB).
 * @publicApi
 */
export const AUTH_MIGRATIONS: Array<new () => MigrationInterface> = [SocialAuthInitial1795608402002, SocialAuthPurgeIndexes1796000000002, SocialAuthMachineClients1796000000003];
