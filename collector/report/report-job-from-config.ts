import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { CollectorConfig } from '../config.js';
import type { NotifyService } from '../notify/notify-service.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { MonthlyReportJob } from './monthly-report-job.js';
import { NotifierReportSender } from './notifier-report-sender.js';
import { knownSites } from './report-builder.js';
import { monthRange, parseMonth } from './report-period.js';
import type { ReportService } from './report-service.js';

/**
 * The monthly job of config `report.schedule` (issue 7), sending through the notifiers; none
 * when the schedule is off or there is nobody to send to (no notifier channel): no report
 * rendered for nothing. A site is reported for a month once one of its PCs was seen before its end.
 */
export function monthlyReportJobFromConfig(
  config: CollectorConfig,
  p: { db: SqliteDatabase; reports: ReportService; notify: NotifyService; store: Store; clock: Clock; log: Logger },
): MonthlyReportJob | undefined {
  if (!config.report.schedule.enabled || p.notify.notifiers.size === 0) return undefined;
  const { store } = p;
  return new MonthlyReportJob({
    db: p.db,
    service: p.reports,
    sender: new NotifierReportSender(p.notify, p.clock),
    clock: p.clock,
    log: p.log.child({ module: 'report' }),
    config: config.report.schedule,
    knownSites: () => knownSites(store),
    reportedIn: (site, month) => {
      const end = monthRange(parseMonth(month), config.report.schedule.timezone).to;
      return store.listHosts(site).some((h) => h.firstSeen < end);
    },
  });
}
