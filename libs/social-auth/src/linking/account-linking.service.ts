import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { ResolvedAuthOptions } from '../auth.options';
import { AuthDatabase, isUniqueViolation } from '../database/auth-database';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { ExternalIdentity } from '../entities/external-identity.entity';
import { AuthError } from '../errors/auth.error';
import { AuthEvents } from '../events/auth-events.service';
import { AuthEvent, AuthEventContext, IdentityLinkedEvent, IdentityLinkMethod, SignInSucceededEvent, UserCreatedEvent } from '../events/auth.events';
import type { VerifiedIdentity } from '../identity-providers/verified-identity';
import { decideLink, decideSignIn, PolicyUser, SignInFacts } from './account-linking.policy';
import { canonicalEmail } from './canonical-email';
import { runWithRetry } from './linking-transaction';
import { TypeOrmUserStore } from './typeorm-user.store';
import { AuthUserStore, LocalUser } from './user-store.port';

/** Where a sign-in or connect request came from (for events and audit rows). @publicApi */
export type LinkingContext = AuthEventContext;

/** A {@link VerifiedIdentity} checked and clipped to what the tables hold. @internal */
interface CleanIdentity {
  provider: string;
  issuer: string;
  subject: string;
  email: string | null;
  /** The provider's assertion, kept on the identity row as given (strict boolean). */
  emailVerified: boolean;
  /** Canonical form of the email when the provider verified it and it has one; else null. */
  verifiedEmail: string | null;
  /** The email is a private relay (Apple): it links only with `linkPrivateRelayEmail`. */
  privateRelayEmail: boolean;
  displayName: string | null;
  avatarUrl: string | null;
}

interface SignInOutcome {
  user: LocalUser;
  created: boolean;
  linked: { identityId: string; method: IdentityLinkMethod } | null;
}

/**
 * Maps verified external identities to local accounts: sign-in (finding, linking or creating the
 * account) and connecting another identity to the signed-in user. The decisions are made by the
 * pure policy (`account-linking.policy.ts`); this service reads the facts, carries the decision
 * out in one transaction, and publishes events once it has committed.
 *
 * Invariants (threat model group C, I3):
 * - An identity is found by `(provider, subject)` only, never by email, and is never re-keyed or
 *   moved to another user.
 * - A new user and its first identity are written in one transaction: a failure between the two
 *   leaves neither (`internal_error`), and a retry starts clean.
 * - Concurrent first sign-ins of one identity: the unique `(provider, subject)` constraint lets
 *   exactly one insert win; the others roll back (their user row with them), and are re-run in a
 *   fresh transaction, where they find the winner's identity and sign in to the same user.
 * - Failures that are not the module's own refusals answer `internal_error`; driver messages
 *   (which may quote emails) are never logged or returned.
 * @publicApi
 */
@Injectable()
export class AccountLinkingService {
  private readonly logger = new Logger('AccountLinkingService');

  constructor(
    private readonly db: AuthDatabase,
    @Inject(AuthUserStore) private readonly users: AuthUserStore,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly events: AuthEvents,
  ) {}

