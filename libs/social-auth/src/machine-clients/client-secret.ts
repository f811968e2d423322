import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets: generated here (256 random bits), stored only as scrypt hashes.
 *
 * Invariants:
 * - A hash is `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url salt and hash), so the cost can be
 *   raised later without breaking stored hashes.
 * - Comparison is constant-time, and {@link verifyClientSecret} costs one scrypt per slot
 *   whether the slot holds a hash or not (a dummy hash stands in), so the answer's timing says
 *   nothing about whether the client exists or how many secrets it has.
 * @internal
 */
const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const HASH = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/;

/** A fresh client secret: 32 random bytes, base64url (43 characters). @internal */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

function derive(secret: string, salt: Buffer, n: number, r: number, p: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem: 128 * N * r * 2 covers the cost parameters a stored hash may name.
    scrypt(secret, salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Hashes a client secret for storage. @internal */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, N, R, P, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of a secret nobody knows, compared against when a slot is empty or the client unknown. */
const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16, 7).toString('base64url')}$${Buffer.alloc(KEY_LENGTH, 9).toString('base64url')}`;

async function matches(secret: string, stored: string | null | undefined): Promise<boolean> {
  const m = HASH.exec(stored ?? DUMMY_HASH) ?? (HASH.exec(DUMMY_HASH) as RegExpExecArray);
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5], 'base64url');
  const actual = await derive(secret, Buffer.from(m[4], 'base64url'), n, r, p, expected.length);
  return timingSafeEqual(actual, expected) && stored !== null && stored !== undefined && stored !== DUMMY_HASH;
}

/**
 * Whether `secret` matches either stored hash (current or previous). Always computes exactly two
 * scrypt hashes; pass `[]` (or nulls) for an unknown client to spend the same time.
 * @internal
 */
export async function verifyClientSecret(secret: string, hashes: ReadonlyArray<string | null | undefined>): Promise<boolean> {
  const [a, b] = await Promise.all([matches(secret, hashes[0]), matches(secret, hashes[1])]);
  return a || b;
}
