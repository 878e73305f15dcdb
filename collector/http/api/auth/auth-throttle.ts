/**
 * Throttling of failed authentications per client address (issue 14 items 6): board logins
 * with a wrong token and API requests whose `Authorization: Bearer` token is not valid
 * draw from one bucket per address (`api.loginPerMinute`, bursts of half of it). When an
 * address has used it up it is banned, and each further ban doubles, up to
 * `maxBanMs` (as fail2ban's `bantime.increment`, Grafana's brute-force lockout); bans are
 * forgotten after `forgetMs` without one. While banned, every credential from that
 * address is refused with 429 before it is even checked (a valid token too: the address
 * is guessing). The map of addresses is bounded like the rate limiter's.
 */
export interface ThrottleDecision {
  ok: boolean;
  /** Seconds until the address may try again (when not ok). */
  retryAfterSeconds: number;
}

interface AddressState {
  tokens: number;
  at: number;
  /** Bans so far (the next one lasts `baseBanMs · 2^strikes`). */
  strikes: number;
  bannedUntil: number;
  lastBanAt: number;
}

export interface AuthThrottleOptions {
  /** Failed authentications allowed per minute on average. */
  perMinute: number;
  /** Largest burst of failures before a ban. */
  burst: number;
  maxClients: number;
  /** First ban, ms (default 60 s). */
  baseBanMs?: number;
  /** Longest ban, ms (default 1 h). */
  maxBanMs?: number;
  /** Strikes are forgotten this long after the last ban (default 24 h). */
  forgetMs?: number;
}

export class AuthThrottle {
  private readonly addresses = new Map<string, AddressState>();
  /** Addresses forgotten because the map was full. */
  evicted = 0;
  /** Bans imposed since start. */
  bans = 0;
  private readonly refillPerMs: number;
  private readonly baseBanMs: number;
  private readonly maxBanMs: number;
  private readonly forgetMs: number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.refillPerMs = opts.perMinute / 60_000;
    this.baseBanMs = opts.baseBanMs ?? 60_000;
    this.maxBanMs = opts.maxBanMs ?? 3_600_000;
    this.forgetMs = opts.forgetMs ?? 86_400_000;
  }

  /** May `client` present a credential now? (Does not count anything.) */
  check(client: string, now: number): ThrottleDecision {
    const s = this.addresses.get(client);
    if (!s || s.bannedUntil <= now) return { ok: true, retryAfterSeconds: 0 };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((s.bannedUntil - now) / 1000)) };
  }

  /** Count a failed authentication from `client`; returns the ban imposed, if this failure caused one. */
  failure(client: string, now: number): { banMs: number } | undefined {
    let s = this.addresses.get(client);
    if (s) {
      this.addresses.delete(client); // re-insert: Map order is recency order
      s.tokens = Math.min(this.opts.burst, s.tokens + (now - s.at) * this.refillPerMs);
      s.at = now;
      if (s.strikes > 0 && now - s.lastBanAt > this.forgetMs) s.strikes = 0;
    } else {
      if (this.addresses.size >= this.opts.maxClients) {
        // Forget the least recently seen address that is not banned now (bans must hold).
        for (const [k, v] of this.addresses) {
          if (v.bannedUntil <= now) {
            this.addresses.delete(k);
            this.evicted++;
            break;
          }
        }
        if (this.addresses.size >= this.opts.maxClients) {
          const oldest = this.addresses.keys().next().value as string;
          this.addresses.delete(oldest);
          this.evicted++;
        }
      }
      s = { tokens: this.opts.burst, at: now, strikes: 0, bannedUntil: 0, lastBanAt: 0 };
    }
    this.addresses.set(client, s);
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return undefined;
    }
    const banMs = Math.min(this.maxBanMs, this.baseBanMs * 2 ** Math.min(s.strikes, 30));
    s.strikes++;
    s.bannedUntil = now + banMs;
    s.lastBanAt = now;
    this.bans++;
    return { banMs };
  }

  /** Addresses tracked. */
  size(): number {
    return this.addresses.size;
  }

  /** Addresses banned at `now`. */
  banned(now: number): number {
    let n = 0;
    for (const s of this.addresses.values()) if (s.bannedUntil > now) n++;
    return n;
  }
}
