import type { HistoryMetric, HistoryReader, HistorySeries } from '../store/history.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;

/**
 * Per-minute series for the report's counts (congested minutes, saturated minutes). Reads
 * the 1-minute rollups; where they are already past retention (the 1-minute rollups are
 * kept ~35 days, so a report on an older month, or the previous month's comparison), it
 * falls back to the 15-minute rollups, each bucket standing for its 15 minutes. `coarse`
 * tells the report to say so.
 */
export class MinuteHistory {
  coarse = false;

  constructor(private readonly history: HistoryReader) {}

  series(site: string, metric: HistoryMetric, from: number, to: number): HistorySeries[] {
    const fine = this.history.series({ site, metric, from, to, resolution: '1m' });
    let first = to;
    for (const s of fine) if (s.points.length && s.points[0]!.t < first) first = s.points[0]!.t;
    if (first - from < QUARTER) return fine;
    const coarse = this.history.series({ site, metric, from, to: Math.min(to, first - (first % QUARTER)), resolution: '15m' });
    if (coarse.every((s) => s.points.length === 0)) return fine;
    this.coarse = true;
    const byId = new Map(fine.map((s) => [`${s.host}\u0000${s.key}`, s]));
    for (const c of coarse) {
      const expanded = c.points.flatMap((p) => Array.from({ length: 15 }, (_, k) => ({ ...p, t: p.t + k * MINUTE })).filter((x) => x.t >= from && x.t < to));
      const id = `${c.host}\u0000${c.key}`;
      const f = byId.get(id);
      if (f) f.points = [...expanded.filter((p) => p.t < (f.points[0]?.t ?? to)), ...f.points];
      else {
        const s: HistorySeries = { host: c.host, key: c.key, resolution: '1m', points: expanded };
        fine.push(s);
        byId.set(id, s);
      }
    }
    return fine.sort((a, b) => a.host.localeCompare(b.host) || a.key.localeCompare(b.key));
  }
}
