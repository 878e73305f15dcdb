import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { CollectorConfig } from '../config.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import { WorkerReportRunner, type ReportRunner } from '../report/report-runner.js';
import type { HistoryMaintenance } from '../store/history-maintenance.js';
import { DAY_MS } from '../store/sqlite-history.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import { StoreJobs } from '../store/store-jobs.js';
import type { CheckpointWork } from '../store/wal-checkpoint.js';

/**
 * The collector's work off the event loop (issue 12, house style §13): the report worker
 * (read-only connection) and the store worker (WAL checkpoints, rollups and retention in one
 * thread, read-write). Each is undefined, and the work stays in-process, when the database
 * is in memory (a worker cannot open it) or the compiled worker is missing (running from
 * TypeScript sources, as the unit tests do); that is logged.
 */
export function collectorJobs(o: { db: SqliteDatabase; config: CollectorConfig; metrics: MetricsRegistry; log: Logger; clock: Clock }): {
  reports: ReportRunner | undefined;
  history: HistoryMaintenance | undefined;
  /** WAL checkpoints off the ingest loop (collector/store/wal-checkpoint.ts). */
  checkpoint: CheckpointWork | undefined;
} {
  const { db, config } = o;
  const r = config.history.retentionDays;
  const retention = { raw: r.raw * DAY_MS, '1m': r['1m'] * DAY_MS, '15m': r['15m'] * DAY_MS, '1h': r['1h'] * DAY_MS };
  const log = o.log.child({ module: 'jobs' });
  const onDisk = !db.memory;
  const reports =
    onDisk && WorkerReportRunner.available()
      ? new WorkerReportRunner({
          data: {
            dbFile: db.name,
            cacheMiB: config.store.cacheMiB,
            sites: config.sites,
            siteDefaults: config.siteDefaults,
            retention,
            prices: config.report.prices,
            costRules: config.report.costRules,
            freezeDiagnosis: config.diagnosis.freeze,
          },
          metrics: o.metrics,
          log,
          clock: o.clock,
        })
      : undefined;
  const store =
    onDisk && StoreJobs.available()
      ? new StoreJobs({
          data: { dbFile: db.name, retention, synchronous: config.store.synchronous, cacheMiB: config.store.cacheMiB },
          metrics: o.metrics,
          log,
          clock: o.clock,
        })
      : undefined;
  const history = store?.history;
  const checkpoint = store?.checkpoints;
  if (!reports || !history) log.info({ inMemory: !onDisk }, 'reports/rollups run on the main thread (no compiled worker or an in-memory database)');
  return { reports, history, checkpoint };
}
