/** @internal Property on the Express request where the guard stores the authenticated user. */
export const REQUEST_USER_KEY = 'user';

