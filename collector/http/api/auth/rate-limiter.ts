/**
 * Token-bucket rate limiting per client address (issue 6: "rate limiting"). The map of
 * addresses is bounded: beyond `maxClients` the least recently seen address is forgotten
 * (counted in `evicted`), so a flood of spoofed or rotating addresses cannot grow memory.
 */
export interface RateLimitDecision {
  ok: boolean;
  /** Seconds until one more request would be allowed (when not ok). */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Addresses forgotten because the map was full. */
  evicted = 0;
  private readonly refillPerMs: number;

  constructor(
    /** Requests allowed per minute on average. */
    readonly perMinute: number,
    /** Largest burst. */
    readonly burst: number,
    readonly maxClients: number,
  ) {
    this.refillPerMs = perMinute / 60_000;
  }

  take(client: string, now: number): RateLimitDecision {
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client); // re-insert: Map order is recency order
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.refillPerMs);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
        this.evicted++;
      }
      b = { tokens: this.burst, at: now };
    }
    this.buckets.set(client, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.refillPerMs / 1000)) };
  }

  /** Addresses currently tracked. */
  size(): number {
    return this.buckets.size;
  }
}
