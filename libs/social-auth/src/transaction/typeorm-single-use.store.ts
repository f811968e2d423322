import { Injectable, Logger, Optional } from '@nestjs/common';
import { LessThan } from 'typeorm';
import { AuthDatabase, isUniqueViolation } from '../database/auth-database';
import { DatabaseAvailability } from '../database/database-availability';
import { SingleUseMarker } from '../entities/single-use-marker.entity';
import { Clock } from '../tokens/clock';
import type { SingleUseStore } from './single-use.store';

/** Expired markers are swept at most this often per instance. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Default {@link SingleUseStore}: the `auth_single_use` table.
 *
 * Invariant: consuming is one `INSERT` of the key as primary key. The database's uniqueness check
 * decides the single winner, so two callbacks racing on two instances cannot both pass; no
 * read-then-write window exists. Expired markers are deleted lazily (they are only needed while
 * the value they guard could still be presented).
 * @publicApi
 */
@Injectable()
export class TypeOrmSingleUseStore implements SingleUseStore {
  private readonly logger = new Logger('SingleUseStore');
  private lastSweep = 0;

  constructor(
    private readonly db: AuthDatabase,
    private readonly clock: Clock,
    @Optional() private readonly availability?: DatabaseAvailability,
  ) {}

  async consume(key: string, ttlSeconds: number): Promise<boolean> {
    if (key.length === 0 || key.length > 128) throw new Error('single-use keys are 1 to 128 characters');
    const now = this.clock.now();
    this.sweep(now);
    try {
      const marker = { key, expiresAt: new Date(now.getTime() + Math.max(1, ttlSeconds) * 1000) };
      // One statement needs no transaction of its own, except on SQLite: there a bare statement
      // would run inside whichever request's transaction holds the shared connection, and vanish
      // if that one rolls back, so it goes through AuthDatabase.transaction.
      if (this.db.dialect === 'sqlite') await this.db.transaction((m) => m.insert(SingleUseMarker, marker));
      else await this.db.dataSource.manager.insert(SingleUseMarker, marker);
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  private sweep(now: Date): void {
    if (now.getTime() - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now.getTime();
    this.db
      .transaction((m) => m.delete(SingleUseMarker, { expiresAt: LessThan(now) }))
      .catch((error: unknown) => {
        // An unreachable database is one outage, logged once by DatabaseAvailability.
        if (this.availability?.unavailable(error)) return;
        this.logger.warn(`sweeping expired single-use markers failed (${error instanceof Error ? error.constructor.name : 'error'})`);
      });
  }
}
