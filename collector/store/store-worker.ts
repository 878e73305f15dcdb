/**
 * Worker thread entry (collector/store/store-jobs.ts): the store's work off the ingest loop,
 * with the worker's own read-write connection — passive WAL checkpoints
 * (collector/store/wal-checkpoint.ts), the history's rollups and retention
 * (collector/store/history-maintenance.ts). One thread, one V8 isolate and one connection
 * for all three (issue 12: a second worker started every minute for the rollups added ~25 MB
 * to the collector's RSS for the seconds it lived, the peak at 10,000 hosts).
 *
 * Transactions are kept small (a few dozen samples, a few hundred raw rows, a few series
 * each), so the main thread's ingest commits, which wait for the write lock up to
 * `busy_timeout`, wait only a few milliseconds; the pool runs one job at a time, so a
 * checkpoint waits at most one rollup call (~5,000 samples) behind.
 */
import { workerData } from 'node:worker_threads';
import { systemClock, type Clock } from '../../common/clock.js';
import { serveJobs } from '../jobs/serve-jobs.js';
import { SqliteHistory } from './sqlite-history.js';
import { openDatabase } from './sqlite-store.js';
import type { StoreWorkerData } from './store-jobs.js';
import { passiveCheckpoint } from './wal-checkpoint.js';

/**
 * Samples folded per transaction. A batch's buckets (one per sample, series and resolution:
 * ~45 per sample, with their string keys, ~11 KB) live until its transaction: with 200 they
 * outgrew the worker's young generation and were promoted, and the worker's heap swelled
 * to ~47 MB committed, a mark-compact every second (40,000 samples of 10,000 hosts, the
 * rollup of one minute at province scale); with 50 they die young: ~22 MB, no mark-compact,
 * less CPU (the rows of a batch are from different hosts, so the upserts are as many).
 */
const ROLLUP_BATCH = 50;
/** Raw rows deleted per statement (each its own transaction). */
const RAW_CHUNK = 500;
/** Series whose old rollup rows are deleted per transaction. */
const SERIES_PER_TX = 20;

const data = workerData as StoreWorkerData;
const db = openDatabase(data.dbFile, { synchronous: data.synchronous, ...(data.cacheMiB ? { cacheMiB: data.cacheMiB } : {}) });
// The main thread's "now" for retention (its clock may be a test's): set per job.
let now = systemClock.now();
const clock: Clock = {
  now: () => now,
  monotonic: () => systemClock.monotonic(),
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
  setInterval: (fn, ms) => systemClock.setInterval(fn, ms),
  clear: (h) => systemClock.clear(h),
  sleep: (ms) => systemClock.sleep(ms),
};
const history = new SqliteHistory(db, clock, data.retention);

serveJobs({
  checkpoint: () => passiveCheckpoint(db),
  rollup: (p: { maxSamples: number }) => history.rollup(p.maxSamples, ROLLUP_BATCH),
  retention: (p: { maxRawRows: number; now: number }) => {
    now = p.now;
    return history.applyRetention(p.maxRawRows, { rawChunk: RAW_CHUNK, seriesPerTx: SERIES_PER_TX });
  },
});
