/**
 * Operators' command line for machine clients (docs/machine-clients.md): it boots the demo's module
 * graph without HTTP, from the same environment (`.env`, `DATABASE_URL`, …), and calls
 * `MachineClientService`. A new or rotated secret is printed once, on stdout; nothing else is.
 *
 *   npx ts-node -r tsconfig-paths/register scripts/machine-client.ts register <id> <name> "<scopes>"
 *   npx ts-node -r tsconfig-paths/register scripts/machine-client.ts rotate|retire-previous|disable|enable|show <id>
 *   npx ts-node -r tsconfig-paths/register scripts/machine-client.ts scopes <id> "<scopes>"
 */
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AuthError, MachineClientService } from '@nest-social-auth/core';
import { AppModule } from '../src/app.module';
import { runMigrations } from '../src/bootstrap';
import { loadDemoConfig } from '../src/config/demo.config';

const USAGE = 'usage: machine-client.ts register <id> <name> "<scopes>" | rotate|retire-previous|disable|enable|show <id> | scopes <id> "<scopes>"';

/** Runs one command against the service; what it prints goes to `print` (stdout). Exported for the e2e test. */
export async function run(clients: MachineClientService, command: string, args: string[], print: (line: string) => void = console.log): Promise<void> {
  const [id, a, b] = args;
  const scopes = (list: string | undefined) => (list ?? '').split(' ').filter(Boolean);
  switch (command) {
    case 'register': {
      const { clientId, clientSecret } = await clients.register({ id, name: a ?? id, scopes: scopes(b) });
      print(JSON.stringify({ clientId, clientSecret }));
      return;
    }
    case 'rotate':
      print(JSON.stringify({ clientId: id, ...(await clients.rotateSecret(id)) }));
      return;
    case 'retire-previous':
      return clients.retirePreviousSecret(id);
    case 'disable':
      return clients.disable(id);
    case 'enable':
      return clients.enable(id);
    case 'scopes':
      return clients.setScopes(id, scopes(a));
    case 'show': {
      const client = await clients.find(id);
      if (!client) throw new AuthError('not_found');
      print(JSON.stringify(client));
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (!command || (command !== 'register' && args.length < 1)) throw new Error(USAGE);
  if (existsSync('.env')) process.loadEnvFile('.env');
  // No sandbox providers: this process serves nothing. Machine clients on, whatever the app's flag.
  const config = loadDemoConfig({ ...process.env, AUTH_SANDBOX: 'false', AUTH_MACHINE_CLIENTS: 'true' });
  await runMigrations(config);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    await run(app.get(MachineClientService), command, args);
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof AuthError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
