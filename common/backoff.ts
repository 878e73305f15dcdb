/**
 * Exponential backoff with a cap and jitter, the one formula of every retry loop (the
 * InfluxDB writer, the notifier channels). Clock-free: it computes a delay, the caller
 * waits it on its injected clock (house style §4); randomness is injected too, so tests
 * pass a constant.
 */

/** How retry delays grow. */
export interface BackoffPolicy {
  /** Delay after the first failure, ms. */
  minDelayMs: number;
  /** Cap of the exponential growth, ms. */
  maxDelayMs: number;
  /** Growth per further failure (2 doubles). */
  factor: number;
  /** Proportional jitter: the delay is spread by ±`jitter` of itself (0.2 = ±20 %). */
  jitter?: number | undefined;
  /** Additive jitter: up to this many ms are added (spreads many clients' retries). */
  jitterMs?: number | undefined;
}

/**
 * The delay before the next attempt after `failures` failed ones (1 = the first failure):
 * `min(maxDelayMs, minDelayMs × factor^(failures−1))`, or `baseMs` when the server said how
 * long to wait (Retry-After), then jittered. Never negative, whole milliseconds.
 */
export function backoffMs(failures: number, policy: BackoffPolicy, random: () => number, baseMs?: number): number {
  const base = baseMs ?? Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** Math.min(Math.max(0, failures - 1), 64));
  const spread = policy.jitter ? base * policy.jitter * (2 * random() - 1) : 0;
  const added = policy.jitterMs ? random() * policy.jitterMs : 0;
  return Math.max(0, Math.round(base + spread) + Math.round(added));
}
