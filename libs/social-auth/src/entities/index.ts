import { AuditEvent } from './audit-event.entity';
import { AuthSession } from './auth-session.entity';
import { SingleUseMarker } from './single-use-marker.entity';
import { ExternalIdentity } from './external-identity.entity';
import { MachineClient } from './machine-client.entity';
import { RefreshToken } from './refresh-token.entity';
import { UserAccount } from './user-account.entity';

export { AuditEvent, AuthSession, ExternalIdentity, MachineClient, RefreshToken, SingleUseMarker, UserAccount };

/**
 * Every entity of the module, for the host's TypeORM `entities` list.
 * @publicApi
 */
export const AUTH_ENTITIES = [UserAccount, ExternalIdentity, AuthSession, RefreshToken, SingleUseMarker, AuditEvent, MachineClient];
