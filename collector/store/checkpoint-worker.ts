/**
 * Worker thread entry (collector/store/wal-checkpoint.ts): passive WAL checkpoints with the
 * worker's own connection, off the ingest loop.
 */
import { workerData } from 'node:worker_threads';
import { serveJobs } from '../jobs/serve-jobs.js';
import type { CheckpointWorkerData } from './wal-checkpoint.js';
import { passiveCheckpoint } from './wal-checkpoint.js';
import { openDatabase } from './sqlite-store.js';

const data = workerData as CheckpointWorkerData;
// A checkpoint copies WAL frames into the database file without the page cache: keep it small (RSS).
const db = openDatabase(data.dbFile, { cacheMiB: 1 });

serveJobs({
  checkpoint: () => passiveCheckpoint(db),
});
