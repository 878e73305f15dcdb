import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import cron from 'node-cron';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { dueMonth, MonthlyReportJob, type MonthlyReportMessage, type ReportSender } from '../../../../collector/report/monthly-report-job.js';
import { ReportConfigSchema } from '../../../../collector/report/report-config.js';
import { ReportService } from '../../../../collector/report/report-service.js';
import { ZALO_TEXT_MAX } from '../../../../collector/report/zalo-summary.js';
import { createLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { scenarioStore, SITE, type FilledStore } from '../../../helpers/report-scenario.js';

vi.setConfig({ testTimeout: 120_000 });

let s: FilledStore;
beforeAll(() => {
  s = scenarioStore();
}, 300_000);
afterAll(() => {
  s.store.close();
  rmSync(dirname(s.file), { recursive: true, force: true });
});

const schedule = ReportConfigSchema.parse({}).schedule;
const log = createLogger('test', { level: 'silent' });

it('the report of a month is due from 07:00 on the 1st of the next, Vietnam time', () => {
  // 1 Dec 2026 06:59 local = 30 Nov 23:59 UTC: November is not due yet (October is the last due).
  expect(dueMonth(Date.UTC(2026, 10, 30, 23, 59), schedule)).toBe('2026-10');
  expect(dueMonth(Date.UTC(2026, 11, 1, 0, 0), schedule)).toBe('2026-11');
  expect(dueMonth(Date.UTC(2026, 11, 20, 5, 0), schedule)).toBe('2026-11');
  // January's report is due on 1 February; December's on 1 January of the next year.
  expect(dueMonth(Date.UTC(2027, 0, 1, 0, 0), schedule)).toBe('2026-12');
});

class RecordingSender implements ReportSender {
  sent: MonthlyReportMessage[] = [];
  failNext = 0;
  async send(m: MonthlyReportMessage): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('smtp down');
    }
    this.sent.push(m);
  }
}

it('sends each site once (HTML + CSV + Zalo text), retries a failed send at the next run, never twice', async () => {
  const clock = new FakeClock(Date.UTC(2026, 11, 1, 0, 0)); // 07:00 on 1 December, local
  const sender = new RecordingSender();
  const job = new MonthlyReportJob({ db: s.db, service: new ReportService(s.sources), sender, clock, log, config: { ...schedule, sites: [SITE] }, knownSites: () => [SITE] });
  sender.failNext = 1;
  await job.runOnce();
  expect(sender.sent).toHaveLength(0);
  clock.advance(3_600_000);
  await job.runOnce();
  expect(sender.sent).toHaveLength(1);
  const m = sender.sent[0]!;
  expect(m.month).toBe('2026-11');
  expect(m.subject).toBe('[Canh] Báo cáo hạ tầng CNTT tháng 11/2026 – UBND xã Tân Phú');
  expect(m.html).toContain('Đã xảy ra 4 lần mất điện với tổng thời gian 3 giờ 12 phút');
  expect(m.csv.charCodeAt(0)).toBe(0xfeff);
  expect(m.csvFilename).toBe('canh-bao-cao-tan-phu-2026-11.csv');
  expect(m.zaloText).toContain('Mất điện: 4 lần (3 giờ 12 phút), 2 lần trong giờ làm việc');
  expect(m.zaloText.length).toBeLessThanOrEqual(ZALO_TEXT_MAX);
  // Later runs (and a new job after a restart, same store) do not send it again.
  await job.runOnce();
  const again = new MonthlyReportJob({ db: s.db, service: new ReportService(s.sources), sender, clock, log, config: { ...schedule, sites: [SITE] }, knownSites: () => [SITE] });
  await again.runOnce();
  expect(sender.sent).toHaveLength(1);
});

it('start() schedules with node-cron in the configured zone; stop() ends it; a disabled job schedules nothing', async () => {
  const spy = vi.spyOn(cron, 'schedule');
  const sender = new RecordingSender();
  const clock = new FakeClock(Date.UTC(2026, 11, 1, 0, 0));
  const mk = (enabled: boolean) =>
    new MonthlyReportJob({ db: s.db, service: new ReportService(s.sources), sender, clock, log, config: { ...schedule, enabled, sites: ['khong-co'] }, knownSites: () => [] });
  const off = mk(false);
  off.start();
  expect(spy).not.toHaveBeenCalled();
  const on = mk(true);
  expect(on.cronExpression()).toBe('0 * * * *');
  on.start();
  expect(spy).toHaveBeenCalledWith('0 * * * *', expect.any(Function), expect.objectContaining({ timezone: 'Asia/Ho_Chi_Minh', noOverlap: true }));
  await on.stop();
  // The unknown site was skipped, not sent.
  expect(sender.sent).toHaveLength(0);
  spy.mockRestore();
});
