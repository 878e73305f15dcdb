/**
 * The notifier outbox and its workers with scripted notifiers and a fake clock: persist
 * before send, idempotent enqueue, retries with backoff, give-up recorded, permanent
 * errors, FIFO order, rate limit (queued, not dropped), bounded queue with counted
 * overflow, multi-part resume and no duplicates across a restart on the same SQLite file,
 * the daily digest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { backoffMs } from '../../../../common/backoff.js';
import { NotifyConfigSchema, type NotifyConfig } from '../../../../collector/notify/config.js';
import type { DigestScheduler } from '../../../../collector/notify/digest.js';
import type { Notifier, RenderedMessage, SendContext, SendOutcome } from '../../../../collector/notify/notifier.js';
import { NotifyService } from '../../../../collector/notify/notify-service.js';
import { splitText } from '../../../../collector/notify/split-text.js';
import { openDatabase, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { congestionAlert, notification } from '../../../helpers/notifications.js';

type Script = SendOutcome | 'hang';

/** A notifier whose answers the test scripts; records what it accepted. */
class ScriptedNotifier implements Notifier {
  readonly type = 'scripted';
  readonly language = 'vi' as const;
  readonly accepted: Array<{ key: string; text: string; subject: string }> = [];
  readonly calls: SendContext[] = [];
  script: Script[] = [];
  fallback: SendOutcome = { status: 'accepted' };
  constructor(
    readonly name: string,
    private readonly partLimit = 0,
  ) {}
  parts(r: RenderedMessage): RenderedMessage[] {
    return this.partLimit ? splitText(r.text, this.partLimit, 20, 'vi').map((text) => ({ ...r, text })) : [r];
  }
  async send(part: RenderedMessage, ctx: SendContext): Promise<SendOutcome> {
    this.calls.push(ctx);
    const s = this.script.shift() ?? this.fallback;
    if (s === 'hang') return new Promise(() => undefined);
    if (s.status === 'accepted') this.accepted.push({ key: ctx.idempotencyKey, text: part.text, subject: part.subject });
    return s;
  }
  async close(): Promise<void> {}
}

