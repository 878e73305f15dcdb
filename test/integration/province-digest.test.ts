/**
 * The province digest end to end through the real notifier outbox (issue 12 item 6): the
 * alert service over real ingest on a SQLite file (fake clock for the evaluations), the
 * notifiers with the system clock sending to the Zalo stand-in (Bot API) and to a real SMTP
 * server (`smtp-server`). 6 of 20 sites drop within a minute: each channel gets one message
 * per site and one province digest (Vietnamese on Zalo, English by e-mail); after a collector
 * restart on the same file nothing is sent again; when the sites are back, one summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertService } from '../../collector/alerting/alert-service.js';
import { AlertingConfigSchema } from '../../collector/alerting/alerting-config.js';
import { NotifierOutboxSink } from '../../collector/alerting/notifier-sink.js';
import { Ingest } from '../../collector/ingest/ingest.js';
import { NotifyConfigSchema } from '../../collector/notify/config.js';
import { NotifyService } from '../../collector/notify/notify-service.js';
import { siteDirectory, SiteSettingsSchema } from '../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../collector/store/sqlite-store.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { topicFor } from '../../contract/topics.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { freePort } from '../helpers/free-port.js';
import { decodeWords, parseMime, type MimePart } from '../helpers/mime.js';
import { waitFor } from '../helpers/wait.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';

const BOT_TOKEN = '1200000003:ProvinceDigestTestToken';
const SEC = 1000;
const MIN = 60_000;
const SITES = Array.from({ length: 20 }, (_, i) => `xa-${String(i + 1).padStart(2, '0')}`);
const siteName = (s: string) => `UBND xã Số ${Number(s.slice(3))}`;

function textOf(p: MimePart): string {
  if (p.type === 'text/plain') return p.body.toString('utf8');
  for (const c of p.parts) {
    const t = textOf(c);
    if (t) return t;
  }
  return '';
}

describe('province digest through the notifier outbox to Zalo and SMTP', () => {
  let dir: string;
  let file: string;
  let standin: ZaloStandin;
  let smtp: SMTPServer;
  let smtpPort: number;
  let mails: string[];
  const running: Array<{ stop(): Promise<void> | void }> = [];
  const dbs: SqliteDatabase[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-province-'));
    file = join(dir, 'canh.db');
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN] });
    await standin.start();
    mails = [];
    smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks).toString('utf8'));
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      smtp.on('error', reject);
      smtp.listen(smtpPort, '127.0.0.1', () => resolve());
    });
  });
  afterEach(async () => {
    for (const r of running.splice(0).reverse()) await r.stop();
    for (const db of dbs.splice(0)) db.close();
    await standin.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A collector's alerting and notifiers on the SQLite file, as collector.ts wires them. */
  async function collector(clock: FakeClock) {
    const db = openDatabase(file);
    dbs.push(db);
    const store = new SqliteStore(db, file);
    const metrics = new MetricsRegistry();
    const notify = new NotifyService(
      NotifyConfigSchema.parse({
        channels: [
          { type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'so-tttt', baseUrl: standin.url, timeoutMs: 1000 },
          {
            type: 'email',
            name: 'email',
            host: '127.0.0.1',
            port: smtpPort,
            security: 'none',
            from: 'Canh <canh@tinh.gov.vn>',
            to: ['it@tinh.gov.vn'],
            language: 'en',
            timeoutMs: 1000,
          },
        ],
        rateLimit: { perMinute: 6000, burst: 100 },
        retry: { minDelayMs: 50, maxDelayMs: 200 },
      }),
      { db, clock: systemClock, log: silentLogger(), metrics },
    );
    const sites = siteDirectory(Object.fromEntries(SITES.map((s) => [s, SiteSettingsSchema.parse({ name: siteName(s) })])), SiteSettingsSchema.parse({}));
    const alerting = new AlertService({
      config: AlertingConfigSchema.parse({}),
      db,
      store,
      sites,
      clock,
      log: silentLogger(),
      sink: new NotifierOutboxSink(notify),
      metrics,
    });
    const ingest = new Ingest({ store, clock, log: silentLogger(), metrics, onStored: (m) => alerting.onStored(m) });
    notify.start();
    await alerting.start();
    running.push(notify, alerting);
    let seq = 1000 * running.length;
    const status = (site: string, state: 'online' | 'offline') => {
      for (const host of ['pc1', 'pc2']) {
        const t = clock.now();
        const m = { v: 1, site, host, boot: 'boot0001', seq: ++seq, t, sent: t, state, hostname: host.toUpperCase(), agentVersion: '0.1.0' };
        const r = ingest.handle(topicFor(site, host, 'status'), Buffer.from(JSON.stringify(m)));
        if (r.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(r)}`);
      }
    };
    return { notify, alerting, status, metrics, stop: async () => (await alerting.stop(), await notify.stop()) };
  }

  it('6 of 20 sites drop: one message per site and one digest per channel; a restart sends nothing again; one summary when they are back', async () => {
    const clock = new FakeClock();
    const c = await collector(clock);
    for (const s of SITES) c.status(s, 'online');
    clock.advance(MIN);
    const down = SITES.slice(3, 9);
    for (const s of down) {
      c.status(s, 'offline');
      clock.advance(10 * SEC);
    }
    clock.advance(2 * MIN);

    const isDigest = (t: string) => t.startsWith('[SỰ CỐ DIỆN RỘNG]');
    await waitFor(() => standin.botMessages.length === 7 && mails.length === 7, { timeoutMs: 10_000, what: '6 site messages and 1 digest on each channel' });
    const zaloDigests = standin.botMessages.filter((m) => isDigest(m.text));
    expect(zaloDigests).toHaveLength(1);
    const z = zaloDigests[0]!.text;
    expect(z).toContain('[SỰ CỐ DIỆN RỘNG] 6/20 điểm mất kết nối cùng lúc');
    expect(z).toContain('6 trong 20 điểm có máy giám sát (30%) ngừng gửi dữ liệu');
    expect(z).toContain(`Các điểm: ${down.map(siteName).join(', ')}`);
    expect(z).toContain('đang xác định nguyên nhân: 6');
    // The per-site messages, one per site, before the digest (queue order).
    const perSite = standin.botMessages.filter((m) => !isDigest(m.text));
    expect(perSite.map((m) => /UBND xã Số \d+/.exec(m.text)?.[0]).sort()).toEqual(down.map(siteName).sort());
    expect(isDigest(standin.botMessages.at(-1)!.text)).toBe(true);

    const subjects = mails.map((raw) => decodeWords(parseMime(raw).headers['subject'] ?? ''));
    expect(subjects.filter((s) => s.startsWith('[WIDESPREAD OUTAGE]'))).toEqual(['[WIDESPREAD OUTAGE] 6/20 sites offline at once']);
    const mailDigest = parseMime(mails[subjects.findIndex((s) => s.startsWith('[WIDESPREAD OUTAGE]'))]!);
    expect(textOf(mailDigest)).toContain('6 of 20 monitored sites (30%) stopped reporting.');

    // The collector restarts on the same file; the sites are still down.
    await c.stop();
    running.splice(0);
    const clock2 = new FakeClock(clock.now() + 30 * SEC);
    const c2 = await collector(clock2);
    clock2.advance(3 * MIN);
    await c2.notify.idle();
    await new Promise((r) => setTimeout(r, 300));
    expect(standin.botMessages).toHaveLength(7);
    expect(mails).toHaveLength(7);

    // Back: the per-site resolved messages and one summary on each channel.
    for (const s of down) c2.status(s, 'online');
    clock2.advance(MIN);
    await waitFor(() => standin.botMessages.length === 14 && mails.length === 14, { timeoutMs: 10_000, what: 'resolved messages and the summary' });
    const summaries = standin.botMessages.filter((m) => m.text.startsWith('[SỰ CỐ DIỆN RỘNG – TỔNG KẾT]'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.text).toContain('Cả 6 điểm đã có kết nối trở lại');
    const subjects2 = mails.map((raw) => decodeWords(parseMime(raw).headers['subject'] ?? ''));
    expect(subjects2.filter((s) => s.startsWith('[WIDESPREAD OUTAGE – SUMMARY]'))).toEqual(['[WIDESPREAD OUTAGE – SUMMARY] 6/6 sites back online']);
    expect(c2.metrics.render()).toMatch(/canh_notify_province_digests_total\{phase="summary"\} 1\b/);
  });
});
