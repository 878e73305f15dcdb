/**
 * The API's pure rules: under-spec hardware, a site's worst problem, the rate limiter's
 * buckets and bound, and the token store (hashing, revocation, sessions) on real SQLite.
 */
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../../../collector/http/api/auth/rate-limiter.js';
import { hashSecret, SESSION_MAX_MS, TokenStore } from '../../../../../collector/http/api/auth/token-store.js';
import { resolveRange } from '../../../../../collector/http/api/query-schemas.js';
import { worstProblem, type HostInput } from '../../../../../collector/http/api/site-health.js';
import { intelCoreGeneration, isOldCpu, underSpec } from '../../../../../collector/http/api/under-spec.js';
import { WorkingHoursSchema } from '../../../../../collector/sites/schedule/working-hours.js';
import { openDatabase } from '../../../../../collector/store/sqlite-store.js';
import type { HostState, StoredSample } from '../../../../../collector/store/store.js';
import type { SampleMetrics } from '../../../../../contract/schemas.js';

describe('under-spec hardware', () => {
  it('reads the Intel Core generation from the model number', () => {
    expect(intelCoreGeneration('Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz')).toBe(3);
    expect(intelCoreGeneration('Core i7-10700')).toBe(10);
    expect(intelCoreGeneration('12th Gen Intel(R) Core(TM) i5-12400')).toBe(12);
    expect(intelCoreGeneration('AMD Ryzen 5 3600')).toBeUndefined();
  });

  it('flags old CPUs and not current ones', () => {
    for (const old of [
      'Intel Core i3-4160',
      'Intel(R) Core(TM)2 Duo CPU E7500',
      'Intel(R) Pentium(R) CPU G2030',
      'Intel Celeron J1800',
      'AMD Athlon II X2 250',
      'AMD A6-5400K APU',
      'Intel(R) Pentium(R) Dual-Core E5700',
    ])
      expect(isOldCpu(old), old).toBe(true);
    for (const ok of ['Intel Core i5-6500', 'Intel Core i3-10100', 'AMD Ryzen 5 5600G', 'Intel(R) Pentium(R) Gold G6400', 'Apple M1']) expect(isOldCpu(ok), ok).toBe(false);
  });

  it('gives reasons for RAM < 4 GiB, an HDD system disk, an old CPU; none for a good PC', () => {
    const inv = (over: Record<string, unknown>) => ({
      memTotal: 8 * 1024 ** 3,
      cpu: { manufacturer: 'Intel', brand: 'Core i5-8500', cores: 6 },
      disks: [{ type: 'SSD' }, { type: 'HDD' }],
      ...over,
    });
    expect(underSpec(inv({}))).toEqual({ flag: false, reasons: [] });
    expect(underSpec(null)).toEqual({ flag: false, reasons: [] });
    const bad = underSpec(inv({ memTotal: 2 * 1024 ** 3, disks: [{ type: 'HDD' }], cpu: { manufacturer: 'Intel', brand: 'Core i3-2100', cores: 1 } }));
    expect(bad.flag).toBe(true);
    expect(bad.reasons).toEqual(['RAM 2.0 GB (dưới 4 GB)', 'Ổ hệ thống là HDD (ổ cứng cơ, chậm)', 'CPU đời cũ: Core i3-2100', 'CPU chỉ có 1 nhân']);
    expect(underSpec(inv({ memTotal: 3 * 1024 ** 3 }), 'en').reasons).toEqual(['RAM 3.0 GB (below 4 GB)']);
  });
});

describe('worst problem of a site', () => {
  const wh = WorkingHoursSchema.parse({});
  // Tuesday 2026-11-24 09:00 in Vietnam (working time) and 21:00 (not).
  const WORK = Date.UTC(2026, 10, 24, 2, 0, 0);
  const NIGHT = Date.UTC(2026, 10, 24, 14, 0, 0);
  const host = (id: string, state: HostState['state'], m: SampleMetrics | undefined, now: number): HostInput => ({
    state: {
      site: 's',
      host: id,
      hostname: id.toUpperCase(),
      state,
      stateSince: now,
      lastSeen: now,
      boot: null,
      osBoot: null,
      agentVersion: '1',
      lastSkewMs: 0,
      clockSkewMs: null,
      clockSkewSince: null,
      firstSeen: 0,
    },
    latest: m ? ({ site: 's', host: id, t: now - 10_000, metrics: m } as StoredSample) : undefined,
  });
  const disk = (usedPct: number): SampleMetrics => ({ disks: [{ mount: 'C:', total: 1, used: 1, free: 0, usedPct }] });

  it('is ok when nothing is wrong', () => {
    expect(worstProblem([host('a', 'online', disk(50), WORK)], wh, WORK)).toEqual({ level: 'ok', text: 'Bình thường', host: null });
  });

  it('counts offline hosts in working hours only; half the site offline is critical', () => {
    const hosts = [host('a', 'offline', undefined, WORK), host('b', 'online', disk(10), WORK), host('c', 'online', disk(10), WORK)];
    expect(worstProblem(hosts, wh, WORK)).toEqual({ level: 'warning', text: 'A mất kết nối', host: 'a' });
    expect(worstProblem(hosts, wh, NIGHT).level).toBe('ok');
    hosts[1] = host('b', 'offline', undefined, WORK);
    expect(worstProblem(hosts, wh, WORK)).toEqual({ level: 'critical', text: '2/3 máy mất kết nối', host: null });
  });

  it('ranks critical over warning, then the larger figure', () => {
    const hosts = [
      host('a', 'online', disk(91), WORK),
      host('b', 'online', { cpu: { usage: 99, load1: null, load5: null, load15: null, cores: 2 } }, WORK),
      host('c', 'online', { ping: [{ target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null }] }, WORK),
    ];
    expect(worstProblem(hosts, wh, WORK)).toEqual({ level: 'critical', text: 'C không tới được 192.168.1.1', host: 'c' });
    expect(worstProblem(hosts.slice(0, 2), wh, WORK, 'en')).toEqual({ level: 'warning', text: 'CPU of B saturated at 99%', host: 'b' });
    expect(worstProblem([host('a', 'online', disk(96), WORK)], wh, WORK).level).toBe('critical');
  });

  it('ignores stale samples', () => {
    const h = host('a', 'online', disk(99), WORK);
    h.latest!.t = WORK - 10 * 60_000;
    expect(worstProblem([h], wh, WORK).level).toBe('ok');
  });
});

