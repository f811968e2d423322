import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * A machine client of the client-credentials grant (a billing worker, a partner integration).
 *
 * Invariants:
 * - Secrets are stored only as scrypt hashes (`scrypt$N$r$p$salt$hash`); `secret_hash` is the
 *   current one, `previous_secret_hash` the one it replaced, still accepted until retired, so a
 *   rotation needs no downtime. Both null: the client authenticates with `private_key_jwt` only.
 * - `scopes` is the space-separated set of scopes the client may be granted (RFC 6749 §3.3).
 * - A client that is not `enabled` gets no token, and its tokens stop passing the guard within
 *   `tokens.revocationCacheTtl` seconds.
 * @publicApi
 */
@Entity({ name: 'auth_machine_clients' })
export class MachineClient {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 2000 })
  scopes!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'secret_hash', type: 'varchar', length: 255, nullable: true })
  secretHash!: string | null;

  @Column({ name: 'previous_secret_hash', type: 'varchar', length: 255, nullable: true })
  previousSecretHash!: string | null;

  /** Public keys for `private_key_jwt`, as a JWK Set (JSON text). */
  @Column({ type: 'text', nullable: true })
  jwks!: string | null;

  /** Where the client publishes its JWK Set for `private_key_jwt`. */
  @Column({ name: 'jwks_uri', type: 'varchar', length: 2048, nullable: true })
  jwksUri!: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
