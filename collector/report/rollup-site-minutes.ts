import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { HistoryReader } from '../store/history.js';
import { SITE_SERIES_SQL, siteRollupRowsSql } from '../store/sqlite-history.js';
import { MinuteHistory } from './minute-history.js';
import { HistorySiteMinutes, MINUTE, siteMinutesOf, type SaturationCount, type SaturationMetric, type SiteMinutes, type SiteMinuteSource } from './site-minutes.js';

type Intervals = ReadonlyArray<readonly [number, number]>;
type Statement = ReturnType<SqliteDatabase['prepare']>;

/**
 * {@link SiteMinuteSource} straight from the collector's 1-minute rollups (read through
 * {@link siteRollupRowsSql} of collector/store/sqlite-history.ts, which owns how they are
 * keyed), aggregated across PCs in SQL: one row per minute (line usage, loss and response
 * time as the median over PCs with window functions, portals) instead of one per series and
 * minute, and saturation counted in SQL. The figures are those of {@link HistorySiteMinutes};
 * for a site-month whose 1-minute rollups are past retention it hands over to that one
 * (`fallback`), which reads the 15-minute rollups.
 */
export class RollupSiteMinutes implements SiteMinuteSource {
  private readonly stmts: Record<string, Statement>;
  private usedFallback = false;

  constructor(
    db: SqliteDatabase,
    private readonly fallback: SiteMinuteSource,
  ) {
    const fine = `(${siteRollupRowsSql('1m')})`;
    this.stmts = {
      sum: db.prepare(`SELECT t, sum(vsum / n) AS v FROM ${fine} GROUP BY t`),
      // Per minute, the median over PCs of each PC's mean over its series (targets, portals):
      // the middle row, or the mean of the two middle rows, as site-minutes.ts computes it.
      hostMedian: db.prepare(
        `SELECT t, avg(v) AS v FROM (
           SELECT t, v, row_number() OVER (PARTITION BY t ORDER BY v) AS rn, count(*) OVER (PARTITION BY t) AS c
           FROM (SELECT t, host, avg(vsum / n) AS v FROM ${fine} GROUP BY t, host))
         WHERE rn IN ((c + 1) / 2, (c + 2) / 2) GROUP BY t`,
      ),
      keyMax: db.prepare(`SELECT t, key, max(vmax) AS v FROM ${fine} GROUP BY t, key`),
      saturation: db.prepare(`SELECT host, count(*) AS seen, sum(vsum / n >= @threshold) AS sat FROM ${fine} GROUP BY host`),
      // Several series per PC (disk_busy: one per physical disk): the busiest one each minute.
      saturationKeyMax: db.prepare(
        `SELECT host, count(*) AS seen, sum(v >= @threshold) AS sat FROM (SELECT host, t, max(vsum / n) AS v FROM ${fine} GROUP BY host, t) GROUP BY host`,
      ),
      keys: db.prepare(`SELECT DISTINCT key FROM (${SITE_SERIES_SQL}) ORDER BY key`),
      first1m: db.prepare(`SELECT min(t) AS t FROM ${fine}`),
      first15m: db.prepare(`SELECT min(t) AS t FROM (${siteRollupRowsSql('15m')})`),
    };
  }

  /** Whether the 1-minute rollups reach back as far as the 15-minute ones in this range. */
  private fineCovers(site: string, intervals: Intervals): boolean {
    if (intervals.length === 0) return true;
    const p = { site, metric: 'cpu', from: intervals[0]![0] - (intervals[0]![0] % (15 * MINUTE)), to: intervals[intervals.length - 1]![1] };
    const fine = (this.stmts.first1m!.get(p) as { t: number | null }).t;
    const coarse = (this.stmts.first15m!.get(p) as { t: number | null }).t;
    if (coarse === null) return true;
    return fine !== null && fine <= coarse + 15 * MINUTE;
  }

  siteMinutes(site: string, from: number, to: number, intervals: Intervals): SiteMinutes {
    if (!this.fineCovers(site, intervals)) {
      this.usedFallback = true;
      return this.fallback.siteMinutes(site, from, to, intervals);
    }
    const n = Math.ceil((to - from) / MINUTE);
    const idx = (t: number) => Math.floor((t - from) / MINUTE);
    const rx = new Float64Array(n).fill(NaN);
    const perHost = (metric: string) => {
      const out = new Float64Array(n).fill(NaN);
      for (const [a, b] of intervals) {
        for (const r of this.stmts.hostMedian!.iterate({ site, metric, from: a, to: b }) as Iterable<{ t: number; v: number }>) {
          const i = idx(r.t);
          if (i >= 0 && i < n) out[i] = r.v;
        }
      }
      return out;
    };
    for (const [a, b] of intervals) {
      for (const r of this.stmts.sum!.iterate({ site, metric: 'net_rx', from: a, to: b }) as Iterable<{ t: number; v: number }>) {
        const i = idx(r.t);
        if (i >= 0 && i < n) rx[i] = (r.v * 8) / 1e6;
      }
    }
    const loss = perHost('ping_loss');
    const latency = perHost('http_total');
    const portals = (this.stmts.keys!.all({ site, metric: 'http_ok' }) as Array<{ key: string }>).map((r) => r.key);
    const probed = new Uint32Array(n);
    const answered = new Uint32Array(n);
    for (const [a, b] of intervals) {
      for (const r of this.stmts.keyMax!.iterate({ site, metric: 'http_ok', from: a, to: b }) as Iterable<{ t: number; key: string; v: number }>) {
        const i = idx(r.t);
        const k = portals.indexOf(r.key);
        if (i < 0 || i >= n || k < 0) continue;
        const bit = 1 << Math.min(31, k);
        probed[i]! |= bit;
        if (r.v >= 100) answered[i]! |= bit;
      }
    }
    // Only portals probed in the month (as the history path sees them).
    const seen = portals.filter((_, k) => probed.some((m) => (m & (1 << Math.min(31, k))) !== 0));
    return siteMinutesOf(from, n, { rx, loss, latency, probed, answered }, seen.length === portals.length ? portals : seen);
  }

  saturation(site: string, metric: SaturationMetric, intervals: Intervals, threshold: number): Map<string, SaturationCount> {
    if (!this.fineCovers(site, intervals)) {
      this.usedFallback = true;
      return this.fallback.saturation(site, metric, intervals, threshold);
    }
    const out = new Map<string, SaturationCount>();
    const stmt = metric === 'disk_busy' ? this.stmts.saturationKeyMax! : this.stmts.saturation!;
    for (const [a, b] of intervals) {
      for (const r of stmt.iterate({ site, metric, from: a, to: b, threshold }) as Iterable<{ host: string; seen: number; sat: number }>) {
        const acc = out.get(r.host) ?? { sat: 0, seen: 0 };
        acc.sat += r.sat;
        acc.seen += r.seen;
        out.set(r.host, acc);
      }
    }
    return out;
  }

  coarse(): boolean {
    return this.usedFallback && this.fallback.coarse();
  }
}

/** `ReportSources.siteMinutes` for the collector's SQLite store: SQL over the rollups, history port as fallback. */
export function rollupSiteMinutes(db: SqliteDatabase, history: HistoryReader): () => SiteMinuteSource {
  return () => new RollupSiteMinutes(db, new HistorySiteMinutes(new MinuteHistory(history)));
}
