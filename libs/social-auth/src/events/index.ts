export {
  AUTH_EVENTS,
  AccountDisabledEvent,
  AccountEnabledEvent,
  AuthEvent,
  IdentityLinkedEvent,
  IdentityUnlinkedEvent,
  SignInFailedEvent,
  SignInSucceededEvent,
  UserCreatedEvent,
} from './auth.events';
export type { AuthEventContext, AuthEventName, IdentityLinkMethod } from './auth.events';
export { AuthEvents } from './auth-events.service';
