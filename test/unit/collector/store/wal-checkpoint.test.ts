/**
 * WAL checkpoints off the ingest loop (collector/store/wal-checkpoint.ts): the ingest
 * connection no longer copies the WAL into the database file in its commits; a second
 * connection does (here on this thread, InlineCheckpointWork; in the collector a worker
 * thread), and the ingest connection keeps a safety threshold. Real SQLite files.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import type { SampleRow } from '../../../../collector/store/store.js';
import {
  DEFAULT_AUTOCHECKPOINT_PAGES,
  InlineCheckpointWork,
  SAFETY_AUTOCHECKPOINT_PAGES,
  WAL_SIZE_LIMIT_BYTES,
  WalCheckpointer,
  type CheckpointWork,
} from '../../../../collector/store/wal-checkpoint.js';

const HOUR = 3_600_000;
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function open() {
  const dir = mkdtempSync(join(tmpdir(), 'canh-wal-'));
  const file = join(dir, 'canh.db');
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  // ~28 MB of database and WAL each: removed, or every run of the suite leaves them in /tmp.
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanup.push(() => store.close());
  return { file, db, store };
}

const metrics = {
  cpu: { usage: 12.5, load1: 0.5, load5: 0.4, load15: 0.3, cores: 4 },
  disks: [{ mount: '/', total: 1e12, used: 5e11, free: 5e11, usedPct: 50 }],
  pad: 'x'.repeat(900),
};
function writeSamples(store: SqliteStore, from: number, n: number): void {
  store.transaction(() => {
    for (let i = from; i < from + n; i++) {
      const row = {
        site: 's',
        host: `h${i % 20}`,
        boot: 'bootboot',
        seq: i,
        t: 1.8e12 + i,
        tAgent: 1.8e12 + i,
        sent: 1.8e12 + i,
        received: 1.8e12 + i,
        skewMs: 0,
        interval: 15,
        metrics,
      };
      store.insertSample(row as unknown as SampleRow);
    }
  });
}
const size = (f: string) => statSync(f).size;
const pragma = (db: SqliteDatabase, p: string) => db.pragma(p, { simple: true }) as number;

function checkpointer(db: SqliteDatabase, work: CheckpointWork) {
  const registry = new MetricsRegistry();
  const warnings: unknown[] = [];
  const log = Object.assign(Object.create(silentLogger()) as ReturnType<typeof silentLogger>, { warn: (...a: unknown[]) => warnings.push(a) });
  // A timer that does not fire during the test: each checkpoint is a tick() of the test.
  const c = new WalCheckpointer({ db, work, clock: systemClock, log, metrics: registry, intervalMs: HOUR });
  cleanup.push(() => c.stop());
  return { c, registry, warnings };
}

describe('WalCheckpointer', () => {
  it('moves the ingest connection’s checkpoint to the safety threshold while it runs, and back at stop', async () => {
    const { file, db } = open();
    const { c } = checkpointer(db, new InlineCheckpointWork(file));
    expect(pragma(db, 'wal_autocheckpoint')).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    c.start();
    expect(pragma(db, 'wal_autocheckpoint')).toBe(SAFETY_AUTOCHECKPOINT_PAGES);
    expect(pragma(db, 'journal_size_limit')).toBe(WAL_SIZE_LIMIT_BYTES);
    await c.stop();
    expect(pragma(db, 'wal_autocheckpoint')).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
  });

  it('the ingest commits leave the WAL to the other connection, which copies it into the database file', async () => {
    const { file, db, store } = open();
    const { c, registry } = checkpointer(db, new InlineCheckpointWork(file));
    c.start();
    // ~12 MB of samples in 4 commits: 3,000 pages, three times SQLite's default threshold.
    for (let k = 0; k < 4; k++) writeSamples(store, k * 3000, 3000);
    const dbBefore = size(file);
    expect(size(`${file}-wal`)).toBeGreaterThan(10_000_000);
    // No commit copied the WAL (it would have at 1,000 pages): the database file is still small.
    expect(dbBefore).toBeLessThan(1_000_000);
    await c.tick();
    expect(size(file)).toBeGreaterThan(10_000_000);
    const text = registry.render();
    expect(text).toMatch(/canh_store_wal_checkpoints_total 1/);
    expect(Number(/canh_store_wal_checkpointed_frames_total (\d+)/.exec(text)?.[1])).toBeGreaterThan(2500);
    expect(Number(/canh_store_wal_frames (\d+)/.exec(text)?.[1])).toBeGreaterThan(2500);
    // Every row is there, read through another connection.
    const reader = openDatabase(file);
    expect((reader.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n).toBe(12_000);
    reader.close();
    // The next commit starts the WAL from its beginning again (it does not grow for ever).
    writeSamples(store, 12_000, 10);
    await c.tick();
    expect(Number(/canh_store_wal_frames (\d+)/.exec(registry.render())?.[1])).toBeLessThan(100);
  });

  it('without the worker the ingest connection still checkpoints, at the safety threshold (the WAL stays bounded)', async () => {
    const { file, db, store } = open();
    const failing: CheckpointWork = { checkpoint: () => Promise.reject(new Error('worker gone')) };
    const { c, registry, warnings } = checkpointer(db, failing);
    c.start();
    await c.tick();
    expect(registry.render()).toMatch(/canh_store_wal_checkpoint_failures_total 1/);
    expect(warnings).toHaveLength(1);
    // It fails at every tick (5 a second): counted each time, logged once a minute.
    await c.tick();
    await c.tick();
    expect(registry.render()).toMatch(/canh_store_wal_checkpoint_failures_total 3/);
    expect(warnings).toHaveLength(1);
    // 17,000 pages of samples: past the safety threshold the commit copies the WAL itself.
    for (let k = 0; k < 6; k++) writeSamples(store, k * 12_000, 12_000);
    expect(size(file)).toBeGreaterThan(40_000_000);
  });

  it('runs one checkpoint at a time; ticks during one share it', async () => {
    const { db } = open();
    let calls = 0;
    let release!: () => void;
    const slow: CheckpointWork = {
      checkpoint: () => {
        calls++;
        return new Promise((go) => (release = () => go({ busy: 0, log: 5, checkpointed: 5 })));
      },
    };
    const { c, registry } = checkpointer(db, slow);
    c.start();
    const a = c.tick();
    const b = c.tick();
    expect(calls).toBe(1);
    release();
    await Promise.all([a, b]);
    expect(registry.render()).toMatch(/canh_store_wal_checkpoints_total 1/);
    expect(registry.render()).toMatch(/canh_store_wal_frames 5/);
  });
});
