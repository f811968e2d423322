/**
 * A machine client as the module reads and writes it through {@link MachineClientStore}.
 * @publicApi
 */
export interface MachineClientRecord {
  /** Client id (`client_id`, the token's `sub`): 1–64 of `A-Z a-z 0-9 . _ ~ -`. */
  id: string;
  /** Display name, for operators. */
  name: string;
  /** Scopes the client may be granted. */
  scopes: string[];
  /** A disabled client gets no token and its tokens stop passing the guard. */
  enabled: boolean;
  /** scrypt hash of the current secret, or null. */
  secretHash: string | null;
  /** scrypt hash of the secret the last rotation replaced (still accepted until retired), or null. */
  previousSecretHash: string | null;
  /** Public JWK Set for `private_key_jwt`, or null. */
  jwks: { keys: object[] } | null;
  /** URL of the client's JWK Set for `private_key_jwt`, or null. */
  jwksUri: string | null;
}

/**
 * Port of the machine-client registry. The default binding is `TypeOrmMachineClientStore` (the
 * `auth_machine_clients` table); bind another class under this token to keep clients elsewhere.
 * @publicApi
 */
export interface MachineClientStore {
  /** The client with this id, or null. */
  findById(id: string): Promise<MachineClientRecord | null>;
  /** Inserts a new client; rejects when the id is taken. */
  insert(client: MachineClientRecord): Promise<void>;
  /** Replaces the stored fields of an existing client; false when there is none. */
  update(client: MachineClientRecord): Promise<boolean>;
}

/** Injection token of the {@link MachineClientStore} port. @publicApi */
export const MachineClientStore = Symbol('SOCIAL_AUTH:MACHINE_CLIENT_STORE');
