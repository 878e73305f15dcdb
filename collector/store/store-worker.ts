/**
 * Worker thread entry (collector/store/store-writer.ts): the group commit's transactions and
 * the passive WAL checkpoints, with the worker's own read-write connection, off the loop that
 * serves the broker, ingest and alerting.
 */
import { workerData } from 'node:worker_threads';
import { serveJobs } from '../jobs/serve-jobs.js';
import { runWriteOps, type WriteOp } from './store-writes.js';
import type { StoreWorkerData } from './store-writer.js';
import { passiveCheckpoint } from './wal-checkpoint.js';
import { openDatabase, SqliteStore } from './sqlite-store.js';

const data = workerData as StoreWorkerData;
const db = openDatabase(data.dbFile, { synchronous: data.synchronous, cacheMiB: data.cacheMiB });
// The writer's own commits checkpoint the WAL at SQLite's default threshold (in this thread).
const store = new SqliteStore(db, data.dbFile, { countSamples: false });

serveJobs({
  write: (ops: WriteOp[]) => runWriteOps(store, ops),
  checkpoint: () => passiveCheckpoint(db),
});
