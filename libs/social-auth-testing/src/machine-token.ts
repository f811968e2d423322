/**
 * What {@link mintMachineToken} needs of `@nest-social-auth/core`'s `MachineClientService`
 * (structural, so the kit does not depend on the core package).
 */
export interface MachineClientsLike {
  find(clientId: string): Promise<object | null>;
  register(input: { id?: string; name: string; scopes: string[] }): Promise<{ clientId: string }>;
  issueTokenFor(clientId: string, scopes?: string[]): Promise<{ access_token: string }>;
}

/** Options of {@link mintMachineToken}. */
export interface MintMachineTokenOptions {
  /**
   * The client the token is for; registered (with `scopes`) when it does not exist yet.
   * @default 'test-machine-client'
   */
  clientId?: string;
  /** Scopes of the token; a new client is registered with exactly these. */
  scopes: string[];
}

/**
 * A machine client's access token for a host's e2e tests, without the token endpoint: the same
 * JWT the client-credentials grant issues, checked by the same guard (the client must exist and
 * be enabled, so it is registered on first use). Needs `machineClients.enabled` in the app.
 * @example
 * const token = await mintMachineToken(app.get(MachineClientService), { scopes: ['orders:read'] });
 * await request(app.getHttpServer()).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
 */
export async function mintMachineToken(clients: MachineClientsLike, options: MintMachineTokenOptions): Promise<string> {
  const clientId = options.clientId ?? 'test-machine-client';
  if (!(await clients.find(clientId))) await clients.register({ id: clientId, name: `Test client ${clientId}`, scopes: options.scopes });
  return (await clients.issueTokenFor(clientId, options.scopes)).access_token;
}
