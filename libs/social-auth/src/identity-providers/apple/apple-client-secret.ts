import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../../tokens/clock';
import type { ResolvedAppleOptions } from './apple.options';

/** A signed client secret and when it stops being valid (seconds since the epoch). @internal */
export interface SignedClientSecret {
  value: string;
  expiresAt: number;
}

/** Renew when less than this share of the lifetime is left, and at least a day before expiry when it is longer. */
const RENEW_FRACTION = 0.1;
const MAX_RENEW_MARGIN = 86_400;

/**
 * The header and claims of Apple's client secret (Apple's "Creating a client secret"): ES256 with
 * the key id, issued by the team for the Services ID, audience Apple's issuer.
 * @internal
 */
export function appleClientSecretClaims(config: Pick<ResolvedAppleOptions, 'teamId' | 'keyId' | 'clientId' | 'issuer' | 'clientSecretTtl'>, now: number) {
  return {
    header: { alg: 'ES256', kid: config.keyId, typ: 'JWT' },
    payload: { iss: config.teamId, iat: now, exp: now + config.clientSecretTtl, aud: config.issuer, sub: config.clientId },
  };
}

/** Whether a secret must be replaced at `now` (seconds): within the renewal margin of its expiry. @internal */
export function needsRenewal(secret: SignedClientSecret | undefined, ttl: number, now: number): boolean {
  if (!secret) return true;
  return now >= secret.expiresAt - Math.min(Math.ceil(ttl * RENEW_FRACTION), MAX_RENEW_MARGIN);
}

/**
 * Apple's client secret, made by the module: an ES256 JWT signed with the team's private key,
 * kept in memory and re-signed before it expires.
 *
 * Invariants: the secret and the key never leave this object except as the `client_secret` of a
 * token request (never logged, never in an error); each secret lives `clientSecretTtl` (at most
 * Apple's six months) and is replaced once less than a tenth of that (at most a day) is left, so
 * a token request never carries an expired one. Time comes from the module's `Clock`.
 * @internal
 */
export class AppleClientSecret {
  private readonly key: KeyObject;
  private signed?: SignedClientSecret;

  constructor(
    private readonly config: Pick<ResolvedAppleOptions, 'teamId' | 'keyId' | 'clientId' | 'issuer' | 'clientSecretTtl' | 'privateKey'>,
    private readonly clock: Clock,
  ) {
    this.key = createPrivateKey(config.privateKey);
  }

  /** The current secret, signed anew when none is valid for long enough. */
  current(): string {
    const now = this.clock.seconds();
    if (needsRenewal(this.signed, this.config.clientSecretTtl, now)) {
      const { header, payload } = appleClientSecretClaims(this.config, now);
      const input = `${b64(header)}.${b64(payload)}`;
      const signature = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      this.signed = { value: `${input}.${signature}`, expiresAt: payload.exp };
    }
    return this.signed!.value;
  }

  /** Never shows the key or the secret. */
  toJSON(): string {
    return '[AppleClientSecret]';
  }
}

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
