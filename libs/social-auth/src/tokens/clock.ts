import { Injectable } from '@nestjs/common';

/**
 * The module's source of "now" for everything that expires: access tokens, refresh families
 * (idle and absolute lifetimes), the reuse grace window and the revocation cache.
 *
 * Tests move time by replacing `now` on the instance the app resolved:
 * @example jest.spyOn(app.get(Clock), 'now').mockReturnValue(new Date(Date.now() + 3600_000));
 * @publicApi
 */
@Injectable()
export class Clock {
  /** The current time. */
  now(): Date {
    return new Date();
  }

  /**
   * The current time in milliseconds since the epoch. Follows `now` when a test or subclass
   * replaced it; otherwise reads the system clock without allocating a `Date` (the guard asks
   * twice per request).
   */
  epochMs(): number {
    return this.now === Clock.prototype.now ? Date.now() : this.now().getTime();
  }

  /** The current time in whole seconds since the epoch (JWT `NumericDate`). */
  seconds(): number {
    return Math.floor(this.epochMs() / 1000);
  }
}
