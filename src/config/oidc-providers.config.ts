import { EnvError } from './demo.config';

/** A generic OpenID provider of the demo, as read from the environment. */
export interface DemoOidcProvider {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes?: string[];
  trustEmail?: boolean;
}

type Env = Record<string, string | undefined>;

/**
 * Generic OpenID providers from the environment:
 *
 * ```
 * AUTH_OIDC_PROVIDERS=keycloak,microsoft
 * OIDC_KEYCLOAK_ISSUER=https://sso.example.com/realms/main
 * OIDC_KEYCLOAK_CLIENT_ID=demo
 * OIDC_KEYCLOAK_CLIENT_SECRET=…
 * OIDC_KEYCLOAK_NAME=Keycloak            (optional; default: the id)
 * OIDC_KEYCLOAK_SCOPES=openid email      (optional; default: openid email profile)
 * OIDC_KEYCLOAK_TRUST_EMAIL=true         (optional; default: false)
 * ```
 * Variable names use the id upper-cased with `-` as `_`. The module validates the rest (reserved
 * ids, issuer form, https in production).
 */
export function loadOidcProviders(env: Env): DemoOidcProvider[] {
  const list = (env.AUTH_OIDC_PROVIDERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.map((id) => {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(id)) throw new EnvError('AUTH_OIDC_PROVIDERS must list ids of lowercase letters, digits and "-", separated by commas');
    const prefix = `OIDC_${id.toUpperCase().replace(/-/g, '_')}_`;
    const need = (name: string): string => {
      const value = env[`${prefix}${name}`];
      if (!value) throw new EnvError(`${prefix}${name} is required for the OpenID provider "${id}"`);
      return value;
    };
    const issuer = need('ISSUER');
    if (!/^https?:\/\/\S+$/.test(issuer)) throw new EnvError(`${prefix}ISSUER must be an absolute http(s) URL`);
    const scopes = env[`${prefix}SCOPES`]?.split(/[\s,]+/).filter(Boolean);
    const trust = env[`${prefix}TRUST_EMAIL`]?.toLowerCase();
    if (trust !== undefined && trust !== '' && !['true', 'false'].includes(trust)) throw new EnvError(`${prefix}TRUST_EMAIL must be true or false`);
    return {
      id,
      name: env[`${prefix}NAME`] || id,
      issuer,
      clientId: need('CLIENT_ID'),
      clientSecret: need('CLIENT_SECRET'),
      ...(scopes && scopes.length > 0 ? { scopes } : {}),
      ...(trust === 'true' ? { trustEmail: true } : {}),
    };
  });
}