  /**
   * Signs in with `identity`: its linked user; or, for a new identity, the account the policy
   * allows (an existing one by trusted verified email, or a new one).
   *
   * Emits `userCreated` and `identityLinked` when it wrote them, then `signInSucceeded`. It does
   * not report its refusals: the caller (the OAuth callback) reports every failure through
   * `AuthEvents.signInFailed`.
   * @throws AuthError `account_disabled`, `account_exists`, `email_not_verified`,
   * `sign_up_disabled`, `identity_in_use` (same subject from another issuer), `provider_error`
   * (malformed identity), `internal_error` (database failure; nothing was written)
   */
  async signIn(identity: VerifiedIdentity, context: LinkingContext = {}): Promise<LocalUser> {
    const clean = cleanIdentity(identity);
    const attempt = () => runWithRetry(this.logger, 'sign-in', () => this.db.transaction((m) => this.resolveSignIn(m, clean)));
    const returning = await this.signInLinkedIdentity(clean);
    let outcome: SignInOutcome;
    try {
      outcome = returning ? { user: returning, created: false, linked: null } : ((await this.signUpInOneStatement(clean)) ?? (await attempt()));
    } catch (error) {
      // `account_exists` for a new identity may rest on reads that straddled a concurrent first
      // sign-in of the same identity committing (its user visible, its identity not yet: READ
      // COMMITTED reads per statement). Deciding once more from a fresh transaction sees both.
      if (!(error instanceof AuthError && error.code === 'account_exists')) throw error;
      outcome = await attempt();
    }
    const events: AuthEvent[] = [];
    if (outcome.created) events.push(new UserCreatedEvent(outcome.user.id, clean.provider, context));
    if (outcome.linked) events.push(new IdentityLinkedEvent(outcome.user.id, clean.provider, outcome.linked.identityId, outcome.linked.method, context));
    events.push(new SignInSucceededEvent(outcome.user.id, clean.provider, outcome.created, context));
    await this.events.publish(...events);
    return outcome.user;
  }

  /**
   * Connects `identity` to the signed-in user `userId` (the "connect provider" flow). An identity
   * already linked to this user is a no-op success; one linked to another user is refused with
   * `identity_in_use` and stays where it is. Another identity of a provider the user already has
   * (a second GitHub account) is linked too: identities are keyed by subject.
   *
   * The caller must have bound `userId` to the flow when it started (the OAuth transaction), not
   * read it from the callback request alone; see docs/accounts.md.
   * @throws AuthError `identity_in_use`, `account_disabled`, `provider_error`, `internal_error`
   */
  async link(userId: string, identity: VerifiedIdentity, context: LinkingContext = {}): Promise<void> {
    const clean = cleanIdentity(identity);
    const identityId = await runWithRetry(this.logger, 'link', () => this.db.transaction((m) => this.resolveLink(m, userId, clean)));
    if (identityId) await this.events.publish(new IdentityLinkedEvent(userId, clean.provider, identityId, 'connect', context));
  }

  /**
   * A returning user's sign-in in one statement, where the database and the user store allow it
   * (PostgreSQL, the built-in `auth_users` store): the identity's attributes are refreshed only if
   * the policy's sign-in conditions hold in that same statement (identity linked, same issuer,
   * user present and enabled), and the user comes back with it. Null otherwise, and nothing was
   * written: the transaction then decides (a refusal, a link, a new account).
   */
  private async signInLinkedIdentity(identity: CleanIdentity): Promise<LocalUser | null> {
    if (this.db.dialect !== 'postgres' || this.users.constructor !== TypeOrmUserStore) return null;
    const params = [identity.provider, identity.subject, identity.issuer, identity.email, identity.emailVerified, identity.displayName, new Date()];
    const rows = await runWithRetry(this.logger, 'sign-in', () => this.db.dataSource.query(SIGN_IN_LINKED_IDENTITY, params) as Promise<UserRow[]>);
    return rows.length === 1 ? userFromRow(rows[0]) : null;
  }

