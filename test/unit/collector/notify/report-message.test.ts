/**
 * The monthly report in the notifiers (issue 7): the `report` outbox message rendered per
 * channel (e-mail: subject, HTML report body, summary text part, CSV attached with a BOM;
 * Zalo: the summary in one message ≤ 2,000 characters; webhook: summary, figures and the API
 * path, not the HTML) and NotifierReportSender's durable, idempotent hand-over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { EmailNotifier } from '../../../../collector/notify/channels/email.js';
import { ZaloBotNotifier } from '../../../../collector/notify/channels/zalo-bot.js';
import { NotifyConfigSchema } from '../../../../collector/notify/config.js';
import type { Notifier, RenderedMessage, SendContext, SendOutcome } from '../../../../collector/notify/notifier.js';
import { NotifyService } from '../../../../collector/notify/notify-service.js';
import { OutboxMessageSchema, type OutboxMessage } from '../../../../collector/notify/outbox-message.js';
import { render } from '../../../../collector/notify/render.js';
import { webhookReport, type ReportMessage } from '../../../../collector/notify/report-message.js';
import type { MonthlyReportMessage } from '../../../../collector/report/monthly-report-job.js';
import { NotifierReportSender } from '../../../../collector/report/notifier-report-sender.js';
import { openDatabase, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { leaves, parseMime } from '../../../helpers/mime.js';

const SUMMARY = 'Báo cáo tháng 10/2026 – UBND xã Tân Phú\nTỷ lệ sẵn sàng: 98,7%\nMất điện: 3 lần, tổng 4 giờ 12 phút';
const HTML = '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"></head><body><h1>Báo cáo hạ tầng CNTT – UBND xã Tân Phú</h1></body></html>';
const CSV = 'section,site,item,metric,value,unit\r\navailability,tan-phu,,centre_pct,98.7,%\r\n';

function report(over: Partial<ReportMessage> = {}): OutboxMessage {
  return {
    kind: 'report',
    report: {
      id: 'report:tan-phu:2026-10',
      site: 'tan-phu',
      siteName: 'UBND xã Tân Phú',
      month: '2026-10',
      createdAt: Date.UTC(2026, 10, 1, 0, 0),
      language: 'vi',
      subject: '[Canh] Báo cáo hạ tầng CNTT tháng 10/2026 – UBND xã Tân Phú',
      html: HTML,
      summary: SUMMARY,
      csv: CSV,
      csvFilename: 'canh-bao-cao-tan-phu-2026-10.csv',
      ...over,
    },
  };
}

const ctx: SendContext = { idempotencyKey: 'report:tan-phu:2026-10:email:0', part: 0, parts: 1 };

describe('report message rendering', () => {
  it('renders subject, the HTML report, the summary as text and the CSV attachment with one BOM, in the report language', () => {
    const r = render(report(), { language: 'en', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(r.language).toBe('vi');
    expect(r.subject).toBe('[Canh] Báo cáo hạ tầng CNTT tháng 10/2026 – UBND xã Tân Phú');
    expect(r.html).toBe(HTML);
    expect(r.text).toBe(SUMMARY);
    expect(r.attachments).toEqual([{ filename: 'canh-bao-cao-tan-phu-2026-10.csv', contentType: 'text/csv; charset=utf-8', content: `\uFEFF${CSV}` }]);
    const withBom = render(report({ csv: `\uFEFF${CSV}` }), { language: 'vi', timeZone: 'Asia/Ho_Chi_Minh' });
    expect(withBom.attachments![0]!.content).toBe(`\uFEFF${CSV}`);
  });

  it('survives the outbox round trip (JSON, schema) and refuses a summary over 2,000 characters', () => {
    const m = report();
    expect(OutboxMessageSchema.parse(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(OutboxMessageSchema.safeParse(report({ summary: 'x'.repeat(2001) })).success).toBe(false);
    expect(OutboxMessageSchema.safeParse(report({ month: '2026-13' })).success).toBe(false);
  });

  it('Zalo Bot: the summary in one message of at most 2,000 characters', () => {
    const bot = new ZaloBotNotifier(
      NotifyConfigSchema.parse({ channels: [{ type: 'zalo_bot', name: 'zalo', token: '1200000003:ReportUnitTestToken', chatId: 'g' }] }).channels[0] as never,
      { clock: new FakeClock(), log: silentLogger() },
    );
    const long = Array.from({ length: 80 }, (_, i) => `Dòng ${i}: máy trạm cần nâng cấp bộ nhớ`)
      .join('\n')
      .slice(0, 2000);
    for (const summary of [SUMMARY, long]) {
      const parts = bot.parts(render(report({ summary }), { language: 'vi', timeZone: 'Asia/Ho_Chi_Minh' }));
      expect(parts).toHaveLength(1);
      expect(parts[0]!.text).toBe(summary);
      expect([...parts[0]!.text].length).toBeLessThanOrEqual(2000);
    }
  });

  it('e-mail: HTML body, summary text part, CSV attachment with BOM; UTF-8 subject', async () => {
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
    const email = new EmailNotifier(
      NotifyConfigSchema.parse({ channels: [{ type: 'email', name: 'email', host: 'smtp.invalid', from: 'Canh <canh@xa.gov.vn>', to: ['it@huyen.gov.vn'] }] }).channels[0] as never,
      { log: silentLogger(), transport },
    );
    let raw = '';
    const sendMail = transport.sendMail.bind(transport);
    (transport as unknown as { sendMail: typeof sendMail }).sendMail = (async (opts: Parameters<typeof sendMail>[0]) => {
      const info = (await sendMail(opts)) as unknown as { message: Buffer; messageId: string; envelope: { to: string[] } };
      raw = info.message.toString('utf8');
      return { ...info, accepted: info.envelope.to, rejected: [] };
    }) as never;
    const [part] = email.parts(render(report(), { language: 'vi', timeZone: 'Asia/Ho_Chi_Minh' }));
    expect(await email.send(part!, ctx)).toMatchObject({ status: 'accepted' });
    const mail = parseMime(raw);
    expect(mail.headers.subject).toBe('[Canh] Báo cáo hạ tầng CNTT tháng 10/2026 – UBND xã Tân Phú');
    const parts = leaves(mail);
    expect(parts.find((p) => p.type === 'text/html')!.body.toString('utf8')).toBe(HTML);
    expect(parts.find((p) => p.type === 'text/plain' && !p.filename)!.body.toString('utf8')).toBe(SUMMARY);
    const csv = parts.find((p) => p.filename === 'canh-bao-cao-tan-phu-2026-10.csv')!;
    expect(csv.type).toBe('text/csv');
    expect(csv.body.equals(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CSV, 'utf8')]))).toBe(true);
    await email.close();
  });

  it('webhook: summary, figures (CSV) and the API path of the full report, not the HTML', () => {
    const w = webhookReport((report() as Extract<OutboxMessage, { kind: 'report' }>).report);
    expect(w).toMatchObject({
      id: 'report:tan-phu:2026-10',
      site: 'tan-phu',
      month: '2026-10',
      summary: SUMMARY,
      csv: CSV,
      path: '/api/reports?site=tan-phu&month=2026-10&format=html&lang=vi',
    });
    expect(JSON.stringify(w)).not.toContain('<html');
  });
});

class RecordingNotifier implements Notifier {
  readonly type = 'recording';
  readonly language = 'vi' as const;
  readonly sent: RenderedMessage[] = [];
  constructor(readonly name: string) {}
  parts(r: RenderedMessage): RenderedMessage[] {
    return [r];
  }
  async send(part: RenderedMessage): Promise<SendOutcome> {
    this.sent.push(part);
    return { status: 'accepted' };
  }
  async close(): Promise<void> {}
}

describe('NotifierReportSender', () => {
  let dir: string;
  let db: SqliteDatabase;
  const clock = new FakeClock();
  const message: MonthlyReportMessage = {
    site: 'tan-phu',
    siteName: 'UBND xã Tân Phú',
    month: '2026-10',
    lang: 'vi',
    subject: '[Canh] Báo cáo hạ tầng CNTT tháng 10/2026 – UBND xã Tân Phú',
    html: HTML,
    csv: `\uFEFF${CSV}`,
    csvFilename: 'canh-bao-cao-tan-phu-2026-10.csv',
    zaloText: SUMMARY,
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'canh-report-sender-'));
    db = openDatabase(join(dir, 'canh.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function service(notifiers: Notifier[]): NotifyService {
    const config = NotifyConfigSchema.parse({
      channels: [
        { type: 'webhook', name: 'zalo', url: 'http://127.0.0.1:9/a' },
        { type: 'webhook', name: 'email', url: 'http://127.0.0.1:9/b', digestOnly: true },
      ],
    });
    return new NotifyService(config, { db, clock, log: silentLogger(), metrics: new MetricsRegistry(), notifiers });
  }

  it('queues the report once for every enabled channel under report:<site>:<month>; a repeat resolves and queues nothing', async () => {
    const zalo = new RecordingNotifier('zalo');
    const email = new RecordingNotifier('email');
    const notify = service([zalo, email]);
    const sender = new NotifierReportSender(notify, clock);
    await sender.send(message);
    const deliveries = notify.outbox.deliveriesOf('report:tan-phu:2026-10');
    expect(deliveries.map((d) => [d.channel, d.state])).toEqual([
      ['email', 'pending'],
      ['zalo', 'pending'],
    ]);
    const stored = notify.outbox.message('report:tan-phu:2026-10');
    expect(stored).toMatchObject({ kind: 'report', report: { summary: SUMMARY, createdAt: clock.now(), language: 'vi' } });
    await sender.send(message); // the job crashed before recording it as sent
    expect(notify.outbox.deliveriesOf('report:tan-phu:2026-10')).toHaveLength(2);

    notify.start();
    await notify.idle();
    await notify.stop();
    expect(zalo.sent.map((p) => p.text)).toEqual([SUMMARY]);
    expect(email.sent.map((p) => p.attachments?.[0]?.filename)).toEqual(['canh-bao-cao-tan-phu-2026-10.csv']);
    expect(notify.outbox.deliveriesOf('report:tan-phu:2026-10').map((d) => d.state)).toEqual(['sent', 'sent']);
  });

  it('rejects when no channel takes the report, so the job tries again later', async () => {
    const notify = service([]);
    await expect(new NotifierReportSender(notify, clock).send(message)).rejects.toThrow(/no notifier channel/);
  });

  it('rejects an invalid report (summary over 2,000 characters) with a clear error', async () => {
    const notify = service([new RecordingNotifier('zalo')]);
    await expect(new NotifierReportSender(notify, clock).send({ ...message, zaloText: 'x'.repeat(2001) })).rejects.toThrow(/invalid report: summary/);
  });
});
