/**
 * The notifiers inside the collector: built from the collector config, started and stopped
 * with it, counters in /metrics; a collector stopped with deliveries pending sends them
 * after its restart on the same data folder, and sends the delivered ones no second time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { congestionAlert, notification } from '../helpers/notifications.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

const BOT_TOKEN = '1200000001:CollectorWiringTestToken';

describe('notifiers in the collector', () => {
  let dataDir: string;
  let standin: ZaloStandin;
  let collector: Collector | undefined;

  async function makeCollector(notify: Record<string, unknown> = {}): Promise<Collector> {
    const config = CollectorConfigSchema.parse({
      dataDir,
      broker: { embedded: { host: '127.0.0.1', port: 0 } },
      http: { host: '127.0.0.1', port: 0 },
      notify: {
        channels: [{ type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'it-huyen', baseUrl: standin.url, timeoutMs: 500 }],
        retry: { minDelayMs: 20, maxDelayMs: 50 },
        ...notify,
      },
    });
    return Collector.open(config, silentLogger());
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'canh-notify-collector-'));
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN] });
    await standin.start();
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    await standin.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers through the configured channel and counts it in /metrics', async () => {
    collector = await makeCollector();
    await collector.start();
    collector.notify.enqueue(notification('n1'));
    await waitFor(() => standin.botMessages.length === 1, { timeoutMs: 5000, what: 'Zalo message' });
    await collector.notify.idle();
    const metrics = await (await fetch(`http://127.0.0.1:${collector.http.port()}/metrics`)).text();
    expect(metrics).toContain('canh_notify_enqueued_total{channel="zalo"} 1');
    expect(metrics).toContain('canh_notify_sent_total{channel="zalo"} 1');
    expect(metrics).toContain('canh_notify_pending{channel="zalo"} 0');
    expect(metrics).not.toContain(BOT_TOKEN);
  });

  it('a restarted collector sends what was pending, once, and nothing twice', async () => {
    const pass = { kind: 'delay' as const, ms: 0 };
    standin.failNext('bot', pass, ...Array.from({ length: 1000 }, () => ({ kind: 'status' as const, status: 503 })));
    collector = await makeCollector();
    await collector.start();
    for (let i = 0; i < 3; i++) collector.notify.enqueue(notification(`c${i}`, { siteName: `Xã số ${i}`, firing: [congestionAlert()] }));
    await waitFor(() => standin.requests.length >= 3, { timeoutMs: 5000, what: 'one delivery then failures' });
    const metrics = await (await fetch(`http://127.0.0.1:${collector.http.port()}/metrics`)).text();
    expect(metrics).toContain('canh_notify_pending{channel="zalo"} 2');
    await collector.stop();
    collector = undefined;
    expect(standin.botMessages).toHaveLength(1);
    standin.clearFaults();

    collector = await makeCollector();
    await collector.start();
    await waitFor(() => standin.botMessages.length === 3, { timeoutMs: 5000, what: 'pending deliveries after restart' });
    await collector.notify.idle();
    expect(standin.botMessages.map((m) => /Xã số \d/.exec(m.text)?.[0])).toEqual(['Xã số 0', 'Xã số 1', 'Xã số 2']);
  });

  it('daily digest scheduled with node-cron: queued once per day however often the schedule fires', async () => {
    // Every second (node-cron's optional seconds field), so the test sees several firings.
    collector = await makeCollector({ digest: { enabled: true, cron: '* * * * * *', sendEmpty: true } });
    await collector.start();
    collector.notify.enqueue(notification('d1'));
    await waitFor(() => standin.botMessages.some((m) => m.text.startsWith('[TỔNG HỢP]')), { timeoutMs: 5000, what: 'digest' });
    await new Promise((r) => setTimeout(r, 2200));
    const digests = standin.botMessages.filter((m) => m.text.startsWith('[TỔNG HỢP]'));
    expect(digests).toHaveLength(1);
    expect(digests[0]!.text).toMatch(/^\[TỔNG HỢP\] Tổng hợp cảnh báo ngày \d\d\/\d\d\/\d{4}/);
    expect(digests[0]!.text).toContain('UBND xã Tân Phú (tan-phu):');
  });
});