  /**
   * A new identity's sign-in where the database and user store allow it (PostgreSQL, the built-in
   * `auth_users` store), after {@link signInLinkedIdentity} found nothing: the policy's facts in one
   * read, and when it decides `create`, the user and its first identity in one statement, so they
   * are written together or not at all (a failed identity insert undoes the user insert with it).
   * A refusal throws as the transactional path would. Null (nothing written) for every other
   * decision and when a concurrent first sign-in of the same identity won the unique key: the
   * transaction then decides from the committed rows, as it always did.
   */
  private async signUpInOneStatement(identity: CleanIdentity): Promise<SignInOutcome | null> {
    if (this.db.dialect !== 'postgres' || this.users.constructor !== TypeOrmUserStore) return null;
    const ds = this.db.dataSource;
    const rows = await runWithRetry(this.logger, 'sign-in', () => ds.query(SIGN_IN_FACTS, [identity.provider, identity.subject, identity.verifiedEmail]) as Promise<FactRow[]>);
    const linked = rows.find((r) => r.source === 'identity');
    // Only a verified email is ever compared, and only for an identity that is not linked yet.
    const emailRow = !linked && identity.verifiedEmail !== null ? rows.find((r) => r.source === 'email') : undefined;
    const decision = decideSignIn({
      linked: linked ? { user: linked.id === null ? 'missing' : policyUser(userFromRow(linked as UserRow)), sameIssuer: linked.issuer === identity.issuer } : null,
      verifiedEmail: identity.verifiedEmail,
      emailMatch: emailRow ? policyUser(userFromRow(emailRow as UserRow)) : null,
      config: this.signInConfig(identity),
    });
    if (decision.action === 'refuse') throw new AuthError(decision.code);
    if (decision.action !== 'create') return null;
    const user: LocalUser = {
      id: randomUUID(),
      email: identity.email,
      emailVerified: identity.verifiedEmail !== null,
      displayName: identity.displayName,
      avatarUrl: identity.avatarUrl,
      disabled: false,
    };
    const identityId = randomUUID();
    const now = new Date();
    const params = [
      user.id, user.email, identity.verifiedEmail, user.emailVerified, user.displayName, user.avatarUrl,
      identityId, identity.provider, identity.issuer, identity.subject, identity.email, identity.emailVerified, identity.displayName, now,
    ];
    const created = await runWithRetry(this.logger, 'sign-in', async () => {
      try {
        await ds.query(CREATE_USER_WITH_IDENTITY, params);
        return true;
      } catch (error) {
        // Another first sign-in of this identity committed first: neither row of ours exists.
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    });
    return created ? { user, created: true, linked: { identityId, method: 'sign-up' } } : null;
  }

  /** The policy's settings for this identity: a private-relay address links by email only where its provider allows it. */
  private signInConfig(identity: CleanIdentity): SignInFacts['config'] {
    return {
      allowSignUp: this.options.linking.allowSignUp,
      requireVerifiedEmail: this.options.linking.requireVerifiedEmail,
      trustEmail: this.trustsEmail(identity.provider) && (!identity.privateRelayEmail || this.linksPrivateRelay(identity.provider)),
    };
  }

  private async resolveSignIn(m: EntityManager, identity: CleanIdentity): Promise<SignInOutcome> {
    const existing = await m.findOneBy(ExternalIdentity, { provider: identity.provider, subject: identity.subject });
    const linkedUser = existing ? await this.users.findById(existing.userId, m) : null;
    // Only a verified email is ever compared, and only for an identity that is not linked yet.
    const emailMatch = !existing && identity.verifiedEmail !== null ? await this.users.findByVerifiedEmail(identity.verifiedEmail, m) : null;
    const decision = decideSignIn({
      linked: existing ? { user: linkedUser ? policyUser(linkedUser) : 'missing', sameIssuer: existing.issuer === identity.issuer } : null,
      verifiedEmail: identity.verifiedEmail,
      emailMatch: emailMatch && policyUser(emailMatch),
      config: this.signInConfig(identity),
    });

    switch (decision.action) {
      case 'refuse':
        throw new AuthError(decision.code);
      case 'sign-in': {
        // Refresh the mutable attributes; the key (provider, subject, issuer) is never rewritten.
        await m.update(
          ExternalIdentity,
          { id: existing!.id },
          // A provider that sends the name once (Apple) sends none later: the stored one is kept.
          { email: identity.email, emailVerified: identity.emailVerified, displayName: identity.displayName ?? existing!.displayName, lastLoginAt: new Date() },
        );
        return { user: linkedUser!, created: false, linked: null };
      }
      case 'link': {
        const identityId = await this.insertIdentity(m, decision.userId, identity, new Date());
        return { user: emailMatch!, created: false, linked: { identityId, method: 'email' } };
      }
      case 'create': {
        const user = await this.users.create(
          {
            email: identity.email,
            emailVerified: identity.verifiedEmail !== null,
            emailCanonical: identity.verifiedEmail,
            displayName: identity.displayName,
            avatarUrl: identity.avatarUrl,
          },
          m,
        );
        // Same transaction as the user: if this insert fails (or loses the race for the unique
        // key), the user row above is rolled back with it.
        const identityId = await this.insertIdentity(m, user.id, identity, new Date());
        return { user, created: true, linked: { identityId, method: 'sign-up' } };
      }
    }
  }

  /** Returns the new identity's id, or null when nothing was written (already linked here). */
  private async resolveLink(m: EntityManager, userId: string, identity: CleanIdentity): Promise<string | null> {
    const existing = await m.findOneBy(ExternalIdentity, { provider: identity.provider, subject: identity.subject });
    const user = await this.users.findById(userId, m);
    const decision = decideLink({
      user: user ? policyUser(user) : 'missing',
      ownerId: existing?.userId ?? null,
      sameIssuer: existing ? existing.issuer === identity.issuer : true,
    });
    switch (decision.action) {
      case 'refuse':
        throw new AuthError(decision.code);
      case 'noop':
        return null;
      case 'link':
        return this.insertIdentity(m, userId, identity, null);
    }
  }

  private async insertIdentity(m: EntityManager, userId: string, identity: CleanIdentity, lastLoginAt: Date | null): Promise<string> {
    const id = randomUUID();
    await m.insert(ExternalIdentity, {
      // Set here rather than by the column default: SQLite's default has one-second precision,
      // and GET /auth/me lists identities in linking order.
      linkedAt: new Date(),
      id,
      userId,
      provider: identity.provider,
      issuer: identity.issuer,
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      displayName: identity.displayName,
      lastLoginAt,
    });
    return id;
  }

  /** `providers.<id>.linkPrivateRelayEmail` (Apple); false by default and for every other provider. */
  private linksPrivateRelay(provider: string): boolean {
    const config = (this.options.providers as Record<string, { linkPrivateRelayEmail?: boolean } | undefined>)[provider];
    return Object.prototype.hasOwnProperty.call(this.options.providers, provider) && config?.linkPrivateRelayEmail === true;
  }

  /** `providers.<id>.trustEmail`; false for a provider that is not configured. */
  private trustsEmail(provider: string): boolean {
    const oidc = this.options.providers.oidc?.find((p) => p.id === provider);
    if (oidc) return oidc.trustEmail === true;
    const config = (this.options.providers as Record<string, { trustEmail?: boolean } | undefined>)[provider];
    return Object.prototype.hasOwnProperty.call(this.options.providers, provider) && config?.trustEmail === true;
  }
}

/**
 * $1 provider, $2 subject, $3 issuer, $4 email, $5 email verified, $6 display name, $7 now. The
 * conditions are `decideSignIn`'s for a linked identity (C4: same issuer; a missing or disabled
 * user is refused); the key columns are never written. Wrapped in a CTE so the driver answers the
 * returned rows (for a bare UPDATE, TypeORM's PostgreSQL runner answers `[rows, count]`).
 */
const SIGN_IN_LINKED_IDENTITY = `
WITH signed_in AS (
  UPDATE auth_identities AS i SET email = $4, email_verified = $5, display_name = COALESCE($6, i.display_name), last_login_at = $7
  FROM auth_users AS u
  WHERE i.provider = $1 AND i.subject = $2 AND i.issuer = $3 AND u.id = i.user_id AND u.disabled = false
  RETURNING u.id, u.email, u.email_verified, u.display_name, u.avatar_url, u.disabled
)
SELECT * FROM signed_in`;

/**
 * $1 provider, $2 subject, $3 canonical verified email (or null). The facts `decideSignIn` needs
 * for an identity the one-statement sign-in did not find: its `(provider, subject)` row with its
 * user (null columns when the user is gone), and the oldest local account with that verified
 * email (`TypeOrmUserStore.findByVerifiedEmail`'s order). Never matched by email when $3 is null.
 */
const SIGN_IN_FACTS = `
SELECT 'identity' AS source, i.issuer, u.id, u.email, u.email_verified, u.display_name, u.avatar_url, u.disabled
FROM auth_identities AS i LEFT JOIN auth_users AS u ON u.id = i.user_id
WHERE i.provider = $1 AND i.subject = $2
UNION ALL
(SELECT 'email', NULL, u.id, u.email, u.email_verified, u.display_name, u.avatar_url, u.disabled
 FROM auth_users AS u
 WHERE u.email_canonical = $3 AND u.email_verified = true
 ORDER BY u.created_at ASC, u.id ASC
 LIMIT 1)`;

/**
 * $1–$6 the user (id, email, canonical verified email, email verified, display name, avatar),
 * $7–$13 its first identity (id, provider, issuer, subject, email, email verified, display name),
 * $14 now (linked and last signed in). One statement: the identity insert losing the unique
 * `(provider, subject)` race, or failing for any other reason, leaves no user row behind.
 */
const CREATE_USER_WITH_IDENTITY = `
WITH u AS (
  INSERT INTO auth_users (id, email, email_canonical, email_verified, display_name, avatar_url, disabled)
  VALUES ($1, $2, $3, $4, $5, $6, false)
  RETURNING id
)
INSERT INTO auth_identities (id, user_id, provider, issuer, subject, email, email_verified, display_name, linked_at, last_login_at)
SELECT $7, u.id, $8, $9, $10, $11, $12, $13, $14, $14 FROM u`;

interface FactRow extends Omit<UserRow, 'id'> {
  source: 'identity' | 'email';
  issuer: string | null;
  id: string | null;
}

interface UserRow {
  id: string;
  email: string | null;
  email_verified: boolean;
  display_name: string | null;
  avatar_url: string | null;
  disabled: boolean;
}

function userFromRow(row: UserRow): LocalUser {
  return { id: row.id, email: row.email, emailVerified: row.email_verified === true, displayName: row.display_name, avatarUrl: row.avatar_url, disabled: row.disabled !== false };
}

function policyUser(user: LocalUser): PolicyUser {
  // Strict booleans: a host store returning "false" or 1 must not read as verified or enabled.
  return { id: user.id, emailVerified: user.emailVerified === true, disabled: user.disabled !== false };
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
// C0/C1 control characters (NUL, CR, LF, …): never stored in an attribute.
const CONTROL = /\p{Cc}/u;

/**
 * Checks the key fields (refused, never clipped: a clipped subject would be another identity)
 * and clips the attributes to their column sizes.
 */
function cleanIdentity(identity: VerifiedIdentity): CleanIdentity {
  const { provider, issuer, subject } = identity ?? ({} as VerifiedIdentity);
  if (typeof provider !== 'string' || !PROVIDER_ID.test(provider)) throw new AuthError('provider_error');
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255 || CONTROL.test(subject)) throw new AuthError('provider_error');
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 255 || CONTROL.test(issuer)) throw new AuthError('provider_error');
  const rawEmail = typeof identity.email === 'string' ? identity.email.trim() : '';
  const email = rawEmail.length > 0 && rawEmail.length <= 320 && !CONTROL.test(rawEmail) ? rawEmail : null;
  const emailVerified = identity.emailVerified === true && email !== null;
  return {
    provider,
    issuer,
    subject,
    email,
    emailVerified,
    verifiedEmail: emailVerified ? canonicalEmail(email) : null,
    privateRelayEmail: identity.privateRelayEmail === true,
    displayName: clipText(identity.displayName, 200),
    avatarUrl: httpUrl(identity.avatarUrl, 1000),
  };
}

function clipText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const text = value.replace(/\p{Cc}/gu, ' ').trim();
  if (text.length === 0) return null;
  // Clip by code points so a surrogate pair is never cut in half.
  return Array.from(text).slice(0, max).join('');
}

function httpUrl(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length > max) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}
