import { cleanEmail, cleanText, cleanUrl } from '../profile-values';

/**
 * Pure reading of GitHub's `GET /user` and `GET /user/emails` answers (no I/O, table-tested).
 * @internal
 */

/** What the module keeps of `GET /user`. @internal */
export interface GithubAccount {
  /** Numeric id as a decimal string: the only stable key (logins are renamable and recycled). */
  subject: string;
  login: string | null;
  displayName: string | null;
  avatarUrl: string | null;
}

/**
 * The account of a `GET /user` answer, or undefined when it has no usable `id`.
 *
 * Invariant (threat model C4, I2): the subject is the numeric `id` (a positive safe integer, as a
 * JSON number), never the `login`. A string, object, float or missing `id` is refused; other
 * attributes degrade to null. The public `email` of `/user` is ignored: it is not verified.
 * @internal
 */
export function readGithubUser(body: Record<string, unknown>): GithubAccount | undefined {
  const id = body.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return undefined;
  const login = cleanText(body.login, 100);
  return {
    subject: String(id),
    login,
    displayName: cleanText(body.name, 200) ?? login,
    avatarUrl: cleanUrl(body.avatar_url),
  };
}

/**
 * The verified primary email of a `GET /user/emails` answer: the entry that is `primary: true`
 * **and** `verified: true` (booleans, not truthy values); null when there is none. Undefined when
 * the answer is not a list (`{}`, HTML, `null`): the caller refuses it.
 *
 * Invariant (threat model C3): an unverified primary address, a verified secondary one or the public
 * `/user` email never becomes the identity's verified email.
 * @internal
 */
export function pickVerifiedPrimaryEmail(list: unknown): string | null | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) {
    if (entry === null || typeof entry !== 'object') continue;
    const { email, primary, verified } = entry as Record<string, unknown>;
    if (primary === true && verified === true) return cleanEmail(email);
  }
  return null;
}
