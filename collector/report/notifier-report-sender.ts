import type { Clock } from '../../common/clock.js';
import type { EnqueueResult } from '../notify/notification.js';
import { reportMessageId, type ReportMessage } from '../notify/report-message.js';
import type { MonthlyReportMessage, ReportSender } from './monthly-report-job.js';

/** The part of the notifiers (collector/notify/notify-service.ts) the sender needs. */
export interface ReportOutbox {
  enqueueReport(report: ReportMessage): EnqueueResult;
}

/**
 * {@link ReportSender} over the notifiers (issue 7): the report goes into the notifier
 * outbox as one `report` message with id `report:<site>:<month>`; each channel renders it
 * (e-mail: HTML body, summary text part, CSV attached; Zalo: the summary; webhook: summary,
 * figures and the API path) and sends it with the outbox's retries and rate limits.
 *
 * `send` resolves once the report is durably in the outbox, so the monthly job then records
 * it as sent. A report already queued (the collector stopped between the hand-over and that
 * record) resolves too: the outbox keeps one copy. When no channel took it (none enabled)
 * it rejects, so the job tries again at its next run instead of recording a report nobody got.
 */
export class NotifierReportSender implements ReportSender {
  constructor(
    private readonly outbox: ReportOutbox,
    private readonly clock: Clock,
    /** Channel names; undefined = every enabled channel. */
    private readonly channels?: string[],
  ) {}

  async send(m: MonthlyReportMessage): Promise<void> {
    const res = this.outbox.enqueueReport({
      id: reportMessageId(m.site, m.month),
      site: m.site,
      siteName: m.siteName,
      month: m.month,
      createdAt: this.clock.now(),
      language: m.lang,
      subject: m.subject,
      html: m.html,
      summary: m.zaloText,
      csv: m.csv,
      csvFilename: m.csvFilename,
      ...(this.channels ? { channels: this.channels } : {}),
    });
    if (!res.duplicate && res.queued === 0) throw new Error('no notifier channel is enabled for the monthly report');
  }
}
