import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { RateLimitedLog } from '../../common/log.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { openDatabase, type SqliteDatabase } from './sqlite-store.js';

/**
 * WAL checkpoints off the ingest loop (issue 12, group commit).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past
 * `wal_autocheckpoint` pages (1,000 by default): on the collector that is the group-commit
 * transaction on the event loop, which then copies ~4 MB of pages into the database file
 * and fsyncs it. Measured (bench/sqlite-insert-micro.mjs, 1,000-sample transactions):
 * 27–28 µs per sample with it, 17 µs without, i.e. about a third of the store's cost on the
 * loop. Here a second connection, in a worker thread, runs `PRAGMA wal_checkpoint(PASSIVE)`
 * every {@link CHECKPOINT_INTERVAL_MS}: a passive checkpoint never blocks the writer nor a
 * reader, and copies only frames already committed. Durability is unchanged: a commit is
 * durable in the WAL (synchronous NORMAL: against a crash of the process; FULL: against a
 * power cut) before the collector acks it, whoever checkpoints it later.
 *
 * The main connection keeps an automatic checkpoint as a safety net, at
 * {@link SAFETY_AUTOCHECKPOINT_PAGES}: if the worker stops or falls behind, the WAL is still
 * checkpointed (on the loop, as before) and stays bounded; `journal_size_limit` truncates
 * the WAL file back after it was reset.
 */
export const CHECKPOINT_INTERVAL_MS = 200;
/** The main connection's own automatic checkpoint while the worker runs (pages; 64 MiB at 4 KiB). */
export const SAFETY_AUTOCHECKPOINT_PAGES = 16_384;
/** SQLite's default `wal_autocheckpoint`, restored when the worker stops. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** The WAL file is truncated to this after a reset (bytes). */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** `PRAGMA wal_checkpoint` result: `busy` 1 when it could not run to completion, `log` WAL frames, `checkpointed` frames copied. */
export interface CheckpointOutcome {
  busy: number;
  log: number;
  checkpointed: number;
}

/** Where the checkpoint runs: the store worker thread (collector/store/store-jobs.ts) or a second connection on this thread (tests). */
export interface CheckpointWork {
  checkpoint(): Promise<CheckpointOutcome>;
  start?(): void;
  stop?(): Promise<void>;
}

/** One passive checkpoint on `db` (a connection other than the ingest one). */
export function passiveCheckpoint(db: SqliteDatabase): CheckpointOutcome {
  const rows = db.pragma('wal_checkpoint(PASSIVE)') as CheckpointOutcome[];
  const r = rows[0];
  return { busy: r?.busy ?? 0, log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 };
}

/** A second connection on the calling thread (unit tests; a source checkout without the compiled worker). */
export class InlineCheckpointWork implements CheckpointWork {
  private db: SqliteDatabase | undefined;
  constructor(private readonly file: string) {}
  start(): void {
    this.db ??= openDatabase(this.file);
  }
  checkpoint(): Promise<CheckpointOutcome> {
    return Promise.resolve().then(() => {
      this.start();
      return passiveCheckpoint(this.db!);
    });
  }
  stop(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    return Promise.resolve();
  }
}

/**
 * Runs the checkpoints on a timer (one at a time) and moves the ingest connection's own
 * automatic checkpoint to the safety threshold while it runs.
 */
export class WalCheckpointer {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastLog = 0;
  private readonly runs: Counter;
  private readonly frames: Counter;
  private readonly failures: Counter;
  /** A failing checkpoint fails every 200 ms: one line a minute (with the count suppressed). */
  private readonly rlog: RateLimitedLog;

  constructor(
    private readonly opts: {
      /** The ingest connection (its automatic checkpoint is moved; never checkpointed from here). */
      db: SqliteDatabase;
      work: CheckpointWork;
      clock: Clock;
      log: Logger;
      metrics: MetricsRegistry;
      intervalMs?: number;
    },
  ) {
    const m = opts.metrics;
    this.runs = m.counter('canh_store_wal_checkpoints_total', 'WAL checkpoints run off the ingest loop (passive).');
    this.frames = m.counter('canh_store_wal_checkpointed_frames_total', 'WAL frames (pages) copied into the database file by those checkpoints.');
    this.failures = m.counter(
      'canh_store_wal_checkpoint_failures_total',
      'Checkpoints off the loop that failed (the ingest connection checkpoints at its safety threshold meanwhile).',
    );
    for (const c of [this.runs, this.frames, this.failures]) c.inc({}, 0);
    this.rlog = new RateLimitedLog(opts.log, 60_000, () => opts.clock.monotonic());
    m.gauge('canh_store_wal_frames', 'Frames in the WAL at the last checkpoint off the loop.', (g) => g.set(this.lastLog));
  }

  start(): void {
    const { db } = this.opts;
    db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    this.opts.work.start?.();
    this.timer = this.opts.clock.setInterval(() => this.tick(), this.opts.intervalMs ?? CHECKPOINT_INTERVAL_MS);
  }

  /** Run one checkpoint now unless one is running (resolves when it ended). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.opts.work
      .checkpoint()
      .then((r) => {
        this.runs.inc();
        this.frames.inc({}, r.checkpointed);
        this.lastLog = r.log;
      })
      .catch((err: unknown) => {
        this.failures.inc();
        this.rlog.warn('checkpoint', { err: (err as Error)?.message }, 'WAL checkpoint off the loop failed; the ingest connection checkpoints at its safety threshold');
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    await this.running;
    await this.opts.work.stop?.();
    if (this.opts.db.open) this.opts.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }
}
