import type { EntityManager } from 'typeorm';

/**
 * A local account as the module sees it, whatever table the host keeps it in.
 *
 * The flags must be real booleans: the linking policy reads anything but `disabled === false` as
 * disabled and anything but `emailVerified === true` as unverified (fail closed), so map a
 * database's 0/1 before returning.
 * @publicApi
 */
export interface LocalUser {
  id: string;
  email: string | null;
  emailVerified: boolean;
  displayName: string | null;
  avatarUrl: string | null;
  /** A disabled user cannot sign in, and their sessions are rejected. */
  disabled: boolean;
}

/** What the module knows when it creates an account for a new identity. @publicApi */
export interface NewLocalUser {
  /**
   * The provider's email with surrounding whitespace removed and otherwise as given (no case or
   * Unicode normalisation), or null when it is absent, empty, longer than 320 characters or holds
   * a control character; a contact attribute, never a key.
   */
  email: string | null;
  /** True only when the provider verified `email` and it has a canonical form. */
  emailVerified: boolean;
  /**
   * Canonical form of the verified email (see `canonicalEmail()`), or null when the email is not
   * verified. Store it so that `findByVerifiedEmail` can answer by equality.
   */
  emailCanonical: string | null;
  displayName: string | null;
  avatarUrl: string | null;
}

/**
 * Port to the host's users. The default implementation ({@link TypeOrmUserStore}) stores users in
 * the module's `auth_users` table; pass `userStore` to `AuthModule.forRoot`/`forRootAsync` to
 * keep users in your own table instead (docs/accounts.md).
 *
 * Every method takes the `EntityManager` of the surrounding transaction when there is one: use it
 * for every query, so that a user and its first identity are created atomically and a failure
 * between the two leaves neither behind.
 *
 * Identities (`auth_identities`) always stay in the module's table; the store only answers for
 * users.
 * @example
 * @Injectable()
 * export class MyUserStore implements AuthUserStore {
 *   constructor(private readonly dataSource: DataSource) {}
 *   findById(id: string, m = this.dataSource.manager) { return m.findOneBy(Member, { id }).then(toLocalUser); }
 *   // …
 * }
 * @publicApi
 */
export interface AuthUserStore {
  /** The user with this id, or null when there is none (deleted users: null). */
  findById(id: string, manager?: EntityManager): Promise<LocalUser | null>;
  /**
   * The account whose *verified* email has the canonical form `canonicalEmail` (see
   * `canonicalEmail()`), or null. Must never return an account whose email is unverified: that is
   * what keeps an unverified local address from claiming a provider's verified one. When several
   * match, return the oldest.
   */
  findByVerifiedEmail(canonicalEmail: string, manager?: EntityManager): Promise<LocalUser | null>;
  /** Creates a user for a new identity, inside the caller's transaction. */
  create(user: NewLocalUser, manager?: EntityManager): Promise<LocalUser>;
  /** Sets the user's `disabled` flag (see `AccountService.disable`). */
  setDisabled(id: string, disabled: boolean, manager?: EntityManager): Promise<void>;
  /**
   * Optional. True when the user can sign in without any linked identity (a password, a passkey
   * the host manages). Disconnecting the last identity is refused unless this says true.
   * Absent: the user has no other way in.
   */
  hasOtherSignInMethod?(id: string, manager?: EntityManager): Promise<boolean>;
}

/** Injection token of the {@link AuthUserStore} port (same name as the interface, like `ThrottlerStorage`). @publicApi */
export const AuthUserStore = Symbol('SOCIAL_AUTH:USER_STORE');
