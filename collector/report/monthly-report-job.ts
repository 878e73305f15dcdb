import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { localTime, toMinutes } from '../sites/schedule/working-hours.js';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { ReportConfig } from './report-config.js';
import { UnknownSiteError } from './report-builder.js';
import { fmtMonth } from './report-format.js';
import type { ReportFile } from './report-runner.js';
import { lastCompleteMonth, type ReportService } from './report-service.js';
import { zaloSummary } from './zalo-summary.js';

/** What the monthly job hands to the notifiers for one site. */
export interface MonthlyReportMessage {
  site: string;
  siteName: string;
  /** `YYYY-MM` */
  month: string;
  lang: 'vi' | 'en';
  /** E-mail subject. */
  subject: string;
  /** The full report, self-contained HTML (the e-mail body). */
  html: string;
  /** The same figures as CSV (UTF-8 with BOM), for an attachment. */
  csv: string;
  csvFilename: string;
  /** Short summary for Zalo (≤ 2,000 characters). */
  zaloText: string;
}

/**
 * Port to the notifiers (collector/notify/): send the report by e-mail (HTML) and the
 * summary by Zalo. Resolves when both are handed over durably (the notifier outbox);
 * rejects to have the job try again at its next run.
 */
export interface ReportSender {
  send(message: MonthlyReportMessage): Promise<void>;
}

const MIGRATIONS = [`CREATE TABLE report_sent (site TEXT NOT NULL, month TEXT NOT NULL, sent_at INTEGER NOT NULL, PRIMARY KEY (site, month)) WITHOUT ROWID;`];

export interface MonthlyReportJobOptions {
  db: SqliteDatabase;
  service: ReportService;
  sender: ReportSender;
  clock: Clock;
  log: Logger;
  config: ReportConfig['schedule'];
  /** Every site known to the store (used when the config lists none). */
  knownSites: () => string[];
  /**
   * Whether a PC of the site had reported before the end of `month`. A site that joined
   * later has nothing to report for that month: no empty report is sent (and a new site
   * gets its first report a month after it joined). Default: every site.
   */
  reportedIn?: (site: string, month: string) => boolean;
}

/**
 * The month whose report is due at `now`: the previous month, once the configured day and
 * time of this month have passed in the configured zone; null before that.
 */
export function dueMonth(now: number, cfg: Pick<ReportConfig['schedule'], 'dayOfMonth' | 'time' | 'timezone'>): string {
  const lt = localTime(now, cfg.timezone);
  const reached = lt.day > cfg.dayOfMonth || (lt.day === cfg.dayOfMonth && lt.minutes >= toMinutes(cfg.time));
  // Before this month's due time, the last report due is the one of the month before last.
  return reached ? lastCompleteMonth(now, cfg.timezone) : lastCompleteMonth(now - lt.day * 86_400_000, cfg.timezone);
}

/**
 * Sends each site's report for the previous month once: node-cron wakes it every hour at
 * the configured minute (in the configured zone) and at start, so a collector that was
 * off at 07:00 on the 1st sends when it comes back, and a failed send is tried again an
 * hour later. What was sent is recorded in the store (`report_sent`), so a restart never
 * sends twice.
 */
export class MonthlyReportJob {
  private task: ScheduledTask | undefined;
  private running: Promise<void> | undefined;
  private readonly stmts;
  /** Consecutive failures per site (for the logs). */
  private readonly failures = new Map<string, number>();

  constructor(private readonly opts: MonthlyReportJobOptions) {
    migrateModule(opts.db, 'report', MIGRATIONS);
    this.stmts = {
      sent: opts.db.prepare('SELECT 1 FROM report_sent WHERE site = ? AND month = ?'),
      markSent: opts.db.prepare('INSERT OR IGNORE INTO report_sent (site, month, sent_at) VALUES (?, ?, ?)'),
    };
  }

  /** The node-cron expression: every hour at the configured minute. */
  cronExpression(): string {
    return `${Number(this.opts.config.time.slice(3))} * * * *`;
  }

  start(): void {
    if (!this.opts.config.enabled || this.task) return;
    const expr = this.cronExpression();
    if (!cron.validate(expr)) throw new Error(`report.schedule: invalid cron expression "${expr}"`);
    this.task = cron.schedule(expr, () => void this.runOnce(), { name: 'monthly-report', timezone: this.opts.config.timezone, noOverlap: true });
    void this.runOnce();
  }

  async stop(): Promise<void> {
    const t = this.task;
    this.task = undefined;
    await t?.destroy();
    await this.running;
  }

  /** Send what is due and not yet sent. Never throws; runs never overlap. */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const cfg = this.opts.config;
    const month = dueMonth(this.opts.clock.now(), cfg);
    const sites = cfg.sites.length ? [...cfg.sites].sort() : this.opts.knownSites();
    for (const site of sites) {
      if (this.stmts.sent.get(site, month)) continue;
      if (this.opts.reportedIn && !this.opts.reportedIn(site, month)) continue;
      try {
        // Built off the event loop (the service's runner: a worker thread in the collector).
        const built = await this.opts.service.runner.run({ site, month, lang: cfg.lang, formats: ['html', 'csv'], withBundle: true });
        const [html, csv] = built.files as [ReportFile, ReportFile];
        const r = built.bundle!.sites[0]!;
        const subject =
          cfg.lang === 'vi' ? `[Canh] Báo cáo hạ tầng CNTT ${fmtMonth(month, 'vi')} – ${r.siteName}` : `[Canh] IT infrastructure report ${fmtMonth(month, 'en')} – ${r.siteName}`;
        await this.opts.sender.send({
          site,
          siteName: r.siteName,
          month,
          lang: cfg.lang,
          subject,
          html: html.body,
          csv: csv.body,
          csvFilename: csv.filename,
          zaloText: zaloSummary(r, cfg.lang),
        });
        this.stmts.markSent.run(site, month, this.opts.clock.now());
        this.failures.delete(site);
        this.opts.log.info({ site, month }, 'monthly report sent');
      } catch (err) {
        if (err instanceof UnknownSiteError) {
          this.opts.log.warn({ site, month }, 'monthly report: site has no data; skipped');
          continue;
        }
        const n = (this.failures.get(site) ?? 0) + 1;
        this.failures.set(site, n);
        this.opts.log.warn({ site, month, attempt: n, err: (err as Error).message }, 'monthly report not sent; trying again at the next run');
      }
    }
  }
}
