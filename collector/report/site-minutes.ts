import type { HistorySeries } from '../store/history.js';
import type { MinuteHistory } from './minute-history.js';

/**
 * Per-minute figures of a whole site, from 1-minute history buckets of all its PCs:
 * download on the line (sum over PCs and interfaces), packet loss and portal response time
 * (median over PCs of each PC's mean over targets/portals) and whether every portal was
 * reachable from at least one PC. The report's availability and congestion are counted on
 * this grid. Typed arrays indexed by minute of the month keep a 40-PC site cheap.
 */
export interface SiteMinute {
  /** Site download, Mbit/s (sum of every PC's received rate). */
  rxMbps: number | null;
  lossPct: number | null;
  latencyMs: number | null;
  /** true: every portal answered from at least one PC; null: no probe ran this minute. */
  portalsOk: boolean | null;
}

export interface SiteMinutes {
  at(t: number): SiteMinute;
  portals: string[];
}

/** Working minutes a PC was measured, and those with a 1-minute mean at/above the threshold. */
export interface SaturationCount {
  sat: number;
  seen: number;
}

/**
 * Per-PC series whose working minutes at/above a threshold the report counts: CPU and memory
 * saturation; a disk busy (issue 17: any physical disk of the PC, the busiest one each
 * minute); memory pressure (PSI `some`, pages swapped/paged per second).
 */
export type SaturationMetric = 'cpu' | 'mem' | 'disk_busy' | 'mem_psi' | 'swap_io';

/**
 * Where the report's per-minute figures come from (port): by default the metric history
 * port ({@link HistorySiteMinutes}); the collector's SQLite rollups can answer the same
 * aggregated in SQL (rollup-site-minutes.ts), which reads far fewer rows into JavaScript.
 */
export interface SiteMinuteSource {
  siteMinutes(site: string, from: number, to: number, intervals: ReadonlyArray<readonly [number, number]>): SiteMinutes;
  /** Per PC: working minutes measured, and those whose 1-minute mean (busiest series of the PC) is ≥ `threshold`. */
  saturation(site: string, metric: SaturationMetric, intervals: ReadonlyArray<readonly [number, number]>, threshold: number): Map<string, SaturationCount>;
  /** True when part of the figures came from 15-minute buckets (1-minute ones past retention). */
  coarse(): boolean;
}

export const MINUTE = 60_000;

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

/** Per minute, the median over hosts of each host's per-minute value (NaN = none). */
export function medianOverHosts(means: Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  const vals: number[] = [];
  for (let i = 0; i < n; i++) {
    vals.length = 0;
    for (const m of means) if (!Number.isNaN(m[i]!)) vals.push(m[i]!);
    if (vals.length) out[i] = median(vals);
  }
  return out;
}

/** Per minute: median over hosts of each host's mean over its series (targets/portals); NaN = no data. */
function medianOfHostMeans(series: HistorySeries[], from: number, n: number): Float64Array {
  const byHost = new Map<string, HistorySeries[]>();
  for (const s of series) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s]);
  const means: Float64Array[] = [];
  for (const list of byHost.values()) {
    const sum = new Float64Array(n);
    const cnt = new Uint16Array(n);
    for (const s of list) {
      for (const p of s.points) {
        const i = Math.floor((p.t - from) / MINUTE);
        if (i < 0 || i >= n) continue;
        sum[i]! += p.avg;
        cnt[i]!++;
      }
    }
    for (let i = 0; i < n; i++) sum[i] = cnt[i] ? sum[i]! / cnt[i]! : NaN;
    means.push(sum);
  }
  return medianOverHosts(means, n);
}

/** Assemble {@link SiteMinutes} from per-minute arrays (index = minute of the month from `from`). */
export function siteMinutesOf(
  from: number,
  n: number,
  a: { rx: Float64Array; loss: Float64Array; latency: Float64Array; probed: Uint32Array; answered: Uint32Array },
  portals: string[],
): SiteMinutes {
  const num = (x: Float64Array, i: number) => (i >= 0 && i < n && !Number.isNaN(x[i]!) ? x[i]! : null);
  return {
    portals,
    at(t: number): SiteMinute {
      const i = Math.floor((t - from) / MINUTE);
      const inRange = i >= 0 && i < n;
      return {
        rxMbps: num(a.rx, i),
        lossPct: num(a.loss, i),
        latencyMs: num(a.latency, i),
        // A portal that no PC probed this minute is not held against the site.
        portalsOk: inRange && a.probed[i] ? a.answered[i] === a.probed[i] : null,
      };
    },
  };
}

export function loadSiteMinutes(history: MinuteHistory, site: string, from: number, to: number, intervals: ReadonlyArray<readonly [number, number]>): SiteMinutes {
  const n = Math.ceil((to - from) / MINUTE);
  const idx = (t: number) => Math.floor((t - from) / MINUTE);
  const rx = new Float64Array(n).fill(NaN);
  for (const s of history.series(site, 'net_rx', intervals)) {
    for (const p of s.points) {
      const i = idx(p.t);
      if (i < 0 || i >= n) continue;
      rx[i] = (Number.isNaN(rx[i]!) ? 0 : rx[i]!) + (p.avg * 8) / 1e6;
    }
  }
  const loss = medianOfHostMeans(history.series(site, 'ping_loss', intervals), from, n);
  const latency = medianOfHostMeans(history.series(site, 'http_total', intervals), from, n);
  const okSeries = history.series(site, 'http_ok', intervals);
  const portals = [...new Set(okSeries.map((s) => s.key))].sort();
  // Per minute and portal (bit k = portals[k]): probed by some PC, and answered from some PC.
  const probed = new Uint32Array(n);
  const answered = new Uint32Array(n);
  for (const s of okSeries) {
    const bit = 1 << Math.min(31, portals.indexOf(s.key));
    for (const p of s.points) {
      const i = idx(p.t);
      if (i < 0 || i >= n) continue;
      probed[i]! |= bit;
      // A bucket with any successful probe counts as reachable from that PC.
      if (p.max >= 100) answered[i]! |= bit;
    }
  }
  return siteMinutesOf(from, n, { rx, loss, latency, probed, answered }, portals);
}

/** {@link SiteMinuteSource} over the {@link MinuteHistory} (the HistoryReader port). */
export class HistorySiteMinutes implements SiteMinuteSource {
  constructor(private readonly history: MinuteHistory) {}

  siteMinutes(site: string, from: number, to: number, intervals: ReadonlyArray<readonly [number, number]>): SiteMinutes {
    return loadSiteMinutes(this.history, site, from, to, intervals);
  }

  saturation(site: string, metric: SaturationMetric, intervals: ReadonlyArray<readonly [number, number]>, threshold: number): Map<string, SaturationCount> {
    // Per PC and minute, the busiest of its series (one for cpu/mem, one per physical disk for disk_busy).
    const perHost = new Map<string, Map<number, number>>();
    for (const s of this.history.series(site, metric, intervals)) {
      let byMinute = perHost.get(s.host);
      if (!byMinute) perHost.set(s.host, (byMinute = new Map()));
      for (const p of s.points) byMinute.set(p.t, Math.max(byMinute.get(p.t) ?? -Infinity, p.avg));
    }
    const out = new Map<string, SaturationCount>();
    for (const [host, byMinute] of perHost) {
      let sat = 0;
      for (const v of byMinute.values()) if (v >= threshold) sat++;
      out.set(host, { sat, seen: byMinute.size });
    }
    return out;
  }

  coarse(): boolean {
    return this.history.coarse;
  }
}
