import { Controller, Get, UseFilters } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthErrorFilter, Public } from '@nest-social-auth/core';

@Controller('health')
// The module's filter: a database that cannot be reached answers 503 service_unavailable with
// Retry-After and is logged once per outage (no stack per probe of a load balancer).
@UseFilters(AuthErrorFilter)
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Liveness and database reachability; public. 503 while the database cannot be reached. */
  @Public()
  @Get()
  async health(): Promise<{ status: 'ok'; database: 'up' }> {
    await this.dataSource.query('SELECT 1');
    return { status: 'ok', database: 'up' };
  }
}
