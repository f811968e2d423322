import type { EntityManager } from 'typeorm';

/**
 * A local account as the module sees it, whatever table the host keeps it in.
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
  email: string | null;
  emailVerified: boolean;
  displayName: string | null;
  avatarUrl: string | null;
}

/**
 * Port to the host's users. The default implementation stores users in the module's
 * `auth_users` table; bind your own to keep users in your table (see README).
 *
 * Every method takes the `EntityManager` of the surrounding transaction when there is one, so a
 * user and its first identity are created atomically.
 * @publicApi
 */
export interface AuthUserStore {
  findById(id: string, manager?: EntityManager): Promise<LocalUser | null>;
  /** The account whose verified email equals `canonicalEmail` (see `canonicalEmail()`), or null. */
  findByVerifiedEmail(canonicalEmail: string, manager?: EntityManager): Promise<LocalUser | null>;
  create(user: NewLocalUser, manager?: EntityManager): Promise<LocalUser>;
}

/** Injection token of the {@link AuthUserStore} port (same name as the interface, like `ThrottlerStorage`). @publicApi */
export const AuthUserStore = Symbol('SOCIAL_AUTH:USER_STORE');
