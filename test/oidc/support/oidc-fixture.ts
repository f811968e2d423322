import { createServer } from 'node:net';
import { createTestApp, type TestApp, type TestAppSetup } from '../../support/test-app';
import { OidcOp } from './oidc-op';

/** Two generic OpenID providers (a Keycloak-like realm issuer and a root issuer) and the demo using both. */
export interface OidcWorld {
  t: TestApp;
  keycloak: OidcOp;
  gitlab: OidcOp;
  close(): Promise<void>;
}

export const CLIENT = { id: 'demo-app', secret: 'demo-app-secret-0123456789abcdef' };

/**
 * Boots both OPs, then the real demo configured with them through its environment. `authPath` is
 * where the app serves its auth routes (the OPs register `${appUrl}${authPath}/<id>/callback`),
 * `setup` how the app is set up before it listens (a global prefix, …).
 */
export async function startOidcWorld(extraEnv: Record<string, string> = {}, options: { authPath?: string; setup?: TestAppSetup } = {}): Promise<OidcWorld> {
  const authPath = options.authPath ?? '/auth';
  // The app's port must be known before the OPs start (their clients register its callback URL),
  // but an OP listening on port 0 may be handed the very port just freed: pick again if so.
  let port: number;
  let keycloak: OidcOp;
  let gitlab: OidcOp;
  for (;;) {
    port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    const client = (id: string) => ({ client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [`${appUrl}${authPath}/${id}/callback`] });
    keycloak = await OidcOp.start({ clients: [client('keycloak')], issuerPath: '/realms/main' });
    gitlab = await OidcOp.start({ clients: [client('gitlab')] });
    const taken = [keycloak.issuer, gitlab.issuer].some((issuer) => new URL(issuer).port === String(port));
    if (!taken) break;
    await Promise.all([keycloak.close(), gitlab.close()]);
  }
  const appUrl = `http://127.0.0.1:${port}`;
  let t: TestApp;
  try {
    t = await createTestApp({
      PORT: String(port),
      APP_URL: appUrl,
      AUTH_OIDC_PROVIDERS: 'keycloak,gitlab',
      OIDC_KEYCLOAK_ISSUER: keycloak.issuer,
      OIDC_KEYCLOAK_CLIENT_ID: CLIENT.id,
      OIDC_KEYCLOAK_CLIENT_SECRET: CLIENT.secret,
      OIDC_KEYCLOAK_NAME: 'Keycloak',
      OIDC_GITLAB_ISSUER: gitlab.issuer,
      OIDC_GITLAB_CLIENT_ID: CLIENT.id,
      OIDC_GITLAB_CLIENT_SECRET: CLIENT.secret,
      OIDC_GITLAB_NAME: 'GitLab',
      ...extraEnv,
    }, options.setup);
  } catch (error) {
    await Promise.all([keycloak.close(), gitlab.close()]);
    throw error;
  }
  return {
    t,
    keycloak,
    gitlab,
    close: async () => {
      await t.close();
      await Promise.all([keycloak.close(), gitlab.close()]);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
