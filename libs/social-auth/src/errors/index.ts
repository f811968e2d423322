export { AUTH_ERROR_CODES, AuthErrorCode, isAuthErrorCode } from './auth-error-codes';
export { AuthError, AuthSetupError, InvalidAuthOptionsError } from './auth.error';
export { AuthErrorFilter } from './auth-error.filter';
