import { createPrivateKey } from 'node:crypto';
import { ArrayNotEmpty, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { InvalidAuthOptionsError } from '../../errors/auth.error';

const HTTP_URL = /^https?:\/\/[^\s/?#]+(?::\d+)?(\/[^\s?#]*)?$/i;
/** Apple refuses client secrets that live longer than 15777000 seconds (six months). @publicApi */
export const APPLE_MAX_CLIENT_SECRET_TTL = 15_777_000;

/**
 * Sign in with Apple (`providers.apple`). See docs/apple.md.
 *
 * The client secret is not configured: the module signs it (an ES256 JWT) with the team's
 * private key and renews it before it expires. The identity key is `(apple, sub)`.
 * @example { clientId: 'com.example.web', teamId: 'ABCDE12345', keyId: 'KEY1234567', privateKey: process.env.APPLE_PRIVATE_KEY }
 * @publicApi
 */
export class AppleProviderOptions {
  /** The Services ID registered for the web sign-in (the `client_id`). Required. */
  @IsString() @MinLength(1)
  clientId!: string;

  /** The Apple Developer team id (the client secret's `iss`). Required. */
  @Matches(/^[A-Z0-9]{10}$/, { message: 'teamId must be the 10-character Apple team id' })
  teamId!: string;

  /** The id of the Sign in with Apple key (the client secret's `kid`). Required. */
  @Matches(/^[A-Z0-9]{10}$/, { message: 'keyId must be the 10-character Apple key id' })
  keyId!: string;

  /** The key's private key, PKCS#8 PEM (`AuthKey_<keyId>.p8`), P-256. Required. Never logged. */
  @IsString() @MinLength(1)
  privateKey!: string;

  /**
   * Scopes requested: `name` and/or `email` (Apple has no `openid` scope; the ID token always comes).
   * With any scope, Apple answers with `response_mode=form_post` (a cross-site POST).
   * @default ['name', 'email']
   */
  @IsOptional() @IsArray() @ArrayNotEmpty() @IsString({ each: true })
  scopes?: string[];

  /**
   * Lifetime of each client secret the module signs, in seconds; a new one is signed when less
   * than a tenth of it (at most a day) is left.
   * @default 15777000 (six months, Apple's maximum)
   */
  @IsOptional() @IsInt() @Min(300) @Max(APPLE_MAX_CLIENT_SECRET_TTL)
  clientSecretTtl?: number;

  /**
   * Whether an Apple-verified email may link to an existing local account with the same verified
   * email (private-relay addresses only with `linkPrivateRelayEmail`).
   * @default false
   */
  @IsOptional() @IsBoolean()
  trustEmail?: boolean;

  /**
   * Whether a private-relay address (`…@privaterelay.appleid.com`, `is_private_email`) may link
   * by email like any other verified address when `trustEmail` is on. The address is real and
   * verified, but unique to this app: an account already holding it was made by a relay too.
   * @default false
   */
  @IsOptional() @IsBoolean()
  linkPrivateRelayEmail?: boolean;

  /** Expected `iss` of ID tokens and the client secret's `aud`. @default 'https://appleid.apple.com' */
  @IsOptional() @Matches(HTTP_URL)
  issuer?: string;

  /** @default 'https://appleid.apple.com/auth/authorize' */
  @IsOptional() @Matches(HTTP_URL)
  authorizationURL?: string;

  /** @default 'https://appleid.apple.com/auth/token' */
  @IsOptional() @Matches(HTTP_URL)
  tokenURL?: string;

  /** @default 'https://appleid.apple.com/auth/keys' */
  @IsOptional() @Matches(HTTP_URL)
  jwksURL?: string;
}

/** Apple options with every default applied. @publicApi */
export interface ResolvedAppleOptions {
  clientId: string;
  teamId: string;
  keyId: string;
  privateKey: string;
  scopes: string[];
  clientSecretTtl: number;
  trustEmail: boolean;
  linkPrivateRelayEmail: boolean;
  issuer: string;
  authorizationURL: string;
  tokenURL: string;
  jwksURL: string;
}

/**
 * Applies defaults to the (already class-validated) Apple options; checks that the private key is
 * a P-256 key (the message never quotes the key) and https in production.
 * @internal
 */
export function resolveAppleOptions(raw: AppleProviderOptions | undefined, production: boolean): ResolvedAppleOptions | undefined {
  if (!raw) return undefined;
  const at = 'Invalid AuthModule option providers.apple';
  const privateKey = raw.privateKey.replace(/\\n/g, '\n');
  let curve: string | undefined;
  try {
    const key = createPrivateKey(privateKey);
    curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  } catch {
    throw new InvalidAuthOptionsError(`${at}.privateKey: not a readable PEM private key`);
  }
  if (curve !== 'prime256v1') throw new InvalidAuthOptionsError(`${at}.privateKey: must be an EC P-256 key (Sign in with Apple key, .p8)`);
  const resolved: ResolvedAppleOptions = {
    clientId: raw.clientId,
    teamId: raw.teamId,
    keyId: raw.keyId,
    privateKey,
    scopes: raw.scopes ?? ['name', 'email'],
    clientSecretTtl: raw.clientSecretTtl ?? APPLE_MAX_CLIENT_SECRET_TTL,
    trustEmail: raw.trustEmail ?? false,
    linkPrivateRelayEmail: raw.linkPrivateRelayEmail ?? false,
    issuer: raw.issuer ?? 'https://appleid.apple.com',
    authorizationURL: raw.authorizationURL ?? 'https://appleid.apple.com/auth/authorize',
    tokenURL: raw.tokenURL ?? 'https://appleid.apple.com/auth/token',
    jwksURL: raw.jwksURL ?? 'https://appleid.apple.com/auth/keys',
  };
  if (production) {
    for (const key of ['issuer', 'authorizationURL', 'tokenURL', 'jwksURL'] as const) {
      if (!resolved[key].startsWith('https://')) throw new InvalidAuthOptionsError(`${at}.${key}: production requires https endpoints`);
    }
  }
  return resolved;
}
