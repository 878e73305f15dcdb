import type Database from 'better-sqlite3';
import type { Clock } from '../../common/clock.js';
import type { SampleMetrics } from '../../contract/schemas.js';
import { RESOLUTION_MS, type HistoryPoint, type HistoryQuery, type HistoryReader, type HistorySeries, type Resolution } from './history.js';
import { seriesValues } from './history-extract.js';
import { migrateModule } from './module-migrations.js';
import type { SqliteDatabase } from './sqlite-store.js';

type Statement = Database.Statement<unknown[]>;

export type RollupResolution = Exclude<Resolution, 'raw'>;
const ROLLUPS: readonly RollupResolution[] = ['1m', '15m', '1h'];
const TABLE: Record<RollupResolution, string> = { '1m': 'rollup_1m', '15m': 'rollup_15m', '1h': 'rollup_1h' };

/** Retention per resolution, ms. */
export type HistoryRetention = Record<Resolution, number>;
export const DAY_MS = 86_400_000;
export const DEFAULT_RETENTION: HistoryRetention = { raw: 14 * DAY_MS, '1m': 35 * DAY_MS, '15m': 400 * DAY_MS, '1h': 1826 * DAY_MS };

/**
 * What `auto` assumes a raw sample's spacing is: the agent's default interval (15 s). A
 * site whose agents sample faster gets more raw points, still under the point bound.
 */
export const RAW_STEP_MS = 15_000;
export const DEFAULT_MAX_POINTS = 500;
/** Raw rows read per host and query (a day of 1 s samples); the API bounds ranges well below. */
const MAX_RAW_ROWS = 100_000;
/** Raw samples deleted per statement by retention. */
const RAW_DELETE_CHUNK = 5000;

/**
 * Rollup rows are keyed by an integer series id (not by site/metric/host/key text), so a
 * bucket costs ~45 bytes on disk: a province of 500 PCs keeps 35 days of 1-minute, 400 days
 * of 15-minute and 5 years of 1-hour buckets without the rollups outgrowing the raw samples.
 */
const rollupTable = (r: RollupResolution) => `CREATE TABLE ${TABLE[r]} (
     series INTEGER NOT NULL, t INTEGER NOT NULL,
     vmin REAL NOT NULL, vmax REAL NOT NULL, vsum REAL NOT NULL, n INTEGER NOT NULL,
     PRIMARY KEY (series, t)) WITHOUT ROWID;`;

