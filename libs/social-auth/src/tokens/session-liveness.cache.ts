/** What the session store said about one session, and until when the answer may be reused. @internal */
export interface LivenessAnswer {
  live: boolean;
  userId: string | null;
  /** Epoch ms after which the session is over anyway (its expiry); Infinity for revoked/unknown. */
  until: number;
}

interface Entry {
  live: boolean;
  userId: string | null;
  expires: number;
}

/** Most sessions remembered at once; the least recently inserted is dropped beyond it. @internal */
export const LIVENESS_CACHE_MAX_ENTRIES = 10_000;

/**
 * The guard's in-process memory of "is session X live?".
 *
 * Invariant (the revocation bound): a "live" answer is reused for at most `ttlMs` (and never past
 * the session's own expiry), so a session revoked on another instance stops passing the guard on
 * this one within `ttlMs`. Revocations made on this instance are recorded at once. The map never
 * holds more than {@link LIVENESS_CACHE_MAX_ENTRIES} entries, and concurrent misses for one
 * session share a single store lookup.
 * @internal
 */
export class SessionLivenessCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<LivenessAnswer>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = LIVENESS_CACHE_MAX_ENTRIES,
  ) {}

  async isLive(sessionId: string, userId: string, load: () => Promise<LivenessAnswer>): Promise<boolean> {
    const known = this.peek(sessionId, userId);
    if (known !== undefined) return known;
    let pending = this.inflight.get(sessionId);
    if (!pending) {
      pending = load().finally(() => this.inflight.delete(sessionId));
      this.inflight.set(sessionId, pending);
    }
    const answer = await pending;
    if (this.ttlMs > 0) this.remember(sessionId, answer);
    return answer.live && answer.userId === userId;
  }

  /** The remembered answer, without loading: undefined when none is remembered or it is stale. */
  peek(sessionId: string, userId: string): boolean | undefined {
    const cached = this.entries.get(sessionId);
    if (cached === undefined || cached.expires <= this.now()) return undefined;
    return cached.live && cached.userId === userId;
  }

  /** Records a revocation made on this instance; it wins over any cached "live". */
  markRevoked(sessionId: string): void {
    this.set(sessionId, { live: false, userId: null, expires: Number.POSITIVE_INFINITY });
  }

  /** Drops whatever is remembered about `sessionId` (a local revocation included), so the next check asks the store. */
  forget(sessionId: string): void {
    this.entries.delete(sessionId);
  }

  /** Number of remembered sessions. */
  get size(): number {
    return this.entries.size;
  }

  private remember(sessionId: string, answer: LivenessAnswer): void {
    const current = this.entries.get(sessionId);
    // Never let a lookup that started before a local revocation overwrite it.
    if (current && !current.live && current.expires === Number.POSITIVE_INFINITY) return;
    const expires = answer.live ? Math.min(this.now() + this.ttlMs, answer.until) : this.now() + this.ttlMs;
    this.set(sessionId, { live: answer.live, userId: answer.userId, expires });
  }

  private set(sessionId: string, entry: Entry): void {
    this.entries.delete(sessionId);
    this.entries.set(sessionId, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
