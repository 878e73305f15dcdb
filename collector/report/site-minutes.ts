import type { HistorySeries } from '../store/history.js';
import type { MinuteHistory } from './minute-history.js';

/**
 * Per-minute figures of a whole site, from 1-minute history buckets of all its PCs:
 * download on the line (sum over PCs and interfaces), packet loss and portal response time
 * (median over PCs of each PC's mean over targets/portals) and whether every portal was
 * reachable from at least one PC. The report's availability and congestion are counted on
 * this grid.
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

const MINUTE = 60_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per minute, per host: mean over the host's series (targets/portals) of the bucket average. */
function perHostMean(series: HistorySeries[]): Map<number, Map<string, { sum: number; n: number }>> {
  const out = new Map<number, Map<string, { sum: number; n: number }>>();
  for (const s of series) {
    for (const p of s.points) {
      let byHost = out.get(p.t);
      if (!byHost) out.set(p.t, (byHost = new Map()));
      const acc = byHost.get(s.host);
      if (acc) {
        acc.sum += p.avg;
        acc.n++;
      } else byHost.set(s.host, { sum: p.avg, n: 1 });
    }
  }
  return out;
}

function medianOfHosts(m: Map<number, Map<string, { sum: number; n: number }>>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [t, byHost] of m) out.set(t, median([...byHost.values()].map((a) => a.sum / a.n)));
  return out;
}

export function loadSiteMinutes(history: MinuteHistory, site: string, from: number, to: number): SiteMinutes {
  const rx = new Map<number, number>();
  for (const s of history.series(site, 'net_rx', from, to)) {
    for (const p of s.points) rx.set(p.t, (rx.get(p.t) ?? 0) + (p.avg * 8) / 1e6);
  }
  const loss = medianOfHosts(perHostMean(history.series(site, 'ping_loss', from, to)));
  const latency = medianOfHosts(perHostMean(history.series(site, 'http_total', from, to)));
  const okSeries = history.series(site, 'http_ok', from, to);
  const portals = [...new Set(okSeries.map((s) => s.key))].sort();
  // Per minute: the portals that answered from at least one PC, and those probed at all.
  const okByMinute = new Map<number, { probed: Set<string>; ok: Set<string> }>();
  for (const s of okSeries) {
    for (const p of s.points) {
      let e = okByMinute.get(p.t);
      if (!e) okByMinute.set(p.t, (e = { probed: new Set(), ok: new Set() }));
      e.probed.add(s.key);
      // A bucket with any successful probe counts as reachable from that PC.
      if (p.max >= 100) e.ok.add(s.key);
    }
  }
  return {
    portals,
    at(t: number): SiteMinute {
      const m = t - (t % MINUTE);
      const ok = okByMinute.get(m);
      return {
        rxMbps: rx.get(m) ?? null,
        lossPct: loss.get(m) ?? null,
        latencyMs: latency.get(m) ?? null,
        // A portal that no PC probed this minute is not held against the site.
        portalsOk: ok ? ok.ok.size === ok.probed.size : null,
      };
    },
  };
}
