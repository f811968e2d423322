import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { MachineClientService } from '@nest-social-auth/core';
import { DEMO_CONFIG } from '../config/demo-config.token';
import type { DemoConfig } from '../config/demo.config';

/**
 * Registers the machine client of `AUTH_MACHINE_CLIENT_ID`/`_SECRET` at start-up when it does
 * not exist yet. An existing client is left as it is: rotate or disable it with
 * `scripts/machine-client.ts` (the service, not the environment, owns it once registered).
 */
@Injectable()
export class DemoMachineClientSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('MachineClients');

  constructor(
    private readonly clients: MachineClientService,
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const wanted = this.config.machineClient;
    if (!wanted || !this.config.machineClients) return;
    if (await this.clients.find(wanted.id)) return;
    await this.clients.register({ id: wanted.id, name: 'Demo machine client', scopes: wanted.scopes, clientSecret: wanted.secret });
    this.logger.log(`registered machine client ${wanted.id} (${wanted.scopes.join(' ')})`);
  }
}
