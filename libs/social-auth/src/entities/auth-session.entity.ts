import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One sign-in on one device: the refresh-token family. Its id is the access token's `sid`.
 *
 * Invariant: a session is live only while `revokedAt` is null and both `idleExpiresAt` and
 * `absoluteExpiresAt` are in the future; revoking it kills every refresh token of the family
 * and, within the guard's revocation bound, every access token carrying its `sid`.
 * @publicApi
 */
@Entity({ name: 'auth_sessions' })
export class AuthSession {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('IDX_auth_sessions_user')
  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  /** Provider used to sign in (`google`, `github`), for the sessions list. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  provider!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 255, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: Date })
  lastUsedAt!: Date;

  /** Never later than `absoluteExpiresAt` (every write takes the earlier of the two), so the purge scan needs no index of its own on that column. */
  @Index('IDX_auth_sessions_idle_expires')
  @Column({ name: 'idle_expires_at', type: Date })
  idleExpiresAt!: Date;

  @Column({ name: 'absolute_expires_at', type: Date })
  absoluteExpiresAt!: Date;

  @Index('IDX_auth_sessions_revoked')
  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'varchar', length: 32, nullable: true })
  revokedReason!: string | null;
}
