/**
 * History rollups over a real SQLite store with a fake clock: bucket arithmetic, late
 * samples folded into their own old buckets exactly once, the persisted watermark (a new
 * instance continues, nothing twice), retention per resolution, automatic resolution.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { RollupJob } from '../../../../collector/store/rollup-job.js';
import { DAY_MS, SqliteHistory } from '../../../../collector/store/sqlite-history.js';
import { silentLogger } from '../../../../common/log.js';
import { openDatabase, SqliteStore, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import type { SampleMetrics } from '../../../../contract/schemas.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 10, 24, 2, 0, 0); // 09:00 in Vietnam, on a bucket boundary
let seq = 0;

function setup(file = ':memory:') {
  const clock = new FakeClock(T0);
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  const history = new SqliteHistory(db, clock);
  return { clock, db, store, history };
}

function metrics(cpu: number, extra: Partial<SampleMetrics> = {}): SampleMetrics {
  return { cpu: { usage: cpu, load1: null, load5: null, load15: null, cores: 4 }, ...extra };
}

function insert(store: SqliteStore, t: number, m: SampleMetrics, host = 'pc-01', received = t): void {
  store.insertSample({ site: 'xa-a', host, boot: 'bootboot01', seq: ++seq, t, tAgent: t, sent: t, received, skewMs: 0, interval: 15, metrics: m });
}

function buckets(db: SqliteDatabase, table: string, metric = 'cpu') {
  return db
    .prepare(`SELECT s.host, s.key, r.t, r.vmin, r.vmax, r.vsum, r.n FROM ${table} r JOIN history_series s ON s.id = r.series WHERE s.metric = ? ORDER BY s.host, s.key, r.t`)
    .all(metric) as Array<{
    host: string;
    key: string;
    t: number;
    vmin: number;
    vmax: number;
    vsum: number;
    n: number;
  }>;
}

describe('SqliteHistory rollups', () => {
  it('folds samples into 1m/15m/1h buckets with min, max, sum and count', () => {
    const { store, history, db } = setup();
    // 0 s, 15 s, 45 s in minute 0; 70 s in minute 1; 16 min into the second 15-minute bucket.
    insert(store, T0, metrics(10));
    insert(store, T0 + 15_000, metrics(30));
    insert(store, T0 + 45_000, metrics(20));
    insert(store, T0 + 70_000, metrics(50));
    insert(store, T0 + 16 * 60_000, metrics(90));
    const r = history.rollup();
    expect(r).toMatchObject({ samples: 5, caughtUp: true });
    expect(buckets(db, 'rollup_1m')).toEqual([
      { host: 'pc-01', key: '', t: T0, vmin: 10, vmax: 30, vsum: 60, n: 3 },
      { host: 'pc-01', key: '', t: T0 + 60_000, vmin: 50, vmax: 50, vsum: 50, n: 1 },
      { host: 'pc-01', key: '', t: T0 + 16 * 60_000, vmin: 90, vmax: 90, vsum: 90, n: 1 },
    ]);
    expect(buckets(db, 'rollup_15m')).toEqual([
      { host: 'pc-01', key: '', t: T0, vmin: 10, vmax: 50, vsum: 110, n: 4 },
      { host: 'pc-01', key: '', t: T0 + 15 * 60_000, vmin: 90, vmax: 90, vsum: 90, n: 1 },
    ]);
    expect(buckets(db, 'rollup_1h')).toEqual([{ host: 'pc-01', key: '', t: T0, vmin: 10, vmax: 90, vsum: 200, n: 5 }]);
    // `up` counts samples per bucket.
    expect(buckets(db, 'rollup_1h', 'up')[0]).toMatchObject({ n: 5, vmin: 100, vmax: 100 });
    // Nothing new: a second run folds nothing and changes nothing.
    expect(history.rollup()).toMatchObject({ samples: 0, caughtUp: true });
    expect(buckets(db, 'rollup_1h')[0]!.n).toBe(5);
  });

  it('extracts every metric series with its key, and leaves unavailable sources as gaps', () => {
    const { store, history, db } = setup();
    insert(store, T0, {
      cpu: { unavailable: 'no /proc/stat' },
      mem: { total: 1000, used: 250, available: 750, swapTotal: 0, swapUsed: 0 },
      disks: [
        { mount: 'C:', total: 100, used: 50, free: 50, usedPct: 50 },
        { mount: 'D:', total: 100, used: 90, free: 10, usedPct: 90 },
      ],
      net: [{ iface: 'Ethernet', rxBps: 1000, txBps: 200, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }],
      ping: [{ target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 100, rttMedian: null, rttP95: null, rttMax: null }],
      http: [
        { name: 'dvc', url: 'https://dichvucong.gov.vn', ok: true, status: 200, dnsMs: 1, connectMs: 2, tlsMs: 3, firstByteMs: 40, totalMs: 55, error: undefined },
        { name: 'tinh', url: 'https://motcua.example', ok: false, status: null, dnsMs: null, connectMs: null, tlsMs: null, firstByteMs: null, totalMs: null, error: 'ETIMEDOUT' },
      ],
    });
    history.rollup();
    const series = db.prepare(`SELECT metric, key FROM history_series ORDER BY metric, key`).all() as Array<{ metric: string; key: string }>;
    expect(series.map((s) => `${s.metric}:${s.key}`)).toEqual([
      'disk:C:',
      'disk:D:',
      'http_ok:dvc',
      'http_ok:tinh',
      'http_total:dvc',
      'mem:',
      'net_rx:Ethernet',
      'net_tx:Ethernet',
      'ping_loss:192.168.1.1',
      'up:',
    ]);
    expect(buckets(db, 'rollup_1m', 'mem')[0]!.vsum).toBe(25);
    expect(buckets(db, 'rollup_1m', 'http_ok').map((b) => b.vsum)).toEqual([100, 0]);
  });

  it('folds a late sample (an agent replaying a day of outbox) into its own old bucket, exactly once', () => {
    const { store, history, db, clock } = setup();
    insert(store, T0, metrics(10));
    insert(store, T0 + 30_000, metrics(20));
    history.rollup();
    clock.advance(DAY_MS);
    // A day later the outbox replays: samples from yesterday's first minute and hour arrive now.
    insert(store, T0 + 50_000, metrics(60), 'pc-01', clock.now());
    insert(store, T0 + 40 * 60_000, metrics(0), 'pc-01', clock.now());
    insert(store, clock.now(), metrics(5), 'pc-01', clock.now());
    history.rollup();
    const m1 = buckets(db, 'rollup_1m');
    expect(m1[0]).toEqual({ host: 'pc-01', key: '', t: T0, vmin: 10, vmax: 60, vsum: 90, n: 3 });
    expect(buckets(db, 'rollup_1h')[0]).toEqual({ host: 'pc-01', key: '', t: T0, vmin: 0, vmax: 60, vsum: 90, n: 4 });
    expect(buckets(db, 'rollup_1h')[1]).toMatchObject({ t: T0 + DAY_MS, n: 1 });
    // Replaying the same messages again (duplicates) changes nothing: the store dedups them.
    history.rollup();
    expect(buckets(db, 'rollup_1h')[0]!.n).toBe(4);
  });

  it('keeps its progress across restarts: a new instance continues from the watermark, nothing twice', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'canh-history-')), 'canh.db');
    const a = setup(file);
    for (let i = 0; i < 50; i++) insert(a.store, T0 + i * 15_000, metrics(i));
    // Fold part of it (a crash after 2 batches of 10), then restart.
    expect(a.history.rollup(20, 10)).toMatchObject({ samples: 20, caughtUp: false });
    expect(a.history.lag().samples).toBe(30);
    a.store.close();
    const b = setup(file);
    expect(b.history.watermark()).toBeGreaterThan(0);
    expect(b.history.rollup()).toMatchObject({ samples: 30, caughtUp: true });
    const h = buckets(b.db, 'rollup_1h');
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ n: 50, vsum: (49 * 50) / 2, vmin: 0, vmax: 49 });
    expect(b.history.lag()).toEqual({ samples: 0, ms: 0 });
  });

  it('folds interleaved hosts the same in small batches as in one (the store worker folds 50 per transaction)', () => {
    const one = setup();
    const small = setup();
    // 40 hosts sampled in turn for 20 minutes, as the rows of a province arrive.
    for (let i = 0; i < 40 * 80; i++) {
      const t = T0 + Math.floor(i / 40) * 15_000 + (i % 40) * 100;
      const m = metrics(i % 97, { mem: { total: 8e9, used: ((i * 7919) % 8000) * 1e6, available: 4e9, swapTotal: 0, swapUsed: 0 } });
      insert(one.store, t, m, `pc-${i % 40}`);
      insert(small.store, t, m, `pc-${i % 40}`);
    }
    expect(one.history.rollup(10_000, 10_000)).toMatchObject({ samples: 3200, caughtUp: true });
    let folded = 0;
    for (let r = small.history.rollup(50, 50); ; r = small.history.rollup(50, 50)) {
      expect(r.samples).toBeLessThanOrEqual(50);
      folded += r.samples;
      if (r.caughtUp) break;
    }
    expect(folded).toBe(3200);
    // The same buckets; a sum added in another order may differ in its last bit.
    const rounded = (rows: ReturnType<typeof buckets>) => rows.map((b) => ({ ...b, vsum: Math.round(b.vsum * 1e6) / 1e6 }));
    for (const table of ['rollup_1m', 'rollup_15m', 'rollup_1h'])
      for (const metric of ['cpu', 'mem']) {
        const want = rounded(buckets(one.db, table, metric));
        expect(want.length).toBeGreaterThan(0);
        expect(rounded(buckets(small.db, table, metric))).toEqual(want);
      }
  });

  it('reports its lag: samples pending and how long the oldest has waited', () => {
    const { store, history, clock } = setup();
    insert(store, T0, metrics(1));
    clock.advance(90_000);
    insert(store, clock.now(), metrics(1), 'pc-01', clock.now());
    expect(history.lag()).toEqual({ samples: 2, ms: 90_000 });
    history.rollup();
    expect(history.lag()).toEqual({ samples: 0, ms: 0 });
  });

  it('applies retention per resolution and never deletes samples not yet rolled up', () => {
    const { store, history, db, clock } = setup();
    for (let d = 0; d < 40; d++) insert(store, T0 + d * DAY_MS, metrics(d));
    history.rollup();
    clock.advance(39 * DAY_MS + 1000); // now = the last sample's day
    // Late arrival of a 20-day-old sample, not rolled up yet: retention must keep it.
    insert(store, clock.now() - 20 * DAY_MS - 5000, metrics(99), 'pc-01', clock.now());
    // In chunks of 10 raw rows (the job yields between calls): three calls for 26 rows.
    const first = history.applyRetention(10);
    expect(first).toMatchObject({ raw: 10, done: false });
    expect(history.applyRetention(10)).toMatchObject({ raw: 10, done: false });
    const d = history.applyRetention(10);
    expect(d.done).toBe(true);
    d.raw += 20;
    // raw keeps 14 days: samples of days 26..39 stay (day 25 is 14 d + 1 s old), and the pending one.
    expect(d.raw).toBe(26);
    expect((db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n).toBe(15);
    // 1m keeps 35 days: days 0..4 go (two series each: cpu and up).
    expect(d.rollups['1m']).toBe(10);
    expect(d.rollups['15m']).toBe(0);
    expect(d.rollups['1h']).toBe(0);
    history.rollup();
    // The late sample is folded in after all.
    expect(buckets(db, 'rollup_1h').some((b) => b.vmax === 99)).toBe(true);
  });

  it('chooses the finest resolution that holds the range and keeps under the point budget', () => {
    const { history, clock } = setup();
    const now = clock.now();
    expect(history.chooseResolution(now - 3_600_000, now)).toBe('raw');
    expect(history.chooseResolution(now - 6 * 3_600_000, now)).toBe('1m');
    expect(history.chooseResolution(now - DAY_MS, now)).toBe('15m');
    expect(history.chooseResolution(now - 7 * DAY_MS, now)).toBe('1h');
    expect(history.chooseResolution(now - 30 * DAY_MS, now)).toBe('1h');
    expect(history.chooseResolution(now - DAY_MS, now, 1500)).toBe('1m');
    // An hour 20 days ago: raw is gone (14 d), 1m still kept (35 d).
    expect(history.chooseResolution(now - 20 * DAY_MS, now - 20 * DAY_MS + 3_600_000)).toBe('1m');
    // An hour 100 days ago: 15m.
    expect(history.chooseResolution(now - 100 * DAY_MS, now - 100 * DAY_MS + 3_600_000)).toBe('15m');
  });

  it('reads series of one host or of a whole site, rolled up or raw', () => {
    const { store, history } = setup();
    insert(store, T0, metrics(10), 'pc-01');
    insert(store, T0 + 15_000, metrics(20), 'pc-01');
    insert(store, T0, metrics(70), 'pc-02');
    history.rollup();
    const site = history.series({ site: 'xa-a', metric: 'cpu', from: T0, to: T0 + 60_000, resolution: '1m' });
    expect(site.map((s) => [s.host, s.points.map((p) => [p.t, p.avg, p.min, p.max, p.count])])).toEqual([
      ['pc-01', [[T0, 15, 10, 20, 2]]],
      ['pc-02', [[T0, 70, 70, 70, 1]]],
    ]);
    // The API's JSON fast path gives the same points (rounded: 3 decimals, integers from 100).
    insert(store, T0 + 20_000, metrics(12.34567), 'pc-02');
    insert(store, T0 + 20_000, { net: [{ iface: 'eth0', rxBps: 123456.78, txBps: 1, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 }] }, 'pc-03');
    history.rollup();
    const json = history.seriesJson({ site: 'xa-a', metric: 'cpu', from: T0, to: T0 + 60_000, resolution: '1m' });
    expect(json.map((s) => [s.host, s.key, JSON.parse(s.points)])).toEqual([
      ['pc-01', '', [[T0, 15, 10, 20]]],
      ['pc-02', '', [[T0, 41.173, 12.346, 70]]],
    ]);
    expect(JSON.parse(history.seriesJson({ site: 'xa-a', metric: 'net_rx', from: T0, to: T0 + 60_000, resolution: '1m' })[0]!.points)).toEqual([[T0, 123457, 123457, 123457]]);
    expect(history.seriesJson({ site: 'xa-a', metric: 'cpu', from: T0 + 60_000, to: T0 + 120_000, resolution: '1m' })[0]!.points).toBe('[]');
    // Raw includes samples not rolled up yet.
    insert(store, T0 + 30_000, metrics(40), 'pc-01');
    const raw = history.series({ site: 'xa-a', host: 'pc-01', metric: 'cpu', from: T0, to: T0 + 60_000, resolution: 'raw' });
    expect(raw[0]!.points.map((p) => p.avg)).toEqual([10, 20, 40]);
    // `to` is exclusive.
    expect(history.series({ site: 'xa-a', host: 'pc-01', metric: 'cpu', from: T0, to: T0 + 15_000, resolution: 'raw' })[0]!.points).toHaveLength(1);
  });
});

describe('RollupJob', () => {
  it('folds in chunks, applies retention at most once an hour, counts what it did', async () => {
    const { store, history, clock, db } = setup();
    const metricsReg = new MetricsRegistry();
    const job = new RollupJob({ history, clock, log: silentLogger(), metrics: metricsReg, cron: '* * * * *', maxSamplesPerRun: 12_000 });
    for (let i = 0; i < 12_345; i++) insert(store, T0 - 20 * DAY_MS + i * 1000, metrics(i % 100));
    await job.runOnce();
    // 12,000 per run: the rest waits for the next run.
    expect(history.lag().samples).toBe(345);
    expect(metricsReg.render()).toMatch(/canh_rollup_samples_total 12000/);
    // Retention ran: the samples are 20 days old, beyond raw's 14 (those folded in only).
    const left = () => (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    expect(left()).toBe(345);
    await job.runOnce();
    expect(history.lag().samples).toBe(0);
    // Not an hour yet: retention did not run again, so the last 345 stay for now.
    expect(left()).toBe(345);
    clock.advance(3_600_000);
    await job.runOnce();
    expect(left()).toBe(1); // the newest row stays (id reuse guard)
    expect(metricsReg.render()).toMatch(/canh_history_deleted_total\{resolution="raw"\} 12344/);
    expect(() => new RollupJob({ history, clock, log: silentLogger(), metrics: new MetricsRegistry(), cron: 'every minute' })).toThrow(/rollupCron/);
  });

  it('forgets a series once nothing of it is kept', () => {
    const { store, history, clock, db } = setup();
    insert(store, T0, metrics(1), 'pc-old');
    history.rollup();
    clock.advance(1827 * DAY_MS);
    insert(store, clock.now(), metrics(2), 'pc-new', clock.now());
    history.rollup();
    history.applyRetention();
    const hosts = (db.prepare('SELECT DISTINCT host FROM history_series').all() as Array<{ host: string }>).map((r) => r.host);
    expect(hosts).toEqual(['pc-new']);
    expect((db.prepare('SELECT count(*) AS n FROM rollup_1h').get() as { n: number }).n).toBe(2); // cpu + up of pc-new
  });
});
