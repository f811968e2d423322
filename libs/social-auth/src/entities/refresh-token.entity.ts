import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One refresh token of a session's rotation chain.
 *
 * Invariant: only a SHA-256 hash of the token is stored (`tokenHash`); the raw value exists only
 * in the client's hands. `usedAt` marks a rotated token; presenting it again outside the grace
 * window revokes the whole session. `successorSealed` holds the successor token encrypted with a
 * server key for the grace window only, so a parallel duplicate refresh gets the *same* successor.
 * @publicApi
 */
@Entity({ name: 'auth_refresh_tokens' })
export class RefreshToken {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('IDX_auth_refresh_tokens_session')
  @Column({ name: 'session_id', type: 'varchar', length: 36 })
  sessionId!: string;

  @Index('UQ_auth_refresh_tokens_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash!: string;

  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'successor_id', type: 'varchar', length: 36, nullable: true })
  successorId!: string | null;

  @Column({ name: 'successor_sealed', type: 'varchar', length: 255, nullable: true })
  successorSealed!: string | null;
}
