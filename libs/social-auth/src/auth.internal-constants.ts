/** @internal Property on the Express request where the guard stores the authenticated user. */
export const REQUEST_USER_KEY = 'user';

/** @internal Passport strategy names are namespaced so they never collide with a host's own strategies. */
export function strategyName(provider: string): string {
  return `social-auth:${provider}`;
}
