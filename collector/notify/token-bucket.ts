/**
 * Per-channel rate limit (issue 4): a token bucket of `burst` tokens refilled at
 * `perMinute`. A send takes one token; without one the worker waits (the message stays in
 * the outbox: excess is queued, never dropped). Time is the clock's monotonic time.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(
    private readonly burst: number,
    perMinute: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
    this.perMs = perMinute / 60_000;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
  }

  /** Takes a token and returns 0, or returns the ms until one is available (nothing taken). */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.perMs);
  }
}
