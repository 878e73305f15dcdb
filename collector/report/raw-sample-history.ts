import type { SqliteDatabase } from '../store/sqlite-store.js';
import { RESOLUTION_MS, type HistoryMetric, type HistoryPoint, type HistoryQuery, type HistoryReader, type HistorySeries, type Resolution } from '../store/history.js';

/**
 * A {@link HistoryReader} computed on the fly from the raw `samples` table, bucketing in
 * SQL (min/max/avg/count per host, series key and bucket). A stand-in for the rollup
 * tables of issue 6 (same port, same figures): the report and its tests run on it until the
 * rollup job lands, and it stays correct for data the rollups have not covered yet.
 */

interface MetricSql {
  /** JSON array inside `metrics` the series come from, or null for a column. */
  array: string | null;
  /** SQL expression of the series key. */
  key: string;
  /** SQL expression of the value (NULL rows are skipped). */
  value: string;
}

const j = (field: string) => `json_extract(j.value, '$.${field}')`;

const METRIC_SQL: Record<HistoryMetric, MetricSql> = {
  cpu: { array: null, key: `''`, value: 's.cpu_usage' },
  mem: { array: null, key: `''`, value: 's.mem_used_pct' },
  disk: { array: 'disks', key: j('mount'), value: j('usedPct') },
  net_rx: { array: 'net', key: j('iface'), value: j('rxBps') },
  net_tx: { array: 'net', key: j('iface'), value: j('txBps') },
  ping_rtt: { array: 'ping', key: j('target'), value: j('rttMedian') },
  ping_p95: { array: 'ping', key: j('target'), value: j('rttP95') },
  ping_loss: { array: 'ping', key: j('target'), value: j('lossPct') },
  http_total: { array: 'http', key: j('name'), value: j('totalMs') },
  http_ok: { array: 'http', key: j('name'), value: `(CASE WHEN ${j('ok')} THEN 100.0 ELSE 0.0 END)` },
  up: { array: null, key: `''`, value: '100.0' },
};

const DEFAULT_MAX_POINTS = 1000;

export function pickResolution(q: Pick<HistoryQuery, 'from' | 'to' | 'resolution' | 'maxPoints'>): Resolution {
  if (q.resolution !== 'auto') return q.resolution;
  const max = q.maxPoints ?? DEFAULT_MAX_POINTS;
  for (const r of ['1m', '15m', '1h'] as const) if ((q.to - q.from) / RESOLUTION_MS[r] <= max) return r;
  return '1h';
}

export class RawSampleHistory implements HistoryReader {
  private readonly cache = new Map<string, ReturnType<SqliteDatabase['prepare']>>();

  constructor(private readonly db: SqliteDatabase) {}

  series(q: HistoryQuery): HistorySeries[] {
    const resolution = pickResolution(q);
    const spec = METRIC_SQL[q.metric];
    const bucket = resolution === 'raw' ? 't' : `(t - (t % ${RESOLUTION_MS[resolution]}))`;
    const from = spec.array ? `samples s, json_each(s.metrics, '$.${spec.array}') j` : 'samples s';
    const where = [
      's.site = @site',
      's.t >= @from',
      's.t < @to',
      ...(q.host !== undefined ? ['s.host = @host'] : []),
      ...(spec.array ? [`json_type(s.metrics, '$.${spec.array}') = 'array'`] : []),
      ...(q.key !== undefined ? [`${spec.key} = @key`] : []),
    ].join(' AND ');
    const inner = `SELECT s.host AS host, s.t AS t, s.rowid AS rid, ${spec.key} AS k, ${spec.value} AS v FROM ${from} WHERE ${where}`;
    const finalSql =
      `SELECT host, k AS key, ${bucket} AS b, min(v) AS min, max(v) AS max, avg(v) AS avg, count(v) AS count ` +
      `FROM (${inner}) WHERE v IS NOT NULL GROUP BY host, k, b${resolution === 'raw' ? ', rid' : ''} ORDER BY host, k, b`;
    let stmt = this.cache.get(finalSql);
    if (!stmt) {
      stmt = this.db.prepare(finalSql);
      this.cache.set(finalSql, stmt);
    }
    const params: Record<string, unknown> = { site: q.site, from: q.from, to: q.to };
    if (q.host !== undefined) params.host = q.host;
    if (q.key !== undefined) params.key = q.key;
    const out: HistorySeries[] = [];
    let cur: HistorySeries | undefined;
    for (const r of stmt.iterate(params) as Iterable<{ host: string; key: string | null; b: number; min: number; max: number; avg: number; count: number }>) {
      const key = r.key ?? '';
      if (!cur || cur.host !== r.host || cur.key !== key) {
        cur = { host: r.host, key, resolution, points: [] };
        out.push(cur);
      }
      const p: HistoryPoint = { t: r.b, min: r.min, max: r.max, avg: r.avg, count: r.count };
      cur.points.push(p);
    }
    return out;
  }
}
