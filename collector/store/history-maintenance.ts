import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { jobMetricsFor } from '../jobs/job-metrics.js';
import { WorkerPool } from '../jobs/worker-pool.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import type { HistoryRetention, RetentionOutcome, RollupOutcome, SqliteHistory } from './sqlite-history.js';

/**
 * Port: where the history's rollups and retention run (issue 12, house style §13). The
 * schedule stays with the rollup job on the main thread (collector/store/rollup-job.ts);
 * the work runs in a worker thread with its own read-write connection
 * ({@link WorkerHistoryMaintenance}) or in-process ({@link InlineHistoryMaintenance}: unit
 * tests, an in-memory database, a source checkout without a compiled worker).
 */
export interface HistoryMaintenance {
  /** Fold up to `maxSamples` pending samples into the rollups. */
  rollup(maxSamples: number): Promise<RollupOutcome>;
  /** Apply retention, at most `maxRawRows` raw rows in this call; `now` is the retention's "now". */
  applyRetention(maxRawRows: number, now: number): Promise<RetentionOutcome>;
  start?(): void;
  stop?(): Promise<void>;
}

export class InlineHistoryMaintenance implements HistoryMaintenance {
  constructor(private readonly history: SqliteHistory) {}
  rollup(maxSamples: number): Promise<RollupOutcome> {
    return Promise.resolve().then(() => this.history.rollup(maxSamples));
  }
  applyRetention(maxRawRows: number): Promise<RetentionOutcome> {
    // In-process, the history reads its own clock (the same one the caller passes `now` from).
    return Promise.resolve().then(() => this.history.applyRetention(maxRawRows));
  }
}

/** Plain data given to the history worker at its start. */
export interface HistoryWorkerData {
  dbFile: string;
  retention: Partial<HistoryRetention>;
  synchronous: 'normal' | 'full';
  /** Page cache of the worker's connection, MiB (`store.cacheMiB`). */
  cacheMiB?: number;
}

export const HISTORY_WORKER_ENTRY = new URL('./history-worker.js', import.meta.url);

export class WorkerHistoryMaintenance implements HistoryMaintenance {
  private readonly pool: WorkerPool;

  constructor(opts: { data: HistoryWorkerData; metrics?: MetricsRegistry; log?: Logger; clock?: Clock; timeoutMs?: number; idleMs?: number }) {
    this.pool = new WorkerPool({
      name: 'history',
      entry: HISTORY_WORKER_ENTRY,
      workerData: opts.data,
      size: 1,
      // The rollup job never overlaps its runs: one job at a time, a second waits.
      maxQueued: 2,
      timeoutMs: opts.timeoutMs ?? 600_000,
      // Between two runs (every minute by default) the worker is ended: starting one costs
      // ~100 ms of CPU in its own thread, keeping it ~12 MB of RSS idle and ~22 MB just after
      // a province's rollup. The jobs of one run follow each other within a loop turn, so a
      // few seconds end it soon after its run without a restart inside one; with a run of
      // 15 s (10,000 hosts) the 20 s kept before did not reach the next run either.
      idleMs: opts.idleMs ?? 3_000,
      kinds: ['rollup', 'retention'],
      ...(opts.metrics ? { metrics: jobMetricsFor(opts.metrics) } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }

  /** Whether the compiled worker exists (false when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(HISTORY_WORKER_ENTRY));
  }

  start(): void {
    this.pool.start();
  }
  stop(): Promise<void> {
    return this.pool.stop();
  }
  rollup(maxSamples: number): Promise<RollupOutcome> {
    return this.pool.run('rollup', { maxSamples });
  }
  applyRetention(maxRawRows: number, now: number): Promise<RetentionOutcome> {
    return this.pool.run('retention', { maxRawRows, now });
  }
}
