import { existsSync } from 'node:fs';
import type { FreezeDiagnosisParams } from '../diagnosis/freeze-cause.js';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { RemoteJobError } from '../jobs/job-errors.js';
import { jobMetricsFor } from '../jobs/job-metrics.js';
import { WorkerPool } from '../jobs/worker-pool.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { SiteSettings } from '../sites/site-settings.js';
import type { HistoryRetention } from '../store/sqlite-history.js';
import { UnknownSiteError } from './report-builder.js';
import type { CostRules, PriceList } from './price-list.js';
import type { Lang, ReportBundle } from './report-model.js';
import type { ReportFormat } from './report-renderers.js';
import type { ReportService } from './report-service.js';

/** One rendered file of a report. */
export interface ReportFile {
  body: string;
  contentType: string;
  /** e.g. `canh-bao-cao-tan-phu-2026-11.html` */
  filename: string;
}

/** Build one report (a site or `all`, one month) once and render it in each of `formats`. */
export interface ReportRunRequest {
  site: string;
  month: string;
  lang: Lang;
  generatedAt?: number | null;
  formats: ReportFormat[];
  /** Also hand back the report model (the monthly job needs the site's figures). */
  withBundle?: boolean;
}

export interface ReportRunResult {
  /** In the order of `formats`. */
  files: ReportFile[];
  bundle?: ReportBundle;
}

/**
 * Port: where reports are built (issue 12, house style §13). A province report takes tens
 * of seconds of synchronous work, so the collector builds it in a worker thread
 * ({@link WorkerReportRunner}, the default) and never on the event loop that serves the
 * broker, ingest and alerting; {@link InlineReportRunner} builds in-process (unit tests,
 * the CLI, a source checkout without a compiled worker). Rejects with UnknownSiteError for
 * a site without data, and with a retryable JobError when the worker is busy or failed.
 */
export interface ReportRunner {
  run(req: ReportRunRequest): Promise<ReportRunResult>;
  start?(): void;
  stop?(): Promise<void>;
}

/** Builds in the caller's thread (blocks it for the whole build). */
export class InlineReportRunner implements ReportRunner {
  constructor(private readonly service: Pick<ReportService, 'run'>) {}
  run(req: ReportRunRequest): Promise<ReportRunResult> {
    try {
      return Promise.resolve(this.service.run(req));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
}

/**
 * What the report worker needs besides the database: plain data (structured clone), given
 * once at the worker's start.
 */
export interface ReportWorkerData {
  dbFile: string;
  /** Page cache of the worker's connection, MiB (`store.cacheMiB`). */
  cacheMiB?: number;
  sites: Record<string, SiteSettings>;
  siteDefaults: SiteSettings;
  /** The history's retention (ms per resolution): it decides which rollup a range reads. */
  retention: Partial<HistoryRetention>;
  /** Thresholds of the freeze diagnosis (`diagnosis.freeze`). */
  freezeDiagnosis?: FreezeDiagnosisParams | undefined;
  /** `report.prices` and `report.costRules` (issue 17 point 3); defaults when absent. */
  prices?: PriceList;
  costRules?: CostRules;
}

export interface WorkerReportRunnerOptions {
  data: ReportWorkerData;
  metrics?: MetricsRegistry;
  log?: Logger;
  clock?: Clock;
  /** Reports that may wait (default 4); more are answered 503. */
  maxQueued?: number;
  /** Default 10 minutes (a province report takes about a minute on the target machine). */
  timeoutMs?: number;
  /** The worker ends after this long without a report (default 60 s) and starts again with the next. */
  idleMs?: number;
}

/** The compiled worker entry, next to this file in `dist/`. */
export const REPORT_WORKER_ENTRY = new URL('./report-worker.js', import.meta.url);

/**
 * Builds reports in one worker thread (collector/report/report-worker.ts) with its own
 * read-only connection to the collector's database: WAL lets it read a consistent snapshot
 * while the main thread writes.
 */
export class WorkerReportRunner implements ReportRunner {
  private readonly pool: WorkerPool;

  constructor(opts: WorkerReportRunnerOptions) {
    this.pool = new WorkerPool({
      name: 'report',
      entry: REPORT_WORKER_ENTRY,
      workerData: opts.data,
      size: 1,
      maxQueued: opts.maxQueued ?? 4,
      timeoutMs: opts.timeoutMs ?? 600_000,
      // Reports are monthly or on demand: no heap (nor the last province report's garbage) kept between them.
      idleMs: opts.idleMs ?? 60_000,
      kinds: ['report'],
      ...(opts.metrics ? { metrics: jobMetricsFor(opts.metrics) } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }

  /** Whether the compiled worker exists (false when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(REPORT_WORKER_ENTRY));
  }

  start(): void {
    this.pool.start();
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }

  async run(req: ReportRunRequest): Promise<ReportRunResult> {
    try {
      return await this.pool.run<ReportRunResult>('report', req);
    } catch (err) {
      if (err instanceof RemoteJobError && err.remoteName === 'UnknownSiteError') throw new UnknownSiteError(String(err.data.site));
      throw err;
    }
  }
}
