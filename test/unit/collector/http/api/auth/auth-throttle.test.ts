import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../../../../../collector/http/api/auth/auth-throttle.js';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);

describe('AuthThrottle (failed authentications per address, issue 14 item 6)', () => {
  it('allows a burst of failures, then bans; the ban doubles at each strike, up to the longest', () => {
    const th = new AuthThrottle({ perMinute: 10, burst: 5, maxClients: 100, baseBanMs: 60_000, maxBanMs: 600_000 });
    let now = T0;
    for (let i = 0; i < 5; i++) expect(th.failure('10.0.0.9', now)).toBeUndefined();
    expect(th.check('10.0.0.9', now).ok).toBe(true);
    expect(th.failure('10.0.0.9', now)).toEqual({ banMs: 60_000 });
    expect(th.check('10.0.0.9', now)).toEqual({ ok: false, retryAfterSeconds: 60 });
    expect(th.check('10.0.0.8', now).ok).toBe(true);
    expect(th.check('10.0.0.9', now + 59_000).ok).toBe(false);
    const bans: number[] = [];
    for (let strike = 0; strike < 5; strike++) {
      now += 3_600_000; // the ban is over and the bucket full again
      expect(th.check('10.0.0.9', now).ok).toBe(true);
      let ban;
      for (let i = 0; i < 10 && !ban; i++) ban = th.failure('10.0.0.9', now);
      bans.push(ban!.banMs);
    }
    expect(bans).toEqual([120_000, 240_000, 480_000, 600_000, 600_000]);
    expect(th.bans).toBe(6);
    expect(th.banned(now)).toBe(1);
  });

  it('forgets strikes a day after the last ban', () => {
    const th = new AuthThrottle({ perMinute: 10, burst: 1, maxClients: 100, baseBanMs: 60_000, forgetMs: 86_400_000 });
    th.failure('a', T0);
    expect(th.failure('a', T0)).toEqual({ banMs: 60_000 });
    th.failure('a', T0 + 120_000);
    expect(th.failure('a', T0 + 120_000)).toEqual({ banMs: 120_000 });
    const later = T0 + 120_000 + 86_400_001;
    th.failure('a', later);
    expect(th.failure('a', later)).toEqual({ banMs: 60_000 });
  });

  it('stays bounded under rotating addresses and does not forget a banned one first', () => {
    const th = new AuthThrottle({ perMinute: 10, burst: 1, maxClients: 50, baseBanMs: 60_000 });
    th.failure('attacker', T0);
    th.failure('attacker', T0);
    expect(th.check('attacker', T0).ok).toBe(false);
    for (let i = 0; i < 1000; i++) th.failure(`10.1.${i >> 8}.${i & 255}`, T0 + 1);
    expect(th.size()).toBeLessThanOrEqual(50);
    expect(th.evicted).toBeGreaterThan(900);
    expect(th.check('attacker', T0 + 2).ok).toBe(false);
  });
});
