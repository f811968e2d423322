import { MODULE_OPTIONS_TOKEN } from './auth.module-definition';

/**
 * Injection token of the options exactly as the host passed them to `forRoot`/`forRootAsync`.
 * Most code wants {@link AUTH_OPTIONS} (validated, defaults applied) instead.
 * @publicApi
 */
export const AUTH_MODULE_OPTIONS = MODULE_OPTIONS_TOKEN;

/**
 * Injection token of the validated options with every default applied (`ResolvedAuthOptions`).
 * @publicApi
 */
export const AUTH_OPTIONS = Symbol('SOCIAL_AUTH:OPTIONS');

/** Metadata key set by `@Public()`. A Symbol, so it never collides with a host's own `@Public()`. @publicApi */
export const IS_PUBLIC_KEY = Symbol('SOCIAL_AUTH:PUBLIC');

/** The identity providers this module ships. @publicApi */
export const BUILT_IN_PROVIDERS = ['google', 'github'] as const;

/** Id of a built-in identity provider. @publicApi */
export type BuiltInProviderId = (typeof BUILT_IN_PROVIDERS)[number];
