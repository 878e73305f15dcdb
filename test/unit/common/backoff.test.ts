import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../common/backoff.js';

describe('backoffMs', () => {
  const policy = { minDelayMs: 1000, maxDelayMs: 30_000, factor: 2 };

  it('grows exponentially from the first failure and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => backoffMs(n, policy, () => 0))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('spreads by ±jitter of the delay, or adds up to jitterMs', () => {
    expect(backoffMs(1, { ...policy, jitter: 0.2 }, () => 0)).toBe(800);
    expect(backoffMs(1, { ...policy, jitter: 0.2 }, () => 1)).toBe(1200);
    expect(backoffMs(2, { ...policy, jitterMs: 250 }, () => 1)).toBe(2250);
  });

  it('waits what the server asked (Retry-After) instead of the exponential delay, jitter added', () => {
    expect(backoffMs(5, { ...policy, jitterMs: 250 }, () => 0.5, 7000)).toBe(7125);
  });
});
