import { LivenessAnswer, SessionLivenessCache } from './session-liveness.cache';

describe('SessionLivenessCache (the revocation bound)', () => {
  let now = 1_000_000;
  const clock = () => now;
  const live = (until = Number.POSITIVE_INFINITY): LivenessAnswer => ({ live: true, userId: 'u', until });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('reuses a live answer for at most the TTL, then asks the store again', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    let answer = live();
    const load = jest.fn(async () => answer);
    expect(await cache.isLive('s', 'u', load)).toBe(true);
    answer = { live: false, userId: 'u', until: Number.POSITIVE_INFINITY }; // revoked elsewhere
    now += 4999;
    expect(await cache.isLive('s', 'u', load)).toBe(true);
    now += 2;
    expect(await cache.isLive('s', 'u', load)).toBe(false);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('never reuses a live answer past the session expiry', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    const load = jest.fn(async () => live(now + 1000));
    await cache.isLive('s', 'u', load);
    now += 1001;
    await cache.isLive('s', 'u', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('a local revocation wins at once, also over a lookup that was in flight', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    let release!: (a: LivenessAnswer) => void;
    const pending = cache.isLive('s', 'u', () => new Promise((r) => (release = r)));
    cache.markRevoked('s');
    release(live());
    await pending;
    expect(await cache.isLive('s', 'u', async () => live())).toBe(false);
  });

  it('answers false for a session of another user', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    expect(await cache.isLive('s', 'someone-else', async () => live())).toBe(false);
    expect(await cache.isLive('s', 'u', async () => live())).toBe(true);
  });

  it('shares one store lookup between concurrent misses', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    const load = jest.fn(async () => live());
    await Promise.all(Array.from({ length: 20 }, () => cache.isLive('s', 'u', load)));
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('with TTL 0 asks the store every time', async () => {
    const cache = new SessionLivenessCache(0, clock);
    const load = jest.fn(async () => live());
    await cache.isLive('s', 'u', load);
    await cache.isLive('s', 'u', load);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('holds at most maxEntries sessions, dropping the oldest', async () => {
    const cache = new SessionLivenessCache(5000, clock, 100);
    for (let i = 0; i < 250; i++) await cache.isLive(`s${i}`, 'u', async () => live());
    expect(cache.size).toBe(100);
    const load = jest.fn(async () => live());
    await cache.isLive('s249', 'u', load);
    expect(load).not.toHaveBeenCalled();
    await cache.isLive('s0', 'u', load);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('peek answers only from memory: undefined before a lookup and once stale, the answer in between', async () => {
    const cache = new SessionLivenessCache(5000, clock);
    expect(cache.peek('s', 'u')).toBeUndefined();
    await cache.isLive('s', 'u', async () => live());
    expect(cache.peek('s', 'u')).toBe(true);
    expect(cache.peek('s', 'someone-else')).toBe(false);
    now += 5000;
    expect(cache.peek('s', 'u')).toBeUndefined();
    cache.markRevoked('s');
    expect(cache.peek('s', 'u')).toBe(false);
  });
});
