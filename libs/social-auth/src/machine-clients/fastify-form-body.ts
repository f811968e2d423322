import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ResolvedAuthOptions } from '../auth.options';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

const FORM = 'application/x-www-form-urlencoded';
/** A token request is a handful of short parameters (an assertion is at most 8 KB). */
const BODY_LIMIT = 16 * 1024;

interface FastifyParsers {
  hasContentTypeParser(type: string): boolean;
  addContentTypeParser(type: string, options: { parseAs: 'string'; bodyLimit: number }, parser: (req: unknown, body: string, done: (error: Error | null, value?: unknown) => void) => void): void;
}

/**
 * RFC 6749 §4.4.2 token requests are `application/x-www-form-urlencoded`, which Express parses
 * and Fastify does not (it answers `415` without `@fastify/formbody`). With machine clients on, on
 * Fastify, and no form parser registered by the host, this registers one: a repeated parameter
 * becomes an array (which the token endpoint refuses, §3.2), and bodies above 16 KB are refused.
 * @internal
 */
@Injectable()
export class FastifyFormBody implements OnModuleInit {
  constructor(
    @InjectAuthOptions() private readonly options: Pick<ResolvedAuthOptions, 'machineClients'>,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.options.machineClients.enabled || adapter?.getType() !== 'fastify') return;
    const fastify = adapter.getInstance() as FastifyParsers;
    if (fastify.hasContentTypeParser(FORM)) return;
    fastify.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, parseForm(body)));
  }
}

/** A form body as an object; a name given twice maps to an array of its values. @internal */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return { ...out };
}