describe('rate limiter', () => {
  it('allows a burst, refills over time, and says when to retry', () => {
    const rl = new RateLimiter(60, 3, 100); // one a second, bursts of 3
    const t = 1_000_000;
    expect([1, 2, 3].map(() => rl.take('a', t).ok)).toEqual([true, true, true]);
    const no = rl.take('a', t);
    expect(no).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(rl.take('b', t).ok).toBe(true); // per address
    expect(rl.take('a', t + 1000).ok).toBe(true);
    expect(rl.take('a', t + 1000).ok).toBe(false);
  });

  it('bounds the addresses it tracks, forgetting the least recently seen', () => {
    const rl = new RateLimiter(60, 1, 3);
    for (const a of ['a', 'b', 'c']) rl.take(a, 0);
    rl.take('a', 0); // a is recent again
    rl.take('d', 0);
    expect(rl.size()).toBe(3);
    expect(rl.evicted).toBe(1);
    // b was forgotten: it starts with a full bucket; a was not: it is still empty.
    expect(rl.take('b', 0).ok).toBe(true);
    expect(rl.take('a', 0).ok).toBe(false);
  });
});

describe('token store', () => {
  it('stores tokens hashed, verifies, revokes (ending sessions) and creates the first admin once', () => {
    const db = openDatabase(':memory:');
    const ts = new TokenStore(db);
    const first = ts.ensureInitialAdmin(1000)!;
    expect(first).toMatch(/^canh_[A-Za-z0-9_-]{43}$/);
    ts.markShown(); // the collector printed it (a token never shown is replaced at the next start)
    expect(ts.ensureInitialAdmin(2000)).toBeUndefined();
    const row = db.prepare('SELECT hash FROM api_tokens').get() as { hash: string };
    expect(row.hash).toBe(hashSecret(first));
    expect(ts.verify(first, 3000)).toMatchObject({ role: 'admin', name: 'admin', via: 'token' });
    const read = ts.create(`x'); DROP TABLE api_tokens;--`, 'read', 3000);
    expect(ts.get(read.id)!.name).toBe(`x'); DROP TABLE api_tokens;--`);
    const session = ts.createSession(read.id, 4000, 3_600_000);
    expect(ts.session(session, 5000, 3_600_000)).toMatchObject({ role: 'read', via: 'session' });
    expect(ts.revoke(read.id, 6000)).toBe(true);
    expect(ts.revoke(read.id, 6000)).toBe(false);
    expect(ts.verify(read.token, 7000)).toBeUndefined();
    expect(ts.session(session, 7000, 3_600_000)).toBeUndefined();
    // Even after every token is revoked, no new admin appears by itself.
    ts.revoke(1, 8000);
    expect(ts.ensureInitialAdmin(9000)).toBeUndefined();
  });

  it('sessions expire after the idle time, slide with use, and end 7 days after login at the latest', () => {
    const ts = new TokenStore(openDatabase(':memory:'));
    const { id } = ts.create('officer', 'admin', 0);
    const idle = 3_600_000;
    const s = ts.createSession(id, 0, idle);
    expect(ts.session(s, idle - 1, idle)).toBeDefined(); // slides to 2h - 1
    expect(ts.session(s, 2 * idle - 2, idle)).toBeDefined();
    expect(ts.session(s, 4 * idle, idle)).toBeUndefined();
    const t = ts.createSession(id, 0, idle);
    let now = 0;
    while (now < SESSION_MAX_MS - idle) {
      now += idle / 2;
      expect(ts.session(t, now, idle)).toBeDefined();
    }
    expect(ts.session(t, SESSION_MAX_MS + 1, idle)).toBeUndefined();
    ts.endSession(t);
  });
});

describe('time ranges', () => {
  it('defaults to the last hour, caps at 31 days, refuses reversed ranges', () => {
    expect(resolveRange({}, 10_000_000)).toEqual({ from: 10_000_000 - 3_600_000, to: 10_000_000 });
    expect(resolveRange({ from: 5 }, 10_000_000)).toEqual({ from: 5, to: 10_000_000 });
    expect(resolveRange({ from: 0, to: 32 * 86_400_000 }, 0)).toEqual(['to: the range must be at most 31 days']);
    expect(resolveRange({ from: 10, to: 5 }, 0)).toEqual(['from: must not be after to']);
  });
});
