/**
 * The monthly report sent by the collector (issue 7: "scheduled monthly by node-cron and sent
 * by email (HTML) and as a short Zalo summary"): an in-process collector on a real SQLite
 * data folder, an e-mail channel to a real SMTP server (the `smtp-server` library) and a
 * Zalo Bot channel to the local stand-in. The previous month is due (day 1, 07:00 Vietnam
 * time, has passed), so the job queues it when the collector starts: one e-mail with the
 * subject, the Vietnamese HTML report as its body and the CSV attached (UTF-8 with BOM), one
 * Zalo summary of at most 2,000 characters. SMTP down at first: retried, delivered later.
 * A restart on the same data folder sends nothing twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { dueMonth } from '../../collector/report/monthly-report-job.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { topicFor, type MessageKind } from '../../contract/topics.js';
import { freePort } from '../helpers/free-port.js';
import { validMessage } from '../helpers/hostile-payloads.js';
import { leaves, parseMime } from '../helpers/mime.js';
import { ZaloStandin } from '../helpers/zalo-standin.js';
import { waitFor } from '../helpers/wait.js';

const SITE = 'xa-tan-phu';
const SITE_NAME = 'UBND xã Tân Phú';
const BOT_TOKEN = '1200000002:MonthlyReportTestToken';
const TZ = 'Asia/Ho_Chi_Minh';

describe('monthly report sent by the collector (e-mail + Zalo)', () => {
  let dataDir: string;
  let standin: ZaloStandin;
  let smtpPort: number;
  let smtp: SMTPServer | undefined;
  let mails: string[];
  let collector: Collector | undefined;

  async function makeCollector(clock: Clock = systemClock): Promise<Collector> {
    const config = CollectorConfigSchema.parse({
      dataDir,
      broker: { embedded: { host: '127.0.0.1', port: 0 } },
      http: { host: '127.0.0.1', port: 0 },
      sites: { [SITE]: { name: SITE_NAME, lineMbps: 20 } },
      notify: {
        channels: [
          { type: 'zalo_bot', name: 'zalo', token: BOT_TOKEN, chatId: 'it-huyen', baseUrl: standin.url, timeoutMs: 1000 },
          { type: 'email', name: 'email-it', host: '127.0.0.1', port: smtpPort, security: 'none', from: 'Canh <canh@xa.gov.vn>', to: ['it@huyen.gov.vn'], timeoutMs: 1000 },
        ],
        retry: { minDelayMs: 100, maxDelayMs: 300 },
      },
      report: { schedule: { enabled: true, dayOfMonth: 1, time: '07:00', timezone: TZ, lang: 'vi' } },
    });
    return Collector.open(config, silentLogger(), { clock, announce: () => undefined });
  }

  async function startSmtp(): Promise<void> {
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
      smtp!.on('error', reject);
      smtp!.listen(smtpPort, '127.0.0.1', () => resolve());
    });
  }

  /** Two PCs of the site report (the site becomes known to the store at the collector's time). */
  function feedSite(c: Collector): void {
    let seq = 0;
    const now = c.clock.now();
    for (const host of ['pc-01', 'pc-02']) {
      const feed = (kind: MessageKind, t: number): void => {
        const m = validMessage(kind, SITE, host, ++seq, t, t, `boot-${host}-0001`);
        const out = c.ingest.handle(topicFor(SITE, host, kind), Buffer.from(JSON.stringify(m)));
        if (out.status !== 'accepted') throw new Error(`feed ${kind}: ${JSON.stringify(out)}`);
      };
      feed('status', now - 60_000);
      feed('inventory', now - 60_000);
      for (let i = 0; i < 3; i++) feed('samples', now - 50_000 + i * 10_000);
    }
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'canh-report-send-'));
    standin = new ZaloStandin({ botTokens: [BOT_TOKEN] });
    await standin.start();
    smtpPort = await freePort();
    mails = [];
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
    await standin.stop();
    if (smtp) await new Promise<void>((r) => smtp!.close(() => r()));
    smtp = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the due month once: e-mail (HTML, CSV with BOM) after SMTP comes back, Zalo summary; nothing twice after a restart', async () => {
    const month = dueMonth(Date.now(), { dayOfMonth: 1, time: '07:00', timezone: TZ });
    const [y, m] = month.split('-');
    // The site joined in the middle of the previous month (a collector whose clock is then).
    const offset = Date.now() - Date.parse(`${month}-15T05:00:00Z`);
    const midPrevious: Clock = Object.assign(Object.create(systemClock) as Clock, { now: () => Date.now() - offset });
    collector = await makeCollector(midPrevious);
    await collector.start();
    feedSite(collector);
    await collector.stop();

    // Started again (as after a night off): the due report is queued at start. SMTP is down.
    collector = await makeCollector();
    await collector.start();
    // A site that joins now gets no (empty) report for the previous month (checked after the restart below).
    let seq = 100;
    const now = Date.now();
    for (const kind of ['status', 'inventory'] as const) {
      const msg = validMessage(kind, 'xa-moi', 'pc-01', ++seq, now, now, 'boot-moi-0001');
      expect(collector.ingest.handle(topicFor('xa-moi', 'pc-01', kind), Buffer.from(JSON.stringify(msg))).status).toBe('accepted');
    }
    await waitFor(() => standin.botMessages.length === 1, { timeoutMs: 20_000, what: 'the Zalo summary' });
    const zalo = standin.botMessages[0]!;
    expect([...zalo.text].length).toBeLessThanOrEqual(2000);
    expect(zalo.text).toContain(SITE_NAME);
    expect(zalo.text).toContain(`${m}/${y}`);
    const email = () => collector!.notify.outbox.deliveriesOf(`report:${SITE}:${month}`).find((d) => d.channel === 'email-it')!;
    await waitFor(() => email().attempts >= 2, { what: 'failed SMTP attempts' });
    expect(email().state).toBe('pending');
    expect(email().lastError).toMatch(/^smtp_/);
    expect(mails).toHaveLength(0);

    await startSmtp();
    await waitFor(() => mails.length === 1, { what: 'the e-mail after SMTP came back' });
    await collector.notify.idle();
    expect(email().state).toBe('sent');

    const mail = parseMime(mails[0]!);
    expect(mail.headers.subject).toBe(`[Canh] Báo cáo hạ tầng CNTT tháng ${m}/${y} – ${SITE_NAME}`);
    const parts = leaves(mail);
    const html = parts.find((p) => p.type === 'text/html')!.body.toString('utf8');
    expect(html).toContain(SITE_NAME); // diacritics intact through MIME
    expect(html).toMatch(/<html[^>]*lang="vi"/);
    expect(html).toContain('Mức độ sẵn sàng của Trung tâm trong giờ làm việc');
    const text = parts.find((p) => p.type === 'text/plain' && !p.filename)!.body.toString('utf8');
    expect(text).toBe(zalo.text);
    const csv = parts.find((p) => p.filename?.endsWith('.csv'))!;
    expect(csv.type).toBe('text/csv');
    expect([...csv.body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.body.toString('utf8')).toContain(SITE);
    await collector.stop();

    // Restart on the same data folder: recorded as sent, nothing goes out again.
    collector = await makeCollector();
    await collector.start();
    await collector.reportJob!.runOnce();
    await collector.notify.idle();
    await new Promise((r) => setTimeout(r, 300));
    expect(standin.botMessages).toHaveLength(1);
    expect(mails).toHaveLength(1);
    expect(collector.notify.outbox.deliveriesOf(`report:${SITE}:${month}`).map((d) => d.state)).toEqual(['sent', 'sent']);
    expect(collector.notify.outbox.deliveriesOf(`report:xa-moi:${month}`)).toEqual([]);
  }, 60_000);
});
