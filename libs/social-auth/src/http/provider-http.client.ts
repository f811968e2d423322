import { Injectable } from '@nestjs/common';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError } from '../errors/auth.error';

/** User-Agent of every call to a provider (GitHub's API refuses requests without one). @internal */
export const PROVIDER_USER_AGENT = 'nest-social-auth';

/** One outbound request to an identity provider. @internal */
export interface ProviderRequest {
  /** @default 'GET' */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Request body (already encoded). */
  body?: string;
}

/** A provider's answer, read completely (and bounded) before anything parses it. @internal */
export interface ProviderResponse {
  status: number;
  /** `Content-Type` without parameters, lower case (`application/json`), or `''`. */
  contentType: string;
  /** `Cache-Control: max-age` in seconds when the provider sent one. */
  maxAge?: number;
  text: string;
}

/**
 * The only way the module talks to identity providers: token exchange, userinfo, GitHub's API,
 * discovery and JWKS all go through {@link ProviderHttpClient.request}.
 *
 * Invariants (threat model I1, I2):
 * - Every call is bounded in time (`http.timeoutMs`, covering connect, headers *and* body) and
 *   in size (`http.maxResponseBytes`, enforced while streaming, so a 5 MB or endless body is cut
 *   off, never buffered).
 * - Redirects are never followed: a provider endpoint that redirects is misconfigured, and
 *   following would replay credentials (client secret, access token) to another URL.
 * - Failures surface as `AuthError('provider_unavailable')` (network, timeout, 5xx, 429) or
 *   `AuthError('provider_error')` (oversized body, other unexpected answers); the message and
 *   cause never carry a request body, header value or URL query, so nothing secret reaches a log.
 * @internal
 */
@Injectable()
export class ProviderHttpClient {
  constructor(@InjectAuthOptions() private readonly options: ResolvedAuthOptions) {}

  /** Sends one request and reads its body (bounded). Throws `AuthError` on transport failure. */
  async request(url: string, init: ProviderRequest = {}): Promise<ProviderResponse> {
    const { timeoutMs, maxResponseBytes } = this.options.http;
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: { 'User-Agent': PROVIDER_USER_AGENT, ...init.headers },
        body: init.body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new AuthError('provider_unavailable', { cause: describeTransportError(error) });
    }
    const text = await readBounded(response, maxResponseBytes);
    return {
      status: response.status,
      contentType: (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase(),
      maxAge: parseMaxAge(response.headers.get('cache-control')),
      text,
    };
  }

  /**
   * Like {@link request}, and classifies a non-2xx answer: 429 and 5xx are
   * `provider_unavailable` (retry later), anything else `provider_error`.
   */
  async requestOk(url: string, init: ProviderRequest = {}): Promise<ProviderResponse> {
    const response = await this.request(url, init);
    assertOk(response);
    return response;
  }
}

/** Throws the `AuthError` a non-2xx provider answer stands for. @internal */
export function assertOk(response: Pick<ProviderResponse, 'status'>): void {
  if (response.status >= 200 && response.status < 300) return;
  const unavailable = response.status === 429 || response.status >= 500;
  throw new AuthError(unavailable ? 'provider_unavailable' : 'provider_error', { cause: new Error(`provider answered HTTP ${response.status}`) });
}

/**
 * Parses a provider's JSON object answer; anything else (HTML, an array, `null`, invalid JSON)
 * is `undefined`. Never throws.
 * @internal
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const value = parseJson(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Parses JSON without throwing; `undefined` when it is not JSON. @internal */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof AuthError) throw error;
    // The timeout also covers the body: a provider that stalls mid-answer is unavailable.
    throw new AuthError('provider_unavailable', { cause: describeTransportError(error) });
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): AuthError {
  return new AuthError('provider_error', { cause: new Error('provider answer exceeds http.maxResponseBytes') });
}

function parseMaxAge(header: string | null): number | undefined {
  if (!header || /\bno-(store|cache)\b/i.test(header)) return undefined;
  const match = /\bmax-age=(\d{1,9})\b/i.exec(header);
  return match ? Number(match[1]) : undefined;
}

/** Keeps only the kind of transport failure; undici errors can quote the URL. */
function describeTransportError(error: unknown): Error {
  const name = error instanceof Error ? error.name : 'Error';
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return new Error(`provider unreachable (${name}${typeof code === 'string' ? ` ${code}` : ''})`);
}
