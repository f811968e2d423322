import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * A provider account linked to a local user.
 *
 * Invariant: the identity key is `(provider, subject)`, unique in the database: Google's `sub`,
 * GitHub's numeric id. Email, login and name are mutable attributes refreshed on sign-in and never
 * used to find an identity. The unique constraint is what makes concurrent first sign-ins of the
 * same identity end in one row.
 * @publicApi
 */
@Entity({ name: 'auth_identities' })
@Unique('UQ_auth_identities_provider_subject', ['provider', 'subject'])
export class ExternalIdentity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /**
   * Id of the local user, as the bound `AuthUserStore` knows it. No foreign key: a host may keep
   * its users in its own table, so the user store (not the schema) owns referential cleanup.
   */
  @Index('IDX_auth_identities_user')
  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  /** Provider id as configured (`google`, `github`). */
  @Column({ type: 'varchar', length: 64 })
  provider!: string;

  /** The issuer the identity was asserted by (OIDC `iss`; for GitHub its API base). */
  @Column({ type: 'varchar', length: 255 })
  issuer!: string;

  /** The provider's immutable user id: OIDC `sub` (≤ 255 ASCII) or GitHub's numeric id. */
  @Column({ type: 'varchar', length: 255 })
  subject!: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ name: 'display_name', type: 'varchar', length: 200, nullable: true })
  displayName!: string | null;

  @CreateDateColumn({ name: 'linked_at' })
  linkedAt!: Date;

  @Column({ name: 'last_login_at', type: Date, nullable: true })
  lastLoginAt!: Date | null;
}
