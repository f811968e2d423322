import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Single-use markers (consumed OAuth transactions, one-time codes), shared by every instance.
 *
 * Invariant: the primary key makes "consume" an atomic insert; a second insert of the same key
 * fails, which is how a replayed callback is refused even on another instance.
 * @publicApi
 */
@Entity({ name: 'auth_single_use' })
export class SingleUseMarker {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  key!: string;

  @Index('IDX_auth_single_use_expires')
  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;
}
