import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The app's own users: the `members` table (created by CreateMembers, not by synchronize). */
@Entity({ name: 'members' })
export class Member {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  /** Canonical form of a verified email (NewLocalUser.emailCanonical), null otherwise. */
  @Column({ name: 'email_key', type: 'varchar', length: 320, nullable: true })
  emailKey: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified: boolean;

  @Column({ name: 'display_name', type: 'varchar', length: 200, nullable: true })
  displayName: string | null;

  @Column({ name: 'avatar_url', type: 'varchar', length: 2048, nullable: true })
  avatarUrl: string | null;

  @Column({ type: 'boolean', default: false })
  suspended: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
