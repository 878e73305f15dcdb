import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import { jobMetricsFor } from '../jobs/job-metrics.js';
import { WorkerPool } from '../jobs/worker-pool.js';
import type { HistoryMaintenance } from './history-maintenance.js';
import type { HistoryRetention, RetentionOutcome, RollupOutcome } from './sqlite-history.js';
import type { CheckpointOutcome, CheckpointWork } from './wal-checkpoint.js';

/** Plain data given to the store worker at its start. */
export interface StoreWorkerData {
  dbFile: string;
  retention: Partial<HistoryRetention>;
  synchronous: 'normal' | 'full';
  /** Page cache of the worker's connection, MiB (`store.cacheMiB`). */
  cacheMiB?: number;
}

export const STORE_WORKER_ENTRY = new URL('./store-worker.js', import.meta.url);

/** A checkpoint copies WAL frames: if one takes this long, the worker is stuck (it is replaced). */
const CHECKPOINT_TIMEOUT_MS = 60_000;
/** One rollup call (≤ 5,000 samples) or retention call (≤ 20,000 raw rows). */
const HISTORY_TIMEOUT_MS = 600_000;

/**
 * The store's work off the ingest loop in **one** worker thread (collector/store/store-worker.ts)
 * with its own connection: the WAL checkpoints every 200 ms and, every minute, the rollups
 * and retention. Before, the rollups had a worker of their own, started for each run and
 * ended 3 s after it: each start was a new V8 isolate, ~25 MB of RSS for the seconds it
 * lived, and at 10,000 hosts the collector's RSS peak (issue 12). The checkpoint worker lives
 * anyway; it now does both, one job at a time (a checkpoint waits at most one rollup call).
 *
 * {@link checkpoints} and {@link history} are the two users' views (WalCheckpointer,
 * RollupJob): the worker starts with the first view started and stops with the last one
 * stopped.
 */
export class StoreJobs {
  private readonly pool: WorkerPool;
  private readonly users = new Set<string>();
  readonly checkpoints: CheckpointWork;
  readonly history: HistoryMaintenance;

  constructor(opts: { data: StoreWorkerData; metrics?: MetricsRegistry; log?: Logger; clock?: Clock }) {
    this.pool = new WorkerPool({
      name: 'store',
      entry: STORE_WORKER_ENTRY,
      workerData: opts.data,
      size: 1,
      // At most one checkpoint (WalCheckpointer keeps one in flight) and one rollup or
      // retention call (RollupJob never overlaps its runs) wait at a time.
      maxQueued: 4,
      timeoutMs: HISTORY_TIMEOUT_MS,
      // A young generation large enough that a rollup batch's buckets die young (~22 MB
      // committed while rolling up 10,000 hosts' minute, bench/rollup-heap-micro.mjs); an
      // old generation far above what the jobs keep.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 },
      kinds: ['checkpoint', 'rollup', 'retention'],
      ...(opts.metrics ? { metrics: jobMetricsFor(opts.metrics) } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    this.checkpoints = {
      start: () => this.use('checkpoints'),
      stop: () => this.release('checkpoints'),
      checkpoint: () => this.pool.run<CheckpointOutcome>('checkpoint', null, { timeoutMs: CHECKPOINT_TIMEOUT_MS }),
    };
    this.history = {
      start: () => this.use('history'),
      stop: () => this.release('history'),
      rollup: (maxSamples) => this.pool.run<RollupOutcome>('rollup', { maxSamples }),
      applyRetention: (maxRawRows, now) => this.pool.run<RetentionOutcome>('retention', { maxRawRows, now }),
    };
  }

  /** Whether the compiled worker exists (false when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(STORE_WORKER_ENTRY));
  }

  /** Worker threads alive (0 or 1). */
  workers(): number {
    return this.pool.workers();
  }

  private use(who: string): void {
    this.users.add(who);
    this.pool.start();
  }

  private async release(who: string): Promise<void> {
    this.users.delete(who);
    if (this.users.size === 0) await this.pool.stop();
  }
}
