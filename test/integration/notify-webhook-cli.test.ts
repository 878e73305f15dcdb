/**
 * The generic webhook (JSON, Idempotency-Key, secret header, HMAC signature; 5xx retried,
 * 4xx recorded) against a local HTTP receiver, and `canh notify test --channel …` with the
 * collector's config file against the Zalo stand-in (accepted, refused, OA token refresh
 * kept in the collector's store).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runNotifyCommand } from '../../cli/notify-command.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { webhookSignature } from '../../collector/notify/channels/webhook.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { Outbox } from '../../collector/notify/outbox.js';
import { NotificationSchema } from '../../collector/notify/notification.js';
import { openDatabase, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { notification } from '../helpers/notifications.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

function capture(): { stream: Writable; text: () => string } {
  let buf = '';
  return {
    stream: new Writable({
      write(c, _e, cb) {
        buf += String(c);
        cb();
      },
    }),
    text: () => buf,
  };
}

describe('webhook notifier', () => {
  let dir: string;
  let db: SqliteDatabase;
  let server: Server;
  let url: string;
  let answers: number[];
  let calls: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>;
  const services: NotifyService[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-webhook-'));
    db = openDatabase(join(dir, 'canh.db'));
    answers = [];
    calls = [];
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    await new Promise<void>((r) => server.close(() => r()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(): NotifyService {
    const cfg = NotifyConfigSchema.parse({
      channels: [{ type: 'webhook', name: 'hook', url, header: { name: 'X-Api-Key', secret: 'khoa-bi-mat' }, hmacSecret: 'hmac-secret-123', language: 'en', timeoutMs: 500 }],
      retry: { minDelayMs: 20, maxDelayMs: 50 },
    });
    const s = new NotifyService(cfg, { db, clock: systemClock, log: silentLogger(), metrics: new MetricsRegistry() });
    services.push(s);
    return s;
  }

  it('posts signed JSON with the notification; 503 retried with the same Idempotency-Key; 400 recorded as failed', async () => {
    answers = [503];
    const s = service();
    s.start();
    s.enqueue(notification('n1'));
    await waitFor(() => s.outbox.deliveriesOf('n1')[0]?.state === 'sent', { timeoutMs: 5000, what: 'webhook delivery' });
    expect(calls).toHaveLength(2);
    expect(calls[0]!.headers['idempotency-key']).toBe('n1:hook:0');
    expect(calls[1]!.headers['idempotency-key']).toBe('n1:hook:0');
    const c = calls[1]!;
    expect(c.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(c.headers['x-api-key']).toBe('khoa-bi-mat');
    const ts = c.headers['x-canh-timestamp'] as string;
    expect(c.headers['x-canh-signature']).toBe(webhookSignature('hmac-secret-123', ts, c.body));
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(10);
    const body = JSON.parse(c.body) as { kind: string; subject: string; language: string; notification: { id: string; firing: unknown[] } };
    expect(body).toMatchObject({ kind: 'alert', language: 'en', subject: '[ALERT] UBND xã Tân Phú: Disk C: nearly full (97%) (+1)' });
    expect(body.notification.id).toBe('n1');
    expect(body.notification.firing).toHaveLength(2);

    answers = [400];
    s.enqueue(notification('n2'));
    await waitFor(() => s.outbox.deliveriesOf('n2')[0]?.state === 'failed', { timeoutMs: 5000, what: 'permanent failure' });
    expect(s.outbox.deliveriesOf('n2')[0]!.lastError).toBe('permanent: webhook_http_400');
  });
});

describe('canh notify test --channel', () => {
  const BOT_TOKEN = '8812345678:CliTestBotTokenSecretValue';
  const OA = { appId: '99887766', secret: 'cli-oa-secret', accessToken: 'cli-access-0', refreshToken: 'cli-refresh-0' };
  let dir: string;
  let standin: ZaloStandin;
  let configFile: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-notify-cli-'));
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN], oa: { ...OA } });
    await standin.start();
    configFile = join(dir, 'collector.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        notify: {
          channels: [
            { type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'nhom-it', baseUrl: standin.url, timeoutMs: 1000 },
            { type: 'zalo_oa', name: 'zalo-oa', groupId: 'g1', ...OA, baseUrl: standin.url, oauthUrl: standin.url, timeoutMs: 1000 },
            { type: 'webhook', name: 'off', url: 'http://127.0.0.1:9/', enabled: false },
          ],
        },
      }),
    );
  });
  afterEach(async () => {
    await standin.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a real test message through the configured channel and exits 0', async () => {
    const out = capture();
    const err = capture();
    const code = await runNotifyCommand(['test', '--channel', 'zalo', '--config', configFile], out.stream, err.stream);
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    expect(out.text()).toBe('canh notify: test message accepted by "zalo" (1 part)\n');
    expect(standin.botMessages).toHaveLength(1);
    expect(standin.botMessages[0]!.chatId).toBe('nhom-it');
    expect(standin.botMessages[0]!.text).toMatch(/^\[THỬ\] Canh \(canh\)\n\nĐang xảy ra \(1\):\n\n🔵 THÔNG TIN · Tin nhắn thử: kênh "zalo" hoạt động/);
  });

  it('a refusal exits 1 with the reason, without the token', async () => {
    standin.failNext('bot', { kind: 'bot_error', error_code: 403, description: 'Forbidden: bot was removed from the group' });
    const out = capture();
    const err = capture();
    const code = await runNotifyCommand(['test', '--channel', 'zalo', '--config', configFile], out.stream, err.stream);
    expect(code).toBe(1);
    expect(err.text()).toContain('"zalo" did not accept the test message (temporary error): zalo_bot_error_403: Forbidden: bot was removed from the group');
    expect(err.text() + out.text()).not.toContain(BOT_TOKEN);
  });

  it('Zalo OA: an expired token is refreshed once and the new pair kept in the collector store', async () => {
    standin.expireAccessToken();
    const code = await runNotifyCommand(['test', '--channel', 'zalo-oa', '--config', configFile], capture().stream, capture().stream);
    expect(code).toBe(0);
    expect(standin.refreshes).toBe(1);
    const db = openDatabase(join(dir, 'data', 'canh.db'));
    try {
      const row = db.prepare('SELECT access_token, refresh_token FROM notify_oa_tokens').get() as { access_token: string; refresh_token: string };
      expect({ accessToken: row.access_token, refreshToken: row.refresh_token }).toEqual(standin.oaTokens);
    } finally {
      db.close();
    }
  });

  it('status: deliveries per channel and the latest failures with their reasons', async () => {
    const db = openDatabase(join(dir, 'data', 'canh.db'));
    try {
      const outbox = new Outbox(db, { maxPendingPerChannel: 100, retentionMs: 86_400_000 });
      const message = { kind: 'alert' as const, notification: NotificationSchema.parse(notification('s1')) };
      outbox.enqueue(message, ['zalo', 'zalo-oa'], Date.now());
      const d = outbox.deliveriesOf('s1').find((x) => x.channel === 'zalo')!;
      outbox.markFailed(d.id, 'gave_up after 30 attempts; last error: zalo_bot_http_503', Date.now(), true);
    } finally {
      db.close();
    }
    const out = capture();
    expect(await runNotifyCommand(['status', '--config', configFile], out.stream, capture().stream)).toBe(0);
    expect(out.text()).toContain('zalo: 0 pending, 0 sent, 1 failed\nzalo-oa: 1 pending, 0 sent, 0 failed\n');
    expect(out.text()).toMatch(/latest failures:\n {2}\S+ zalo s1 after 1 attempt\(s\): gave_up after 30 attempts; last error: zalo_bot_http_503\n/);
  });

  it('unknown or disabled channel: exit 2 with the configured names', async () => {
    const err = capture();
    expect(await runNotifyCommand(['test', '--channel', 'off', '--config', configFile], capture().stream, err.stream)).toBe(2);
    expect(err.text()).toBe('canh notify: no enabled channel "off" in notify.channels (configured: zalo, zalo-oa, off (disabled))\n');
  });
});
