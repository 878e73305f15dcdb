/**
 * Issue 12 (the collector's RSS at 10,000 hosts): the store's work off the ingest loop —
 * WAL checkpoints, rollups, retention — runs in ONE worker thread with its own connection
 * (collector/store/store-worker.ts from `dist/`, driven by collector/store/store-jobs.ts).
 * Before, the rollups started a second worker (a second V8 isolate, ~25 MB of RSS) every
 * minute. Real SQLite file, real worker thread; the process's threads are read from /proc.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { JobRejectedError } from '../../collector/jobs/job-errors.js';
import { SqliteHistory } from '../../collector/store/sqlite-history.js';
import { openDatabase, SqliteStore } from '../../collector/store/sqlite-store.js';
import type { StoreJobs } from '../../collector/store/store-jobs.js';
import type { SampleRow } from '../../collector/store/store.js';
import { assertBuilt } from '../helpers/processes.js';

const DAY = 86_400_000;
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const threads = () => readdirSync('/proc/self/task').length;

async function setup(samples: number) {
  assertBuilt();
  // The compiled class, whose worker entry (store-worker.js) sits beside it in dist/.
  const compiled = (await import(new URL('../../dist/collector/store/store-jobs.js', import.meta.url).href)) as { StoreJobs: typeof StoreJobs };
  const dir = mkdtempSync(join(tmpdir(), 'canh-store-worker-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'canh.db');
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  cleanup.push(() => store.close());
  const history = new SqliteHistory(db, systemClock, {});
  // Ten minutes of 20 hosts an hour ago, each sample ~1 KB of metrics (like an agent's).
  const t0 = systemClock.now() - 3_600_000;
  db.transaction(() => {
    for (let i = 0; i < samples; i++) {
      const t = t0 + Math.floor(i / 20) * 15_000;
      const metrics = {
        cpu: { usage: i % 100, load1: 0.5, load5: 0.4, load15: 0.3, cores: 4 },
        mem: { total: 8e9, used: 4e9, available: 4e9, swapTotal: 0, swapUsed: 0 },
        disks: [{ mount: 'C:', fs: 'NTFS', total: 1e12, used: 5e11, free: 5e11, usedPct: 50 }],
        pad: 'x'.repeat(800),
      };
      store.insertSample({ site: 'xa-a', host: `pc-${i % 20}`, boot: 'b', seq: i, t, tAgent: t, sent: t, received: t, skewMs: 0, interval: 15, metrics } as unknown as SampleRow);
    }
  })();
  const jobs = new compiled.StoreJobs({ data: { dbFile: file, retention: {}, synchronous: 'normal', cacheMiB: 4 }, metrics: new MetricsRegistry() });
  cleanup.push(async () => {
    await jobs.checkpoints.stop?.();
    await jobs.history.stop?.();
  });
  return { db, jobs, history };
}

it('checkpoints, rollups and retention share one worker thread, which stays for the next run', async () => {
  const { db, jobs, history } = await setup(4000);
  const before = threads();
  jobs.checkpoints.start?.();
  jobs.history.start?.();
  expect(jobs.workers()).toBe(1);
  // A checkpoint asked while a rollup call runs waits for it (one job at a time), then copies the WAL.
  const rollup = jobs.history.rollup(5000);
  const checkpoint = jobs.checkpoints.checkpoint();
  const r = await rollup;
  expect(r).toMatchObject({ samples: 4000, caughtUp: true });
  const c = await checkpoint;
  expect(c.busy).toBe(0);
  expect(c.checkpointed).toBeGreaterThan(100);
  // What the worker folded is read on this thread's connection: 20 hosts' CPU, 1-minute buckets.
  expect(history.lag().samples).toBe(0);
  const oneMinute = db.prepare(`SELECT count(DISTINCT s.host) AS hosts, sum(r.n) AS n FROM history_series s JOIN rollup_1m r ON r.series = s.id WHERE s.metric = 'cpu'`).get() as {
    hosts: number;
    n: number;
  };
  expect(oneMinute).toEqual({ hosts: 20, n: 4000 });
  // Retention with "now" 40 days on: the raw samples go (30 days by default), all but the
  // newest row (kept so SQLite never reuses an id at or below the rollup's watermark).
  const d = await jobs.history.applyRetention(20_000, systemClock.now() + 40 * DAY);
  expect(d).toMatchObject({ raw: 3999, done: true });
  expect((db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n).toBe(1);
  // One thread added for all of it, still there after the jobs (no second isolate per run).
  expect(threads() - before).toBe(1);
  expect(jobs.workers()).toBe(1);
});

it('the worker lives while either user needs it and ends with the last one', async () => {
  const { jobs } = await setup(100);
  jobs.checkpoints.start?.();
  jobs.history.start?.();
  await jobs.history.stop?.();
  // The checkpoints still run after the rollup job stopped (the collector stops it first).
  expect(jobs.workers()).toBe(1);
  expect((await jobs.checkpoints.checkpoint()).busy).toBe(0);
  await jobs.checkpoints.stop?.();
  expect(jobs.workers()).toBe(0);
  // (The compiled class, not this file's: compared by name.)
  await expect(jobs.checkpoints.checkpoint()).rejects.toMatchObject({ name: JobRejectedError.name, reason: 'stopped' });
});