const MIGRATIONS = [
  `-- Every series (site, metric, host, key) once, with its id and newest sample time.
   CREATE TABLE history_series (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, metric TEXT NOT NULL, host TEXT NOT NULL, key TEXT NOT NULL,
     last_t INTEGER NOT NULL);
   CREATE UNIQUE INDEX history_series_name ON history_series (site, metric, host, key);
   ${ROLLUPS.map(rollupTable).join('\n')}
   -- Persisted progress of the rollup job: the last samples.id folded in.
   CREATE TABLE history_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
];

/**
 * SQL selecting one site's rollup rows of one metric at `res`, as `(t, host, key, vmin,
 * vmax, vsum, n)`, for callers that aggregate rollups in SQL (the monthly report,
 * collector/report/rollup-site-minutes.ts) without knowing how the rollup tables are keyed.
 * Named parameters: @site, @metric, @from, @to (t in [from, to)). Each series of the site
 * is read as a range of the rollup table's primary key (series, t): no scan of the table.
 */
export function siteRollupRowsSql(res: RollupResolution): string {
  return `SELECT r.t AS t, s.host AS host, s.key AS key, r.vmin AS vmin, r.vmax AS vmax, r.vsum AS vsum, r.n AS n
    FROM history_series s CROSS JOIN ${TABLE[res]} r ON r.series = s.id
    WHERE s.site = @site AND s.metric = @metric AND r.t >= @from AND r.t < @to`;
}

/** SQL listing one site's series of one metric as `(id, host, key)`; named parameters @site, @metric. */
export const SITE_SERIES_SQL = `SELECT id, host, key FROM history_series WHERE site = @site AND metric = @metric`;

export interface RollupOutcome {
  samples: number;
  buckets: number;
  /** true when every stored sample is folded in. */
  caughtUp: boolean;
}

export interface RetentionOutcome {
  raw: number;
  rollups: Record<RollupResolution, number>;
  /** false when the raw-row budget ran out first: call again (after yielding) to go on. */
  done: boolean;
}

interface Bucket {
  res: RollupResolution;
  /** Series name key (site, metric, host, key joined). */
  sk: string;
  t: number;
  min: number;
  max: number;
  sum: number;
  n: number;
}

/**
 * Metric history over the embedded store (port: collector/store/history.ts). Raw samples
 * stay in `samples`; {@link rollup} folds every sample stored since the persisted
 * watermark (a `samples.id`, i.e. insertion order, not sample time) into 1-minute,
 * 15-minute and 1-hour buckets of min/max/sum/count. Because progress follows insertion
 * order, a sample that arrives late (an agent replaying a day of outbox) is folded into
 * its own, older bucket exactly once; buckets are merged, never overwritten.
 */
export class SqliteHistory implements HistoryReader {
  private readonly stmts;
  private readonly upsert: Record<RollupResolution, Statement>;
  private readonly read: Record<RollupResolution, Statement>;
  private readonly readJson: Record<RollupResolution, Statement>;
  private readonly deleteOld: Record<RollupResolution, Statement>;
  private readonly deleteSeriesRows: Record<RollupResolution, Statement>;
  private readonly retention: HistoryRetention;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    retention: Partial<HistoryRetention> = {},
  ) {
    migrateModule(db, 'history', MIGRATIONS);
    this.retention = { ...DEFAULT_RETENTION, ...retention };
    const upsert = (r: RollupResolution) =>
      db.prepare(
        `INSERT INTO ${TABLE[r]} (series, t, vmin, vmax, vsum, n) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (series, t) DO UPDATE SET
           vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax), vsum = vsum + excluded.vsum, n = n + excluded.n`,
      );
    this.upsert = { '1m': upsert('1m'), '15m': upsert('15m'), '1h': upsert('1h') };
    const per = (sql: (table: string) => string) =>
      ({ '1m': db.prepare(sql(TABLE['1m'])), '15m': db.prepare(sql(TABLE['15m'])), '1h': db.prepare(sql(TABLE['1h'])) }) as Record<RollupResolution, Statement>;
    this.read = per((t) => `SELECT t, vmin, vmax, vsum, n FROM ${t} WHERE series = ? AND t >= ? AND t < ? ORDER BY t`);
    // Points as JSON text built by SQLite: the API's hot path (no row objects in JS).
    const r = (x: string) => `CASE WHEN abs(${x}) >= 100 THEN round(${x}) ELSE round(${x}, 3) END`;
    this.readJson = per(
      (t) =>
        `SELECT coalesce(json_group_array(json_array(t, ${r('vsum / n')}, ${r('vmin')}, ${r('vmax')})), '[]') FROM
           (SELECT t, vmin, vmax, vsum, n FROM ${t} WHERE series = ? AND t >= ? AND t < ? ORDER BY t)`,
    );
    for (const st of Object.values(this.readJson)) st.pluck();
    this.deleteOld = per((t) => `DELETE FROM ${t} WHERE series = ? AND t < ?`);
    this.deleteSeriesRows = per((t) => `DELETE FROM ${t} WHERE series = ?`);
    this.stmts = {
      watermark: db.prepare(`SELECT value FROM history_state WHERE name = 'samples_id'`),
      setWatermark: db.prepare(`INSERT INTO history_state (name, value) VALUES ('samples_id', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
      pending: db.prepare(`SELECT id, site, host, t, metrics FROM samples WHERE id > ? ORDER BY id LIMIT ?`),
      maxId: db.prepare(`SELECT coalesce(max(id), 0) AS id FROM samples`),
      firstPending: db.prepare(`SELECT received FROM samples WHERE id > ? ORDER BY id LIMIT 1`),
      touchSeries: db.prepare(
        `INSERT INTO history_series (site, metric, host, key, last_t) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (site, metric, host, key) DO UPDATE SET last_t = max(last_t, excluded.last_t) RETURNING id`,
      ),
      seriesOfSite: db.prepare(`SELECT id, host, key FROM history_series WHERE site = ? AND metric = ? ORDER BY host, key`),
      seriesOfHost: db.prepare(`SELECT id, host, key FROM history_series WHERE site = ? AND metric = ? AND host = ? ORDER BY key`),
      allSeries: db.prepare(`SELECT id, last_t FROM history_series`),
      deleteSeries: db.prepare(`DELETE FROM history_series WHERE id = ?`),
      rawSamples: db.prepare(`SELECT t, metrics FROM samples WHERE site = ? AND host = ? AND t >= ? AND t < ? ORDER BY t LIMIT ?`),
      siteHosts: db.prepare(`SELECT host FROM hosts WHERE site = ? ORDER BY host`),
      allHosts: db.prepare(`SELECT site, host FROM hosts`),
      deleteRaw: db.prepare(
        // Never a sample the rollup job has not folded in yet, and never the newest row:
        // SQLite reuses max(id)+1, and an id at or below the watermark would be skipped.
        `DELETE FROM samples WHERE id IN (
           SELECT id FROM samples WHERE site = ? AND host = ? AND t < ? AND id <= ? AND id < (SELECT max(id) FROM samples) LIMIT ?)`,
      ),
    };
  }

  /** The last `samples.id` folded into the rollups. */
  watermark(): number {
    return (this.stmts.watermark.get() as { value: number } | undefined)?.value ?? 0;
  }

  /** Samples stored but not yet folded in, and how long the oldest has waited (ms). */
  lag(): { samples: number; ms: number } {
    const w = this.watermark();
    const max = (this.stmts.maxId.get() as { id: number }).id;
    if (max <= w) return { samples: 0, ms: 0 };
    const first = this.stmts.firstPending.get(w) as { received: number } | undefined;
    return { samples: max - w, ms: first ? Math.max(0, this.clock.now() - first.received) : 0 };
  }

  /**
   * Fold up to `maxSamples` pending samples into the rollups, `batch` per transaction (the
   * watermark moves with each batch, so a crash repeats nothing and loses nothing).
   */
  rollup(maxSamples = 100_000, batch = 2000): RollupOutcome {
    let samples = 0;
    let buckets = 0;
    let watermark = this.watermark();
    while (samples < maxSamples) {
      const rows = this.stmts.pending.all(watermark, Math.min(batch, maxSamples - samples)) as Array<{
        id: number;
        site: string;
        host: string;
        t: number;
        metrics: string;
      }>;
      if (rows.length === 0) return { samples, buckets, caughtUp: true };
      const acc = new Map<string, Bucket>();
      const series = new Map<string, { name: [string, string, string, string]; lastT: number; id: number }>();
      for (const r of rows) {
        let metrics: SampleMetrics;
        try {
          metrics = JSON.parse(r.metrics) as SampleMetrics;
        } catch {
          continue; // written by us from validated input; a corrupt row must not stall the job
        }
        for (const v of seriesValues(metrics)) {
          const sk = `${r.site}\u0000${v.metric}\u0000${r.host}\u0000${v.key}`;
          const s = series.get(sk);
          if (!s) series.set(sk, { name: [r.site, v.metric, r.host, v.key], lastT: r.t, id: 0 });
          else if (r.t > s.lastT) s.lastT = r.t;
          for (const res of ROLLUPS) {
            const step = RESOLUTION_MS[res];
            const t = Math.floor(r.t / step) * step;
            const k = `${res}\u0000${sk}\u0000${t}`;
            const b = acc.get(k);
            if (b) {
              if (v.value < b.min) b.min = v.value;
              if (v.value > b.max) b.max = v.value;
              b.sum += v.value;
              b.n++;
            } else acc.set(k, { res, sk, t, min: v.value, max: v.value, sum: v.value, n: 1 });
          }
        }
      }
      const last = rows[rows.length - 1]!.id;
      this.db
        .transaction(() => {
          // One upsert per series per batch (it moves last_t and returns the id).
          for (const s of series.values()) s.id = (this.stmts.touchSeries.get(...s.name, s.lastT) as { id: number }).id;
          for (const b of acc.values()) {
            const id = series.get(b.sk)!.id;
            this.upsert[b.res].run(id, b.t, b.min, b.max, b.sum, b.n);
          }
          this.stmts.setWatermark.run(last);
        })
        .immediate();
      watermark = last;
      samples += rows.length;
      buckets += acc.size;
    }
    return { samples, buckets, caughtUp: this.stmts.pending.all(watermark, 1).length === 0 };
  }

  /**
   * Delete what is older than each resolution's retention. `rawChunk` raw rows per statement
   * and `seriesPerTx` series per transaction bound how long the write lock is held (the
   * store worker, collector/store/store-worker.ts, keeps both small so ingest on the
   * main thread never waits long for it).
   */
  applyRetention(maxRawRows = Number.POSITIVE_INFINITY, opts: { rawChunk?: number; seriesPerTx?: number } = {}): RetentionOutcome {
    const now = this.clock.now();
    const watermark = this.watermark();
    let raw = 0;
    const rawCutoff = now - this.retention.raw;
    // Raw rows in chunks (one transaction each), so the first retention of a big store
    // neither holds one huge transaction nor blocks for long (the job yields between calls).
    for (const h of this.stmts.allHosts.all() as Array<{ site: string; host: string }>) {
      for (;;) {
        const budget = Math.min(opts.rawChunk ?? RAW_DELETE_CHUNK, maxRawRows - raw);
        if (budget <= 0) return { raw, rollups: { '1m': 0, '15m': 0, '1h': 0 }, done: false };
        const n = this.stmts.deleteRaw.run(h.site, h.host, rawCutoff, watermark, budget).changes;
        raw += n;
        if (n < budget) break;
      }
    }
    const rollups = { '1m': 0, '15m': 0, '1h': 0 } as Record<RollupResolution, number>;
    // Per series: each delete is a range of the primary key (no time index to maintain).
    const all = this.stmts.allSeries.all() as Array<{ id: number; last_t: number }>;
    const per = opts.seriesPerTx ?? all.length;
    for (let i = 0; i < all.length; i += Math.max(1, per)) {
      this.db
        .transaction(() => {
          for (const s of all.slice(i, i + Math.max(1, per))) {
            if (s.last_t < now - this.retention['1h']) {
              // Nothing of it is kept anywhere any more: forget the series.
              for (const r of ROLLUPS) rollups[r] += this.deleteSeriesRows[r].run(s.id).changes;
              this.stmts.deleteSeries.run(s.id);
              continue;
            }
            for (const r of ROLLUPS) rollups[r] += this.deleteOld[r].run(s.id, now - this.retention[r]).changes;
          }
        })
        .immediate();
    }
    return { raw, rollups, done: true };
  }

  /**
   * The finest resolution that still holds `from` (retention) and keeps a series under
   * `maxPoints` points; 1 h when none does.
   */
  chooseResolution(from: number, to: number, maxPoints = DEFAULT_MAX_POINTS): Resolution {
    const now = this.clock.now();
    for (const r of ['raw', '1m', '15m', '1h'] as const) {
      const step = r === 'raw' ? RAW_STEP_MS : RESOLUTION_MS[r];
      if (from >= now - this.retention[r] && (to - from) / step <= maxPoints) return r;
    }
    return '1h';
  }

  series(q: HistoryQuery): HistorySeries[] {
    const resolution = q.resolution === 'auto' ? this.chooseResolution(q.from, q.to, q.maxPoints) : q.resolution;
    if (resolution === 'raw') return this.rawSeries(q);
    const known = (q.host === undefined ? this.stmts.seriesOfSite.all(q.site, q.metric) : this.stmts.seriesOfHost.all(q.site, q.metric, q.host)) as Array<{
      id: number;
      host: string;
      key: string;
    }>;
    const wanted = known.filter((s) => q.key === undefined || s.key === q.key);
    const out: HistorySeries[] = [];
    const stmt = this.read[resolution];
    for (const s of wanted) {
      const rows = stmt.all(s.id, q.from, q.to) as Array<{ t: number; vmin: number; vmax: number; vsum: number; n: number }>;
      out.push({
        host: s.host,
        key: s.key,
        resolution,
        points: rows.map((r) => ({ t: r.t, min: r.vmin, max: r.vmax, avg: r.vsum / r.n, count: r.n })),
      });
    }
    return out;
  }

  /**
   * Rolled-up series with their points as JSON text, `[[t, avg, min, max], …]` (values
   * rounded to 3 decimals, or to integers from 100 up): what the API sends, built by SQLite.
   */
  seriesJson(q: HistoryQuery & { resolution: RollupResolution }): Array<{ host: string; key: string; points: string }> {
    const known = (q.host === undefined ? this.stmts.seriesOfSite.all(q.site, q.metric) : this.stmts.seriesOfHost.all(q.site, q.metric, q.host)) as Array<{
      id: number;
      host: string;
      key: string;
    }>;
    const stmt = this.readJson[q.resolution];
    return known.filter((s) => q.key === undefined || s.key === q.key).map((s) => ({ host: s.host, key: s.key, points: stmt.get(s.id, q.from, q.to) as string }));
  }

  /** Raw values straight from the samples (series not rolled up yet included). */
  private rawSeries(q: HistoryQuery): HistorySeries[] {
    const out: HistorySeries[] = [];
    const hosts = q.host !== undefined ? [q.host] : (this.stmts.siteHosts.all(q.site) as Array<{ host: string }>).map((h) => h.host);
    for (const host of hosts) {
      const keys = new Map<string, HistoryPoint[]>();
      const rows = this.stmts.rawSamples.all(q.site, host, q.from, q.to, MAX_RAW_ROWS) as Array<{ t: number; metrics: string }>;
      for (const r of rows) {
        for (const v of seriesValues(JSON.parse(r.metrics) as SampleMetrics)) {
          if (v.metric !== q.metric || (q.key !== undefined && v.key !== q.key)) continue;
          let points = keys.get(v.key);
          if (!points) keys.set(v.key, (points = []));
          points.push({ t: r.t, min: v.value, max: v.value, avg: v.value, count: 1 });
        }
      }
      for (const key of [...keys.keys()].sort()) out.push({ host, key, resolution: 'raw', points: keys.get(key)! });
    }
    return out;
  }
}
