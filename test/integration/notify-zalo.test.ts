/**
 * Zalo channels against the local stand-in of Zalo's cloud APIs (test/helpers/zalo-standin.ts),
 * through the real outbox on a real SQLite file: ok:false, 5xx, timeouts and resets are
 * retried; -216 triggers exactly one token refresh (also with concurrent sends), the retry
 * succeeds and the new pair is persisted; long texts are cut at 2,000 characters; nothing
 * is lost or sent twice across a collector restart; the bot token never reaches the logs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { createLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { openDatabase, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { congestionAlert, diskAlert, notification } from '../helpers/notifications.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

const BOT_TOKEN = '3517712938:QmVyeVNlY3JldEJvdFRva2VuRm9yQ2FuaA';
const OA = { appId: '4321987654321', secret: 'oa-app-secret-key-XYZ', accessToken: 'oa-access-initial-abc', refreshToken: 'oa-refresh-initial-def' };

describe('Zalo notifiers against the stand-in', () => {
  let dir: string;
  let file: string;
  let db: SqliteDatabase;
  let standin: ZaloStandin;
  let logText: string;
  const services: NotifyService[] = [];

  function logger() {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logText += String(chunk);
        cb();
      },
    });
    return createLogger('collector', { level: 'debug', destination: sink });
  }

  function service(over: { maxAttempts?: number; channels?: unknown[] } = {}): NotifyService {
    const cfg = NotifyConfigSchema.parse({
      channels: over.channels ?? [
        { type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'group-xa-tan-phu', baseUrl: standin.url, timeoutMs: 300 },
        { type: 'zalo_oa', name: 'zalo-oa', groupId: 'oa-group-1', ...OA, baseUrl: standin.url, oauthUrl: standin.url, timeoutMs: 300 },
      ],
      rateLimit: { perMinute: 60_000, burst: 1000 },
      retry: { minDelayMs: 20, maxDelayMs: 100, maxAttempts: over.maxAttempts ?? 10 },
    });
    const s = new NotifyService(cfg, { db, clock: systemClock, log: logger().child({ module: 'notify' }), metrics: new MetricsRegistry() });
    services.push(s);
    return s;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-zalo-'));
    file = join(dir, 'canh.db');
    db = openDatabase(file);
    logText = '';
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN], oa: { ...OA } });
    await standin.start();
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    await standin.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Bot API: a notification arrives as one Vietnamese text in the configured chat', async () => {
    const s = service();
    s.start();
    s.enqueue(notification('n1', { channels: ['zalo'] }));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { timeoutMs: 5000, what: 'delivery' });
    expect(standin.botMessages).toHaveLength(1);
    const m = standin.botMessages[0]!;
    expect(m.chatId).toBe('group-xa-tan-phu');
    expect(m.text).toMatch(/^\[CẢNH BÁO\] UBND xã Tân Phú \(tan-phu\)/);
    expect(m.text).toContain('Mất gói 31,2% (bình thường 0,5%, ngưỡng 5%)');
  });

  it('Bot API: ok:false, 5xx, a timeout and a reset are retried; the message arrives once; the token is never logged', async () => {
    standin.failNext(
      'bot',
      { kind: 'bot_error', error_code: 429, description: 'Too Many Requests' },
      { kind: 'bot_error', error_code: 500, description: `Internal error for bot${BOT_TOKEN}`, status: 200 },
      { kind: 'status', status: 503 },
      { kind: 'hang' },
      { kind: 'reset' },
    );
    const s = service();
    s.start();
    s.enqueue(notification('n1', { channels: ['zalo'] }));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { what: 'delivery after faults' });
    expect(standin.botMessages).toHaveLength(1);
    expect(standin.requests.filter((r) => r.api === 'bot')).toHaveLength(6);
    const d = s.outbox.deliveriesOf('n1')[0]!;
    expect(d.attempts).toBe(6);
    // Retries were logged with their reasons, and the token is in no log line and no stored reason.
    expect(logText).toContain('zalo_bot_error_429');
    expect(logText).toContain('zalo_bot_http_503');
    expect(logText).toContain('zalo_bot_timeout');
    expect(logText).toContain('notification delivered');
    expect(logText).toContain('[redacted]'); // the echoed token in the description
    expect(logText).not.toContain(BOT_TOKEN);
    expect(logText).not.toContain(BOT_TOKEN.split(':')[1]);
    const stored = db.prepare('SELECT last_error FROM notify_deliveries').all() as Array<{ last_error: string | null }>;
    for (const r of stored) expect(r.last_error ?? '').not.toContain(BOT_TOKEN);
  });

  it('Bot API: a text above 2,000 characters goes out in numbered parts, each within the limit, in order', async () => {
    const many = Array.from({ length: 30 }, (_, i) => diskAlert({ fingerprint: `disk:${i}`, host: `pc-${String(i).padStart(2, '0')}` }));
    const s = service();
    s.start();
    s.enqueue(notification('big', { channels: ['zalo'], firing: many }));
    await waitFor(() => s.outbox.deliveriesOf('big')[0]?.state === 'sent', { timeoutMs: 5000, what: 'multi-part delivery' });
    const texts = standin.botMessages.map((m) => m.text);
    expect(texts.length).toBeGreaterThan(1);
    texts.forEach((t, i) => {
      expect([...t].length).toBeLessThanOrEqual(2000);
      expect(t.startsWith(`(${i + 1}/${texts.length}) `)).toBe(true);
    });
    expect(s.outbox.deliveriesOf('big')[0]!.partsSent).toBe(texts.length);
  });

  it('OA: error -216 → exactly one refresh → the retry succeeds and the new pair is persisted', async () => {
    standin.expireAccessToken();
    const s = service();
    s.start();
    s.enqueue(notification('n1', { channels: ['zalo-oa'] }));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { timeoutMs: 5000, what: 'OA delivery' });
    expect(standin.refreshes).toBe(1);
    expect(standin.refreshRequests[0]).toEqual({ appId: OA.appId, refreshToken: OA.refreshToken, secretKey: OA.secret, grantType: 'refresh_token' });
    expect(standin.oaMessages).toHaveLength(1);
    expect(standin.oaMessages[0]!.groupId).toBe('oa-group-1');
    expect(standin.oaMessages[0]!.accessToken).toBe(standin.oaTokens!.accessToken);
    // One send attempt for the delivery: the refresh and retry happen inside it.
    expect(s.outbox.deliveriesOf('n1')[0]!.attempts).toBe(1);
    const row = db.prepare('SELECT access_token, refresh_token, expires_at FROM notify_oa_tokens WHERE app_id = ?').get(OA.appId) as {
      access_token: string;
      refresh_token: string;
      expires_at: number;
    };
    expect({ a: row.access_token, r: row.refresh_token }).toEqual({ a: standin.oaTokens!.accessToken, r: standin.oaTokens!.refreshToken });
    expect(row.expires_at).toBeGreaterThan(Date.now() + 89_000_000);
    expect(logText).not.toContain(standin.oaTokens!.accessToken);
    expect(logText).not.toContain(OA.secret);

    // After a restart the stored pair is used: no second refresh (the old refresh token is spent).
    await s.stop();
    const s2 = service();
    s2.start();
    s2.enqueue(notification('n2', { channels: ['zalo-oa'] }));
    await waitFor(() => s2.outbox.deliveriesOf('n2')[0]?.state === 'sent', { timeoutMs: 5000, what: 'OA delivery after restart' });
    expect(standin.refreshes).toBe(1);
    expect(standin.oaMessages).toHaveLength(2);
  });

  it('OA: concurrent sends that all meet -216 share one refresh', async () => {
    standin.expireAccessToken();
    standin.failNext('oauth', { kind: 'delay', ms: 150 }); // a slow refresh: every send is waiting on it
    const s = service({
      channels: [1, 2, 3].map((i) => ({ type: 'zalo_oa', name: `oa-${i}`, groupId: `group-${i}`, ...OA, baseUrl: standin.url, oauthUrl: standin.url, timeoutMs: 1000 })),
    });
    s.start();
    s.enqueue(notification('n1'));
    const oa1 = s.notifiers.get('oa-1')!;
    const direct = await Promise.all(
      [0, 1, 2]
        .map((i) => oa1.parts({ language: 'vi', subject: 's', text: `song song ${i}`, html: '', message: { kind: 'test', notification: {} as never } })[0]!)
        .map((p, i) => oa1.send(p, { idempotencyKey: `x:${i}`, part: 0, parts: 1 })),
    );
    expect(direct.map((o) => o.status)).toEqual(['accepted', 'accepted', 'accepted']);
    await waitFor(() => s.outbox.deliveriesOf('n1').every((d) => d.state === 'sent'), { timeoutMs: 5000, what: 'three OA channels' });
    expect(standin.refreshes).toBe(1);
    expect(standin.refreshRequests).toHaveLength(1);
    expect(standin.oaMessages).toHaveLength(6);
  });

  it('OA: a refused refresh is a retriable failure with a clear reason (no refresh loop)', async () => {
    standin.expireAccessToken();
    const s = service({
      maxAttempts: 2,
      channels: [{ type: 'zalo_oa', name: 'zalo-oa', groupId: 'g', ...OA, refreshToken: 'spent-refresh-token', baseUrl: standin.url, oauthUrl: standin.url, timeoutMs: 300 }],
    });
    s.start();
    s.enqueue(notification('n1'));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'failed', { timeoutMs: 5000, what: 'give-up' });
    expect(standin.refreshRequests).toHaveLength(2); // one per attempt, never more
    expect(s.outbox.deliveriesOf('n1')[0]!.lastError).toMatch(/^gave_up after 2 attempts; last error: zalo_oa_refresh_failed_-14014/);
    expect(logText).toContain('authorise the OA again');
    expect(logText).not.toContain('spent-refresh-token');
  });

  it('never lost, never duplicated across a collector restart (outbox reopened from the same SQLite file)', async () => {
    // Two messages go out, then Zalo fails every request until the collector stops.
    const pass = { kind: 'delay' as const, ms: 0 };
    standin.failNext('bot', pass, pass, ...Array.from({ length: 1000 }, () => ({ kind: 'status' as const, status: 502 })));
    const s1 = service();
    s1.start();
    const ids = [0, 1, 2, 3, 4].map((i) => `restart-${i}`);
    ids.forEach((id, i) => s1.enqueue(notification(id, { channels: ['zalo'], siteName: `Xã số ${i}`, firing: [congestionAlert()] })));
    await waitFor(() => standin.requests.filter((r) => r.api === 'bot').length >= 4, { timeoutMs: 5000, what: 'failures after two deliveries' });
    await s1.stop(); // the collector stops with messages still pending
    expect(standin.botMessages).toHaveLength(2);
    expect(ids.map((id) => s1.outbox.deliveriesOf(id)[0]!.state)).toEqual(['sent', 'sent', 'pending', 'pending', 'pending']);
    db.close();
    standin.clearFaults();

    db = openDatabase(file);
    const s2 = service();
    s2.start();
    await waitFor(() => ids.every((id) => s2.outbox.deliveriesOf(id)[0]?.state === 'sent'), { timeoutMs: 5000, what: 'all delivered after restart' });
    const sites = standin.botMessages.map((m) => /UBND|Xã số \d/.exec(m.text)?.[0]);
    expect(sites).toEqual(['Xã số 0', 'Xã số 1', 'Xã số 2', 'Xã số 3', 'Xã số 4']);
  });

  it('gives up after the attempt bound and records it', async () => {
    standin.failNext('bot', ...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const s = service({ maxAttempts: 3 });
    s.start();
    s.enqueue(notification('n1', { channels: ['zalo'] }));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'failed', { timeoutMs: 5000, what: 'give-up' });
    const d = s.outbox.deliveriesOf('n1')[0]!;
    expect(d).toMatchObject({ state: 'failed', attempts: 3 });
    expect(d.lastError).toBe('gave_up after 3 attempts; last error: zalo_bot_http_503');
    expect(standin.botMessages).toHaveLength(0);
    expect(logText).toContain('notification given up');
  });
});
