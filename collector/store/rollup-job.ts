import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';
import { InlineHistoryMaintenance, type HistoryMaintenance } from './history-maintenance.js';
import type { SqliteHistory } from './sqlite-history.js';

/** Samples folded between two yields to the event loop. */
const CHUNK = 5000;
/** Raw samples deleted by retention between two yields. */
const RETENTION_CHUNK = 20_000;

export interface RollupJobOptions {
  history: SqliteHistory;
  clock: Clock;
  log: Logger;
  metrics: MetricsRegistry;
  /** node-cron expression; every minute by default. */
  cron: string;
  /** Retention runs at most this often (ms). */
  retentionEveryMs?: number;
  /** Samples folded per run at most (the next run continues from the watermark). */
  maxSamplesPerRun?: number;
  /** Where the folding and deleting runs (default: in-process over `history`; the collector uses a worker). */
  work?: HistoryMaintenance;
}

/**
 * The scheduled rollup job: every run folds the samples stored since the persisted
 * watermark into the 1m/15m/1h rollups (so after downtime it catches up, and late samples
 * land in their own buckets), and once an hour applies retention. Runs never overlap.
 */
export class RollupJob {
  private task: ScheduledTask | undefined;
  private lastRetention = Number.NEGATIVE_INFINITY;
  private running = false;
  private followUp: Promise<void> | undefined;
  /** The run in progress, awaited by stop() (it stops between two chunks). */
  private current: Promise<void> | undefined;
  private stopping = false;
  private readonly folded: Counter;
  private readonly deleted: Counter;
  private readonly failures: Counter;
  private readonly work: HistoryMaintenance;

  constructor(private readonly opts: RollupJobOptions) {
    const m = opts.metrics;
    this.work = opts.work ?? new InlineHistoryMaintenance(opts.history);
    this.folded = m.counter('canh_rollup_samples_total', 'Samples folded into the history rollups.');
    this.deleted = m.counter('canh_history_deleted_total', 'Rows deleted by history retention, by resolution.');
    this.failures = m.counter('canh_rollup_failures_total', 'Rollup or retention runs that failed (retried at the next run).');
    m.gauge('canh_rollup_pending_samples', 'Samples stored but not yet folded into the rollups.', (g) => g.set(opts.history.lag().samples));
    m.gauge('canh_rollup_lag_seconds', 'How long the oldest sample not yet rolled up has waited.', (g) => g.set(opts.history.lag().ms / 1000));
    if (!cron.validate(opts.cron)) throw new Error(`history.rollupCron: "${opts.cron}" is not a valid cron expression`);
  }

  start(): void {
    this.stopping = false;
    this.work.start?.();
    // A first run at once: catch up with what arrived while the collector was down.
    void this.runOnce();
    this.task ??= cron.schedule(this.opts.cron, () => this.runOnce(), { name: 'rollup', noOverlap: true });
  }

  async stop(): Promise<void> {
    const t = this.task;
    this.task = undefined;
    await t?.destroy();
    this.stopping = true;
    await this.current;
    await this.work.stop?.();
  }

  /**
   * One run (also what tests call with a fake clock). Works in chunks and yields to the
   * event loop between them, so a long catch-up never stalls ingest acks or the API.
   */
  runOnce(): Promise<void> {
    // A run already going may have read the pending samples before this call: what was
    // stored before the call is folded by a run that starts after the current one (one
    // follow-up at most, shared by every caller meanwhile).
    if (this.running)
      return (this.followUp ??= (this.current ?? Promise.resolve()).then(() => {
        this.followUp = undefined;
        return this.runOnce();
      }));
    this.running = true;
    this.current = this.run().finally(() => (this.current = undefined));
    return this.current;
  }

  private async run(): Promise<void> {
    try {
      const max = this.opts.maxSamplesPerRun ?? 200_000;
      let done = 0;
      let caughtUp = false;
      while (done < max && !caughtUp && !this.stopping) {
        const r = await this.work.rollup(Math.min(CHUNK, max - done));
        done += r.samples;
        caughtUp = r.caughtUp;
        this.folded.inc({}, r.samples);
        if (!caughtUp) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (!caughtUp) this.opts.log.info({ samples: done }, 'rollup catching up (continues at the next run)');
      const now = this.opts.clock.now();
      if (!this.stopping && now - this.lastRetention >= (this.opts.retentionEveryMs ?? 3_600_000)) {
        this.lastRetention = now;
        const d = { raw: 0, rollups: { '1m': 0, '15m': 0, '1h': 0 } };
        for (;;) {
          const r = await this.work.applyRetention(RETENTION_CHUNK, now);
          d.raw += r.raw;
          for (const k of ['1m', '15m', '1h'] as const) d.rollups[k] += r.rollups[k];
          if (r.done || this.stopping) break;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        this.deleted.inc({ resolution: 'raw' }, d.raw);
        for (const [res, n] of Object.entries(d.rollups)) this.deleted.inc({ resolution: res }, n);
        if (d.raw || d.rollups['1m'] || d.rollups['15m'] || d.rollups['1h']) this.opts.log.info({ deleted: d }, 'history retention applied');
      }
    } catch (err) {
      this.failures.inc();
      this.opts.log.warn({ err: (err as Error).message }, 'rollup run failed; retrying at the next run');
    } finally {
      this.running = false;
    }
  }
}
