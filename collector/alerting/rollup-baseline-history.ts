import type Database from 'better-sqlite3';
import { siteRollupRowsSql } from '../store/sqlite-history.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { BaselineHistory, BaselineMinute } from './baselines.js';

/**
 * The baselines' stored history (issue 13 item 5): off-peak site-minutes read back from the
 * 1-minute rollups, the same figures live learning computes (the mean over every host's
 * samples of the minute). One call reads one site over a short window, each series as a
 * primary-key range of `rollup_1m`: a bounded query, so seeding can run on the event loop
 * between yields.
 */
export class RollupBaselineHistory implements BaselineHistory {
  private readonly sitesStmt: Database.Statement<unknown[]> | undefined;
  private readonly minutesStmt: Database.Statement<unknown[]> | undefined;

  constructor(db: SqliteDatabase) {
    // No history module in this database (a test, or history kept elsewhere): nothing to seed from.
    if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history_series'`).get()) return;
    this.sitesStmt = db.prepare(`SELECT DISTINCT site FROM history_series WHERE metric IN ('ping_loss', 'http_ok')`).pluck();
    const per = (metric: string) => siteRollupRowsSql('1m').replace('@metric', `'${metric}'`);
    // Per (key, minute): sum(vsum)/sum(n) over hosts = the mean of every sample of the minute.
    const agg = (metric: string, col: string) => `SELECT key, t, sum(vsum) / sum(n) AS ${col} FROM (${per(metric)}) GROUP BY key, t`;
    this.minutesStmt = db.prepare(
      `SELECT 'ping:' || l.key AS series, l.t AS t, l.v AS loss, p.v AS latency
         FROM (${agg('ping_loss', 'v')}) l LEFT JOIN (${agg('ping_p95', 'v')}) p ON p.key = l.key AND p.t = l.t
       UNION ALL
       SELECT 'http:' || o.key, o.t, 100 - o.v, h.v
         FROM (${agg('http_ok', 'v')}) o LEFT JOIN (${agg('http_total', 'v')}) h ON h.key = o.key AND h.t = o.t`,
    );
  }

  sites(): string[] {
    return (this.sitesStmt?.all() ?? []) as string[];
  }

  minutes(site: string, from: number, to: number): BaselineMinute[] {
    const rows = (this.minutesStmt?.all({ site, from, to }) ?? []) as Array<{ series: string; t: number; loss: number; latency: number | null }>;
    return rows.map((r) => ({ site, series: r.series, t: r.t, loss: r.loss, latency: r.latency }));
  }
}
