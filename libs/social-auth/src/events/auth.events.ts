/**
 * Names of the module's domain events, for `@OnEvent()` of `@nestjs/event-emitter`.
 * Emitted only when the host registers `EventEmitterModule.forRoot()`.
 *
 * Invariant: no event carries an email, token, authorization code or provider payload; events
 * hold ids, the provider id and error codes, so a listener that logs them leaks nothing.
 * @example
 * @OnEvent(AUTH_EVENTS.userCreated)
 * onUserCreated(event: UserCreatedEvent) { this.mailer.welcome(event.userId); }
 * @publicApi
 */
export const AUTH_EVENTS = {
  /** A local account was created for a new identity. Payload: {@link UserCreatedEvent}. */
  userCreated: 'social-auth.user.created',
  /** An identity was linked to an account (sign-up, trusted email, or connect). Payload: {@link IdentityLinkedEvent}. */
  identityLinked: 'social-auth.identity.linked',
  /** A provider was disconnected from an account and the sessions opened through it revoked. Payload: {@link IdentityUnlinkedEvent}. */
  identityUnlinked: 'social-auth.identity.unlinked',
  /** An identity was mapped to an enabled account and may get a session. Payload: {@link SignInSucceededEvent}. */
  signInSucceeded: 'social-auth.sign-in.succeeded',
  /** A sign-in was refused. Payload: {@link SignInFailedEvent}. */
  signInFailed: 'social-auth.sign-in.failed',
  /** An account was disabled and its sessions revoked. Payload: {@link AccountDisabledEvent}. */
  accountDisabled: 'social-auth.account.disabled',
  /** A disabled account was enabled again. Payload: {@link AccountEnabledEvent}. */
  accountEnabled: 'social-auth.account.enabled',
} as const;

/** Name of one of the module's events. @publicApi */
export type AuthEventName = (typeof AUTH_EVENTS)[keyof typeof AUTH_EVENTS];

/**
 * Where a request came from, for audit rows. Never holds secrets.
 * @publicApi
 */
export interface AuthEventContext {
  /** Client IP as the host's Express `trust proxy` setting resolves it. */
  ip?: string | null;
  /** `User-Agent` header (listeners only; not written to the audit table). */
  userAgent?: string | null;
}

/** Base of every event: its name, when it happened and where the request came from. @publicApi */
export abstract class AuthEvent {
  /** The event's name, one of {@link AUTH_EVENTS}. */
  abstract readonly name: AuthEventName;
  /** When the event happened. */
  readonly occurredAt = new Date();

  constructor(
    /** Request context, when the event came from a request. */
    readonly context: AuthEventContext = {},
  ) {}

  /** The local user the event is about, when there is one. */
  get subjectUserId(): string | null {
    return null;
  }

  /** The provider the event is about, when there is one. */
  get subjectProvider(): string | null {
    return null;
  }

  /** The error code of a failure, when there is one. */
  get subjectCode(): string | null {
    return null;
  }
}

/** A local account was created for a new identity (always followed by an {@link IdentityLinkedEvent}). @publicApi */
export class UserCreatedEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.userCreated;

  constructor(
    readonly userId: string,
    /** The provider of the identity that signed up. */
    readonly provider: string,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }

  override get subjectProvider(): string {
    return this.provider;
  }
}

/**
 * How an identity came to be linked: `sign-up` (with a new account), `email` (to an existing
 * account, by a trusted verified email) or `connect` (by the signed-in user).
 * @publicApi
 */
export type IdentityLinkMethod = 'sign-up' | 'email' | 'connect';

/** An identity was linked to an account. @publicApi */
export class IdentityLinkedEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.identityLinked;

  constructor(
    readonly userId: string,
    readonly provider: string,
    /** Id of the `auth_identities` row. */
    readonly identityId: string,
    readonly method: IdentityLinkMethod,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }

  override get subjectProvider(): string {
    return this.provider;
  }

  override get subjectCode(): string {
    return `linked_by_${this.method.replace('-', '_')}`;
  }
}

/** Every identity of a provider was disconnected from an account. @publicApi */
export class IdentityUnlinkedEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.identityUnlinked;

  constructor(
    readonly userId: string,
    readonly provider: string,
    /** Ids of the removed `auth_identities` rows. */
    readonly identityIds: string[],
    context?: AuthEventContext,
    /** Ids of the sessions opened through the removed identities, revoked with them (`identity_unlinked`). */
    readonly revokedSessionIds: string[] = [],
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }

  override get subjectProvider(): string {
    return this.provider;
  }
}

/**
 * An identity was mapped to an enabled local account: the sign-in flow goes on to open a session.
 * @publicApi
 */
export class SignInSucceededEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.signInSucceeded;

  constructor(
    readonly userId: string,
    readonly provider: string,
    /** True when the account was created by this sign-in. */
    readonly newUser: boolean,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }

  override get subjectProvider(): string {
    return this.provider;
  }
}

/** A sign-in (or connect) was refused with an error code. @publicApi */
export class SignInFailedEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.signInFailed;

  constructor(
    /** The provider id from the route; only a configured provider id is kept, otherwise null. */
    readonly provider: string | null,
    /** The error code the user saw (`invalid_state`, `account_exists`, …). */
    readonly code: string,
    /** The local user, when one was known (a refused connect, a disabled account). */
    readonly userId: string | null = null,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string | null {
    return this.userId;
  }

  override get subjectProvider(): string | null {
    return this.provider;
  }

  override get subjectCode(): string {
    return this.code;
  }
}

/** An account was disabled; its sessions are revoked. @publicApi */
export class AccountDisabledEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.accountDisabled;

  constructor(
    readonly userId: string,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }
}

/** A disabled account was enabled again. @publicApi */
export class AccountEnabledEvent extends AuthEvent {
  readonly name = AUTH_EVENTS.accountEnabled;

  constructor(
    readonly userId: string,
    context?: AuthEventContext,
  ) {
    super(context);
  }

  override get subjectUserId(): string {
    return this.userId;
  }
}
