import type { HistoryMetric, HistoryReader, HistorySeries } from '../store/history.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;

/**
 * Per-minute series for the report's counts (congested minutes, saturated minutes), read
 * only over the given intervals (the month's working time: a fifth of the month's
 * minutes). Reads the 1-minute rollups; for an interval where they hold nothing (past
 * their ~35-day retention: a report on an older month, or the previous month's
 * comparison) it falls back to the 15-minute rollups, each bucket standing for its 15
 * minutes. `coarse` tells the report to say so.
 */
export class MinuteHistory {
  coarse = false;

  constructor(private readonly history: HistoryReader) {}

  series(site: string, metric: HistoryMetric, intervals: ReadonlyArray<readonly [number, number]>): HistorySeries[] {
    const merged = new Map<string, HistorySeries>();
    const add = (list: HistorySeries[]) => {
      for (const s of list) {
        const id = `${s.host}\u0000${s.key}`;
        const m = merged.get(id);
        if (m) m.points.push(...s.points);
        else merged.set(id, { host: s.host, key: s.key, resolution: '1m', points: [...s.points] });
      }
    };
    for (const [from, to] of intervals) {
      const fine = this.history.series({ site, metric, from, to, resolution: '1m' });
      if (fine.some((s) => s.points.length > 0)) {
        add(fine);
        continue;
      }
      const coarse = this.history.series({ site, metric, from: from - (from % QUARTER), to, resolution: '15m' });
      if (!coarse.some((s) => s.points.length > 0)) continue;
      this.coarse = true;
      add(
        coarse.map((c) => ({
          ...c,
          points: c.points.flatMap((p) => Array.from({ length: 15 }, (_, k) => ({ ...p, t: p.t + k * MINUTE })).filter((x) => x.t >= from && x.t < to)),
        })),
      );
    }
    return [...merged.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