function config(over: Record<string, unknown> = {}): NotifyConfig {
  return NotifyConfigSchema.parse({
    channels: [
      { type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/a' },
      { type: 'webhook', name: 'b', url: 'http://127.0.0.1:9/b' },
    ],
    rateLimit: { perMinute: 6000, burst: 100 },
    retry: { minDelayMs: 1000, maxDelayMs: 60_000, factor: 2, jitter: 0.2, maxAttempts: 4, maxAgeMs: 3600_000 },
    ...over,
  });
}

describe('notify outbox', () => {
  let dir: string;
  let file: string;
  let db: SqliteDatabase;
  let clock: FakeClock;
  let metrics: MetricsRegistry;
  const services: NotifyService[] = [];

  function service(notifiers: Notifier[], cfg = config(), extra: { scheduler?: DigestScheduler } = {}): NotifyService {
    metrics = new MetricsRegistry();
    const s = new NotifyService(cfg, { db, clock, log: silentLogger(), metrics, notifiers, random: () => 0.5, ...extra });
    services.push(s);
    return s;
  }

  /** Lets async sends settle, then moves the fake clock (firing due timers), repeatedly. */
  async function run(s: NotifyService, ms = 0, step = 1000): Promise<void> {
    await s.idle();
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await s.idle();
    }
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'canh-notify-'));
    file = join(dir, 'canh.db');
    db = openDatabase(file);
    clock = new FakeClock();
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('persists one delivery per channel before sending and delivers each once', async () => {
    const a = new ScriptedNotifier('a');
    const b = new ScriptedNotifier('b');
    const s = service([a, b]);
    const res = s.enqueue(notification('n1'));
    expect(res).toEqual({ queued: 2, duplicate: false, dropped: 0 });
    // Written before any send: the rows exist while nothing was sent yet.
    expect(s.outbox.deliveriesOf('n1').map((d) => [d.channel, d.state])).toEqual([
      ['a', 'pending'],
      ['b', 'pending'],
    ]);
    expect(a.calls).toHaveLength(0);
    s.start();
    await run(s);
    expect(a.accepted.map((x) => x.key)).toEqual(['n1:a:0']);
    expect(b.accepted.map((x) => x.key)).toEqual(['n1:b:0']);
    expect(a.accepted[0]!.subject).toMatch(/^\[CẢNH BÁO\] UBND xã Tân Phú: /);
    expect(s.outbox.deliveriesOf('n1').map((d) => d.state)).toEqual(['sent', 'sent']);
    expect(metrics.render()).toContain('canh_notify_sent_total{channel="a"} 1');
  });

  it("inside the engine's transaction: nothing is sent before commit, nothing at all after a rollback", async () => {
    const a = new ScriptedNotifier('a');
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    const rolledBack = db.transaction(() => {
      s.enqueue(notification('rb'));
      throw new Error('engine state write failed');
    });
    expect(() => rolledBack()).toThrow('engine state write failed');
    const committed = db.transaction(() => {
      s.enqueue(notification('ok'));
      expect(a.calls).toHaveLength(0); // not while the transaction is open
    });
    committed();
    await run(s);
    expect(s.outbox.deliveriesOf('rb')).toHaveLength(0);
    expect(a.accepted.map((x) => x.key)).toEqual(['ok:a:0']);
  });

  it('accepts a notification id once (the engine may emit it again after a restart)', async () => {
    const a = new ScriptedNotifier('a');
    const s = service([a]);
    s.start();
    s.enqueue(notification('n1', { channels: ['a'] }));
    await run(s);
    expect(s.enqueue(notification('n1', { channels: ['a'] }))).toEqual({ queued: 0, duplicate: true, dropped: 0 });
    await run(s, 5000);
    expect(a.accepted).toHaveLength(1);
  });

  it('rejects an invalid notification with a clear error and queues nothing', () => {
    const s = service([new ScriptedNotifier('a')]);
    expect(() => s.enqueue({ ...notification('bad'), firing: [congestionAlert({ severity: 'fatal' as never })] })).toThrow(/invalid notification: firing\.0\.severity/);
    expect(() => s.enqueue(notification('empty', { firing: [], resolved: [] }))).toThrow(
      'invalid notification: firing: a notification needs at least one firing or resolved alert',
    );
    expect(s.outbox.list(null)).toHaveLength(0);
  });

  it('retries a retriable error with exponential backoff and jitter until accepted', async () => {
    const a = new ScriptedNotifier('a');
    a.script = [
      { status: 'retriable', reason: 'zalo_bot_http_503' },
      { status: 'retriable', reason: 'zalo_bot_timeout' },
    ];
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    s.enqueue(notification('n1'));
    await run(s);
    const d1 = s.outbox.deliveriesOf('n1')[0]!;
    expect(d1).toMatchObject({ state: 'pending', attempts: 1, lastError: 'zalo_bot_http_503' });
    expect(d1.nextAt - clock.now()).toBe(1000); // min delay, jitter factor 1 at random 0.5
    await run(s, 1000);
    const d2 = s.outbox.deliveriesOf('n1')[0]!;
    expect(d2).toMatchObject({ state: 'pending', attempts: 2, lastError: 'zalo_bot_timeout' });
    expect(d2.nextAt - clock.now()).toBe(2000); // doubled
    await run(s, 1999);
    expect(a.accepted).toHaveLength(0);
    await run(s, 1);
    expect(a.accepted).toHaveLength(1);
    expect(s.outbox.deliveriesOf('n1')[0]).toMatchObject({ state: 'sent', attempts: 3 });
    expect(metrics.render()).toContain('canh_notify_retries_total{channel="a"} 2');
  });

  it('a wall clock set back by a day does not park a retry for a day', async () => {
    const a = new ScriptedNotifier('a');
    a.script = [{ status: 'retriable', reason: 'zalo_bot_http_503' }];
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    s.enqueue(notification('n1'));
    await run(s);
    clock.setWall(clock.now() - 86_400_000);
    await run(s, 1000);
    expect(a.accepted).toHaveLength(1);
  });

  it('a delivery whose parts were all accepted (text now cut into fewer parts) is marked sent, not sent again', async () => {
    const a = new ScriptedNotifier('a');
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.enqueue(notification('n1'));
    db.prepare('UPDATE notify_deliveries SET parts_sent = 3').run();
    s.start();
    await run(s);
    expect(a.calls).toHaveLength(0);
    expect(s.outbox.deliveriesOf('n1')[0]!.state).toBe('sent');
  });

  it('backoff: capped, jittered within bounds', () => {
    const o = config().retry;
    expect(backoffMs(1, o, () => 0)).toBe(800);
    expect(backoffMs(1, o, () => 1)).toBe(1200);
    expect(backoffMs(3, o, () => 0.5)).toBe(4000);
    expect(backoffMs(30, o, () => 0.5)).toBe(60_000);
  });

  it('gives up after maxAttempts and records the reason', async () => {
    const a = new ScriptedNotifier('a');
    a.fallback = { status: 'retriable', reason: 'zalo_bot_http_502' };
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    s.enqueue(notification('n1'));
    await run(s, 120_000);
    expect(a.calls).toHaveLength(4);
    const d = s.outbox.deliveriesOf('n1')[0]!;
    expect(d.state).toBe('failed');
    expect(d.attempts).toBe(4);
    expect(d.lastError).toMatch(/^gave_up after 4 attempts; last error: zalo_bot_http_502/);
    expect(metrics.render()).toContain('canh_notify_failed_total{channel="a",reason="gave_up"} 1');
  });

  it('gives up a delivery older than maxAgeMs', async () => {
    const a = new ScriptedNotifier('a');
    a.fallback = { status: 'retriable', reason: 'smtp_ECONNECTION' };
    const cfg = config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] });
    cfg.retry.maxAttempts = 1000;
    cfg.retry.maxAgeMs = 10_000;
    const s = service([a], cfg);
    s.start();
    s.enqueue(notification('n1'));
    await run(s, 30_000);
    const d = s.outbox.deliveriesOf('n1')[0]!;
    expect(d.state).toBe('failed');
    expect(d.lastError).toMatch(/^gave_up after \d+ attempts over \d+ s; last error: smtp_ECONNECTION/);
  });

  it('records a permanent error as failed at once, and goes on with the next message', async () => {
    const a = new ScriptedNotifier('a');
    a.script = [{ status: 'permanent', reason: 'smtp_550' }];
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    s.enqueue(notification('n1'));
    s.enqueue(notification('n2'));
    await run(s);
    expect(s.outbox.deliveriesOf('n1')[0]).toMatchObject({ state: 'failed', attempts: 1, lastError: 'permanent: smtp_550' });
    expect(s.outbox.deliveriesOf('n2')[0]!.state).toBe('sent');
  });

  it('keeps queue order per channel: a later message waits behind one being retried', async () => {
    const a = new ScriptedNotifier('a');
    a.script = [{ status: 'retriable', reason: 'webhook_http_503' }];
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] }));
    s.start();
    s.enqueue(notification('alert'));
    s.enqueue(notification('resolved', { firing: [], resolved: [congestionAlert({ endsAt: Date.UTC(2026, 10, 24, 2, 0) })] }));
    await run(s, 5000);
    expect(a.accepted.map((x) => x.key)).toEqual(['alert:a:0', 'resolved:a:0']);
    expect(a.accepted[1]!.subject).toMatch(/^\[ĐÃ KHẮC PHỤC\]/);
  });

  it('rate limit: excess waits in the outbox and is sent later, nothing dropped', async () => {
    const a = new ScriptedNotifier('a');
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/', rateLimit: { perMinute: 6, burst: 2 } }] }));
    s.start();
    for (let i = 0; i < 5; i++) s.enqueue(notification(`n${i}`));
    await run(s);
    expect(a.accepted).toHaveLength(2); // the burst
    await run(s, 10_000);
    expect(a.accepted).toHaveLength(3); // one token per 10 s
    await run(s, 20_000);
    expect(a.accepted.map((x) => x.key)).toEqual(['n0:a:0', 'n1:a:0', 'n2:a:0', 'n3:a:0', 'n4:a:0']);
    expect(s.outbox.list('failed')).toHaveLength(0);
    expect(metrics.render()).toMatch(/canh_notify_rate_limited_total\{channel="a"\} [1-9]/);
  });

  it('bounds the queue per channel: the oldest pending deliveries are given up, counted and recorded', async () => {
    const a = new ScriptedNotifier('a');
    a.fallback = { status: 'retriable', reason: 'down' };
    const s = service([a], config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }], outbox: { maxPendingPerChannel: 3 } }));
    let dropped = 0;
    for (let i = 0; i < 5; i++) dropped += s.enqueue(notification(`n${i}`)).dropped;
    expect(dropped).toBe(2);
    expect(
      s.outbox
        .list('pending')
        .map((d) => d.messageId)
        .sort(),
    ).toEqual(['n2', 'n3', 'n4']);
    expect(s.outbox.list('failed').map((d) => [d.messageId, d.lastError?.slice(0, 8)])).toEqual([
      ['n1', 'overflow'],
      ['n0', 'overflow'],
    ]);
    expect(metrics.render()).toContain('canh_notify_failed_total{channel="a",reason="overflow"} 2');
    expect(metrics.render()).toContain('canh_notify_pending{channel="a"} 3');
  });

  it('never loses nor duplicates across a restart on the same SQLite file (multi-part resumes after the last accepted part)', async () => {
    // Run 1: n0 delivered; n1's first part accepted, its second hangs; the collector then dies.
    const a1 = new ScriptedNotifier('a', 400);
    a1.script = [{ status: 'accepted' }, { status: 'accepted' }, 'hang'];
    const cfg = config({ channels: [{ type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' }] });
    const s1 = service([a1], cfg);
    s1.start();
    const short = (id: string) => notification(id, { firing: [congestionAlert({ description: { vi: '', en: '' }, advice: undefined, values: [] })] });
    s1.enqueue(short('n0'));
    s1.enqueue(notification('n1'));
    s1.enqueue(short('n2'));
    for (let i = 0; i < 100 && a1.calls.length < 3; i++) await new Promise((r) => setImmediate(r));
    expect(a1.calls).toHaveLength(3);
    expect(a1.accepted.map((x) => x.key)).toEqual(['n0:a:0', 'n1:a:0']);
    expect(s1.outbox.deliveriesOf('n1')[0]).toMatchObject({ state: 'pending', partsSent: 1 });
    // "Crash": the process is gone, the database file stays (the hung send never returns).
    services.splice(services.indexOf(s1), 1);
    db.close();

    // Run 2: a new service over the same file sends what is left, once.
    db = openDatabase(file);
    const a2 = new ScriptedNotifier('a', 400);
    const s2 = service([a2], cfg);
    s2.start();
    await run(s2);
    const n1 = s2.outbox.deliveriesOf('n1')[0]!;
    expect(n1.state).toBe('sent');
    expect(n1.partsSent).toBeGreaterThanOrEqual(2);
    const all = [...a1.accepted, ...a2.accepted].map((x) => x.key);
    expect(all).toEqual(['n0:a:0', ...Array.from({ length: n1.partsSent }, (_, i) => `n1:a:${i}`), 'n2:a:0']);
    expect(a2.accepted[0]!.text).toMatch(new RegExp(`^\\(2/${n1.partsSent}\\) `));
    for (const x of [...a1.accepted, ...a2.accepted]) expect([...x.text].length).toBeLessThanOrEqual(400);
  });

  it('daily digest: summary of the day per site, queued once per day, on the digest channels', async () => {
    const a = new ScriptedNotifier('a');
    const b = new ScriptedNotifier('b');
    let fire: (() => void) | undefined;
    const scheduler: DigestScheduler = {
      schedule(expr, tz, run) {
        expect(expr).toBe('30 17 * * *');
        expect(tz).toBe('Asia/Ho_Chi_Minh');
        fire = run;
        return { stop: () => (fire = undefined) };
      },
    };
    const cfg = config({
      channels: [
        { type: 'webhook', name: 'a', url: 'http://127.0.0.1:9/' },
        { type: 'webhook', name: 'b', url: 'http://127.0.0.1:9/', digestOnly: true },
      ],
      digest: { enabled: true, channels: ['b'] },
    });
    const s = service([a, b], cfg, { scheduler });
    s.start();
    s.enqueue(notification('n1'));
    await run(s, 3600_000, 600_000);
    s.enqueue(notification('n2', { firing: [], resolved: [congestionAlert({ endsAt: clock.now() })] }));
    await run(s);
    expect(a.accepted).toHaveLength(2);
    expect(b.accepted).toHaveLength(0); // digest-only channel: no single alerts
    fire!();
    await run(s);
    expect(b.accepted).toHaveLength(1);
    const text = b.accepted[0]!.text;
    expect(b.accepted[0]!.subject).toBe('[TỔNG HỢP] Tổng hợp cảnh báo ngày 24/11/2026');
    expect(text).toContain('UBND xã Tân Phú (tan-phu):');
    expect(text).toMatch(/🟠 Mạng chậm giờ cao điểm.* · 1 lần · đã khắc phục lúc 10:00 24\/11\/2026/);
    expect(text).toMatch(/🔴 Ổ đĩa C: sắp đầy \(97%\) – Máy pc-mot-cua-01 · từ 07:40 24\/11\/2026 · 1 lần · vẫn đang xảy ra/);
    expect(s.runDigest().duplicate).toBe(true); // same day again: nothing new
    expect(metrics.render()).toContain('canh_notify_digests_total 1');
  });
});
