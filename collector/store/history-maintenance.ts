import type { RetentionOutcome, RollupOutcome, SqliteHistory } from './sqlite-history.js';

/**
 * Port: where the history's rollups and retention run (issue 12, house style §13). The
 * schedule stays with the rollup job on the main thread (collector/store/rollup-job.ts);
 * the work runs in the store worker thread with its own read-write connection
 * (collector/store/store-jobs.ts, beside the WAL checkpoints) or in-process ({@link InlineHistoryMaintenance}: unit
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
