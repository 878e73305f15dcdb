import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { MetricsRegistry } from '../../common/metrics-registry.js';
import { jobMetricsFor } from '../jobs/job-metrics.js';
import { WorkerPool } from '../jobs/worker-pool.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from './sqlite-store.js';
import { runWriteOps, type WriteOp } from './store-writes.js';
import { passiveCheckpoint, type CheckpointOutcome, type CheckpointWork } from './wal-checkpoint.js';

/**
 * The store writer (issue 12: ≥ 20,000 samples/s; the loop is sacred). The group commit's
 * transactions run on a second connection in a worker thread: the loop decodes and checks
 * the messages and builds the rows (ingest.ts with a {@link WriteRecorder}), posts them, and
 * acknowledges them to the agents only when the worker answered that it committed them.
 * While the worker writes one batch, the loop decodes the next: the two cores share the
 * work that was all on the loop (SQLite ~36 % of it at saturation).
 *
 * The same worker runs the passive WAL checkpoints (wal-checkpoint.ts) between two
 * transactions: one thread and one connection for both, no thread of its own for them.
 */
export interface StoreWriter extends CheckpointWork {
  /** Run the writes in one transaction; one answer per op (1: a new row, 0: a duplicate). Rejects when nothing was written. */
  write(ops: WriteOp[]): Promise<Uint8Array>;
  start(): void;
  stop(): Promise<void>;
}

/** Plain data given to the worker at its start. */
export interface StoreWorkerData {
  dbFile: string;
  synchronous: 'normal' | 'full';
  cacheMiB: number;
}

export const STORE_WORKER_ENTRY = new URL('./store-worker.js', import.meta.url);

/** Batches the group commit may have posted and not had answered (one writing, the next waiting). */
export const STORE_WRITER_MAX_QUEUED = 2;

/** The writer in a worker thread (the collector's default for a database on disk). */
export class WorkerStoreWriter implements StoreWriter {
  private readonly pool: WorkerPool;

  constructor(opts: { data: StoreWorkerData; metrics?: MetricsRegistry; log?: Logger; clock?: Clock }) {
    this.pool = new WorkerPool({
      name: 'store',
      entry: STORE_WORKER_ENTRY,
      workerData: opts.data,
      size: 1,
      // The group commit's batches in flight, and one checkpoint.
      maxQueued: STORE_WRITER_MAX_QUEUED + 1,
      // A transaction stuck this long (a dead disk): the worker is replaced, its batch is not acked (the agents send it again).
      timeoutMs: 60_000,
      // A batch is ≤ 1,000 records of ~1 KB: it fits the young generation and dies there.
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
      kinds: ['write', 'checkpoint'],
      ...(opts.metrics ? { metrics: jobMetricsFor(opts.metrics) } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }

  /** Whether the compiled worker exists (false when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(STORE_WORKER_ENTRY));
  }

  start(): void {
    this.pool.start();
  }
  stop(): Promise<void> {
    return this.pool.stop();
  }
  write(ops: WriteOp[]): Promise<Uint8Array> {
    return this.pool.run('write', ops);
  }
  checkpoint(): Promise<CheckpointOutcome> {
    return this.pool.run('checkpoint', null);
  }
}

/**
 * The same on a second connection of the calling thread, answering a turn of the event loop
 * later (unit tests: the group commit's asynchronous path with a real SQLite file, without
 * a compiled worker).
 */
export class InlineStoreWriter implements StoreWriter {
  private db: SqliteDatabase | undefined;
  private store: SqliteStore | undefined;
  /** Test seam: called before each write (throw to fail it). */
  beforeWrite: ((ops: WriteOp[]) => void) | undefined;

  constructor(private readonly file: string) {}

  start(): void {
    if (this.db) return;
    this.db = openDatabase(this.file);
    this.store = new SqliteStore(this.db, this.file, { countSamples: false });
  }
  write(ops: WriteOp[]): Promise<Uint8Array> {
    // Cloned as a worker would receive them (no shared objects with the caller).
    const copy = structuredClone(ops);
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          this.start();
          this.beforeWrite?.(copy);
          resolve(runWriteOps(this.store!, copy));
        } catch (err) {
          reject(err as Error);
        }
      }),
    );
  }
  checkpoint(): Promise<CheckpointOutcome> {
    return new Promise((resolve) =>
      setImmediate(() => {
        this.start();
        resolve(passiveCheckpoint(this.db!));
      }),
    );
  }
  stop(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.store = undefined;
    return Promise.resolve();
  }
}
