/**
 * Worker thread entry (collector/report/report-runner.ts): builds reports off the
 * collector's event loop with its own read-only connection to the database file. The main
 * thread has migrated the schema before this starts, so opening the stores only reads.
 */
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { systemClock } from '../../common/clock.js';
import { serveJobs } from '../jobs/serve-jobs.js';
import { SqliteOutageStore } from '../outage/sqlite-outage-store.js';
import { siteDirectory } from '../sites/site-settings.js';
import { SqliteHistory } from '../store/sqlite-history.js';
import { setCacheSize, SqliteStore } from '../store/sqlite-store.js';
import { rollupSiteMinutes } from './rollup-site-minutes.js';
import type { ReportRunRequest, ReportWorkerData } from './report-runner.js';
import { ReportService } from './report-service.js';

const data = workerData as ReportWorkerData;
const db = new Database(data.dbFile, { readonly: true, fileMustExist: true });
// A reader never waits for the WAL writer, but may for a checkpoint's brief lock.
db.pragma('busy_timeout = 5000');
if (data.cacheMiB) setCacheSize(db, data.cacheMiB);
const store = new SqliteStore(db, data.dbFile);
const history = new SqliteHistory(db, systemClock, data.retention);
const service = new ReportService({
  store,
  history,
  siteMinutes: rollupSiteMinutes(db, history),
  outages: new SqliteOutageStore(db),
  sites: siteDirectory(data.sites, data.siteDefaults),
  freezeDiagnosis: data.freezeDiagnosis,
  ...(data.prices ? { prices: data.prices } : {}),
  ...(data.costRules ? { costRules: data.costRules } : {}),
});

serveJobs({ report: (req: ReportRunRequest) => service.run(req) });
