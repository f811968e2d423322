import { openEnvelope, sealEnvelope } from '../crypto/sealed-envelope';
import type { HandoffRequest } from '../handoff/login-code';

/**
 * What a sign-in flow intends, as bound into its transaction: sign in, or connect the identity
 * to the user (and session) that started the flow.
 * @internal
 */
export type TransactionIntent = { kind: 'login' } | { kind: 'link'; userId: string; sessionId: string };

/**
 * One OAuth authorization request in flight, carried by the browser in an encrypted cookie
 * between the redirect to the provider and the callback.
 *
 * Invariant: every field is decided by the server when the flow starts; the callback trusts the
 * transaction (decrypted and authenticated) and never the query string for any of them.
 * @internal
 */
export interface OAuthTransaction {
  /** Random id (jti): the key of the single-use marker consumed by the callback. */
  id: string;
  /** Provider id that started the flow; the callback of any other provider refuses it. */
  provider: string;
  /** The `state` sent to the provider (256 random bits, base64url). */
  state: string;
  /** PKCE `code_verifier` (RFC 7636, S256). Never leaves the server except to the token endpoint. */
  verifier: string;
  /** OIDC `nonce` sent in the authorization request (Google only). */
  nonce?: string;
  /** Issuer identifier of the authorization server the request was sent to (RFC 9207 / RFC 9700 §4.4.2). */
  issuer?: string;
  /** The provider announced RFC 9207: the callback must carry `iss`. */
  requireIss: boolean;
  intent: TransactionIntent;
  /** Validated landing URL (see `return-to.policy.ts`). */
  returnTo: string;
  /** Login-code hand-off asked for at the start (SPA / native app): the callback mints a login code instead of setting cookies. */
  handoff?: HandoffRequest;
  /** Seconds since the epoch. */
  issuedAt: number;
  /** Seconds since the epoch; the callback refuses the transaction from this second on. */
  expiresAt: number;
}

/** Why a transaction cookie could not be opened. @internal */
export type OpenFailure = 'malformed' | 'tampered' | 'expired';

const VERSION = 'v1';
/** Binds the ciphertext to its purpose and format version (GCM additional authenticated data). */
const AAD = Buffer.from('social-auth/transaction/v1', 'utf8');
/** A sealed value larger than this is not ours (our transactions stay well under 4 kB). */
const MAX_SEALED_LENGTH = 4096;

/**
 * Encrypts and authenticates a transaction with AES-256-GCM (fresh 96-bit IV per value).
 * Format: `v1.<base64url(iv ‖ ciphertext ‖ tag)>`.
 *
 * Invariants (threat model A4, I4, D4): the verifier, nonce and state are never readable by the
 * client; any change to one byte fails authentication; the key is derived for this purpose only
 * (`deriveKey(options, 'social-auth/transaction')`), so a sealed transaction can never pass as
 * another kind of token and vice versa.
 * @internal
 */
export function sealTransaction(transaction: OAuthTransaction, key: Buffer): string {
  return sealEnvelope(VERSION, Buffer.from(JSON.stringify(toWire(transaction)), 'utf8'), key, AAD);
}

/**
 * Decrypts a sealed transaction and checks its shape and expiry. Never throws.
 * @param nowSeconds the current time in seconds since the epoch
 * @internal
 */
export function openTransaction(sealed: unknown, key: Buffer, nowSeconds: number): { ok: true; transaction: OAuthTransaction } | { ok: false; reason: OpenFailure } {
  const opened = openEnvelope(sealed, VERSION, key, AAD, MAX_SEALED_LENGTH);
  if (!opened.ok) return opened;
  const plaintext = opened.plaintext;
  const transaction = fromWire(plaintext);
  if (!transaction) return { ok: false, reason: 'malformed' };
  if (nowSeconds >= transaction.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, transaction };
}

/** Short member names keep the cookie small. */
interface WireTransaction {
  j: string;
  p: string;
  s: string;
  v: string;
  n?: string;
  is?: string;
  ir: 0 | 1;
  i: { k: 'l' } | { k: 'k'; u: string; sid: string };
  r: string;
  h?: { c: string; k: 'n' | 'b'; b?: string };
  iat: number;
  exp: number;
}

function toWire(t: OAuthTransaction): WireTransaction {
  return {
    j: t.id,
    p: t.provider,
    s: t.state,
    v: t.verifier,
    ...(t.nonce !== undefined ? { n: t.nonce } : {}),
    ...(t.issuer !== undefined ? { is: t.issuer } : {}),
    ir: t.requireIss ? 1 : 0,
    i: t.intent.kind === 'link' ? { k: 'k', u: t.intent.userId, sid: t.intent.sessionId } : { k: 'l' },
    r: t.returnTo,
    ...(t.handoff ? { h: { c: t.handoff.challenge, k: t.handoff.client === 'native' ? ('n' as const) : ('b' as const), ...(t.handoff.binding !== undefined ? { b: t.handoff.binding } : {}) } } : {}),
    iat: t.issuedAt,
    exp: t.expiresAt,
  };
}

function fromWire(plaintext: Buffer): OAuthTransaction | undefined {
  let w: Partial<WireTransaction> & Record<string, unknown>;
  try {
    w = JSON.parse(plaintext.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!w || typeof w !== 'object') return undefined;
  const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  const optStr = (v: unknown): boolean => v === undefined || str(v);
  if (!str(w.j) || !str(w.p) || !str(w.s) || !str(w.v) || !str(w.r) || !optStr(w.n) || !optStr(w.is)) return undefined;
  if (!Number.isInteger(w.iat) || !Number.isInteger(w.exp) || (w.ir !== 0 && w.ir !== 1)) return undefined;
  const i = w.i as Record<string, unknown> | undefined;
  let intent: TransactionIntent;
  if (i?.k === 'l') intent = { kind: 'login' };
  else if (i?.k === 'k' && str(i.u) && str(i.sid)) intent = { kind: 'link', userId: i.u, sessionId: i.sid };
  else return undefined;
  const h = w.h as Record<string, unknown> | undefined;
  if (h !== undefined && (!h || typeof h !== 'object' || !str(h.c) || (h.k !== 'n' && h.k !== 'b'))) return undefined;
  // A browser hand-off is always bound to the browser that started it (threat model F5).
  if (h !== undefined && (h.k === 'b' ? !str(h.b) : h.b !== undefined)) return undefined;
  return {
    id: w.j,
    provider: w.p,
    state: w.s,
    verifier: w.v,
    nonce: w.n,
    issuer: w.is,
    requireIss: w.ir === 1,
    intent,
    returnTo: w.r,
    ...(h ? { handoff: { challenge: h.c as string, client: h.k === 'n' ? ('native' as const) : ('browser' as const), ...(h.k === 'b' ? { binding: h.b as string } : {}) } } : {}),
    issuedAt: w.iat as number,
    expiresAt: w.exp as number,
  };
}
