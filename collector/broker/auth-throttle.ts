/**
 * Password-guessing throttle for the embedded broker, per source address and per username
 * (what fail2ban does for an address and an account lockout for a user, without their
 * permanent lock): after `freeFailures` failures in a row, every further check of that
 * address or username waits 0.25 s, 0.5 s, 1 s … up to `maxDelayMs` before its password
 * is checked; at `banAfterFailures` the address or username is banned for `banMs`, and its
 * CONNECTs are refused without a password check (no PBKDF2 spent on them). Failures are
 * forgotten `windowMs` after the last one; a success clears its username's record.
 *
 * A commune's PCs often share one NAT address: a username that logged in successfully
 * from an address within the last day is not refused by that address's ban (its own
 * username throttle still applies), so one misconfigured PC does not lock out its office.
 *
 * Memory is bounded: at most `maxKeys` records per kind, the least recently failed
 * forgotten first (Map order).
 */
import type { Clock } from '../../common/clock.js';

export interface AuthThrottleOptions {
  freeFailures: number;
  maxDelayMs: number;
  banAfterFailures: number;
  banMs: number;
  windowMs: number;
  clock: Pick<Clock, 'monotonic'>;
  maxKeys?: number;
}

export type ThrottleScope = 'address' | 'username';

export type ThrottleVerdict = { action: 'ban'; scope: ThrottleScope; untilMs: number } | { action: 'check'; delayMs: number; delayedBy: ThrottleScope | undefined };

interface FailureRecord {
  failures: number;
  lastAt: number;
  bannedUntil: number;
}

const FIRST_DELAY_MS = 250;
const TRUST_MS = 24 * 3_600_000;

export class AuthThrottle {
  private readonly addresses = new Map<string, FailureRecord>();
  private readonly usernames = new Map<string, FailureRecord>();
  /** `address NUL username` → monotonic time of its last success. */
  private readonly trusted = new Map<string, number>();
  private readonly maxKeys: number;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** What to do with a CONNECT from `address` for `username`, before its password is checked. */
  verdict(address: string, username: string): ThrottleVerdict {
    const t = this.opts.clock.monotonic();
    const user = this.current(this.usernames, username, t);
    if (user && user.bannedUntil > t) return { action: 'ban', scope: 'username', untilMs: user.bannedUntil - t };
    const trusted = (this.trusted.get(`${address}\u0000${username}`) ?? -Infinity) > t - TRUST_MS;
    const addr = trusted ? undefined : this.current(this.addresses, address, t);
    if (addr && addr.bannedUntil > t) return { action: 'ban', scope: 'address', untilMs: addr.bannedUntil - t };
    const addrDelay = this.delay(addr);
    const userDelay = this.delay(user);
    if (addrDelay === 0 && userDelay === 0) return { action: 'check', delayMs: 0, delayedBy: undefined };
    return addrDelay >= userDelay ? { action: 'check', delayMs: addrDelay, delayedBy: 'address' } : { action: 'check', delayMs: userDelay, delayedBy: 'username' };
  }

  /**
   * Record a failed check. Returns the scopes this failure banned (for counting and a log
   * line), empty when it banned nothing new.
   */
  failure(address: string, username: string): ThrottleScope[] {
    const t = this.opts.clock.monotonic();
    const banned: ThrottleScope[] = [];
    if (this.bump(this.addresses, address, t)) banned.push('address');
    if (this.bump(this.usernames, username, t)) banned.push('username');
    return banned;
  }

  success(address: string, username: string): void {
    this.usernames.delete(username);
    const key = `${address}\u0000${username}`;
    this.trusted.delete(key);
    this.trusted.set(key, this.opts.clock.monotonic());
    this.trim(this.trusted);
  }

  /** Addresses and usernames banned now (a gauge). */
  banned(): { address: number; username: number } {
    const t = this.opts.clock.monotonic();
    let address = 0;
    let username = 0;
    for (const r of this.addresses.values()) if (r.bannedUntil > t) address++;
    for (const r of this.usernames.values()) if (r.bannedUntil > t) username++;
    return { address, username };
  }

  private current(map: Map<string, FailureRecord>, key: string, t: number): FailureRecord | undefined {
    const r = map.get(key);
    if (!r) return undefined;
    if (r.bannedUntil <= t && t - r.lastAt > this.opts.windowMs) {
      map.delete(key);
      return undefined;
    }
    return r;
  }

  private delay(r: FailureRecord | undefined): number {
    if (!r) return 0;
    const over = r.failures - this.opts.freeFailures;
    if (over <= 0) return 0;
    return Math.min(this.opts.maxDelayMs, FIRST_DELAY_MS * 2 ** Math.min(over - 1, 20));
  }

  /** Returns true when this failure starts a ban. */
  private bump(map: Map<string, FailureRecord>, key: string, t: number): boolean {
    const r = this.current(map, key, t) ?? { failures: 0, lastAt: t, bannedUntil: 0 };
    map.delete(key); // re-insert: Map order = least recently failed first
    r.failures++;
    r.lastAt = t;
    let started = false;
    if (r.failures >= this.opts.banAfterFailures && r.bannedUntil <= t) {
      r.bannedUntil = t + this.opts.banMs;
      // After the ban the count starts again, so the next ban needs as many failures.
      r.failures = 0;
      started = true;
    }
    map.set(key, r);
    this.trim(map);
    return started;
  }

  private trim(map: Map<string, unknown>): void {
    while (map.size > this.maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}
