import type { Logger } from 'pino';
import type { WindowSample } from './metric-windows.js';

/**
 * Off-peak baselines (DESIGN "Peak-hour congestion"): what "normal" is for each site's
 * ping targets and TTHC portals, learnt outside working hours, so that the peak-hour rule
 * can say "45 ms, normally 3 ms". An exponentially weighted mean per (site, series); it
 * is trusted after `minSamples`. Bounded; persisted by the alert store.
 */
export interface Baseline {
  site: string;
  /** `ping:<target>` or `http:<probe name>`. */
  series: string;
  /** Loss % (ping) or failure % (http). */
  loss: number;
  /** p95 RTT ms (ping) or total time ms (http). */
  latency: number | null;
  n: number;
  updated: number;
}

export interface BaselineSettings {
  /** Weight of a new off-peak sample. */
  alpha: number;
  minSamples: number;
  maxSeries: number;
}

export const DEFAULT_BASELINE_SETTINGS: BaselineSettings = { alpha: 0.02, minSamples: 30, maxSeries: 200_000 };

export class OffPeakBaselines {
  private readonly map = new Map<string, Baseline>();
  private readonly dirty = new Set<string>();
  overflow = 0;

  constructor(
    private readonly settings: BaselineSettings = DEFAULT_BASELINE_SETTINGS,
    private readonly log?: Logger,
  ) {}

  load(rows: readonly Baseline[]): void {
    for (const r of rows) this.map.set(`${r.site}\u0000${r.series}`, { ...r });
  }

  private update(site: string, series: string, loss: number, latency: number | null, t: number): void {
    const k = `${site}\u0000${series}`;
    let b = this.map.get(k);
    if (!b) {
      if (this.map.size >= this.settings.maxSeries) {
        if (this.overflow++ % 1000 === 0) this.log?.warn({ maxSeries: this.settings.maxSeries }, 'alerting: baseline table full; new series not learnt');
        return;
      }
      b = { site, series, loss, latency, n: 0, updated: t };
      this.map.set(k, b);
    }
    // Plain mean for the first samples, then exponential (adapts to a changed line).
    const w = Math.max(this.settings.alpha, 1 / (b.n + 1));
    b.loss += w * (loss - b.loss);
    if (latency !== null) b.latency = b.latency === null ? latency : b.latency + w * (latency - b.latency);
    b.n++;
    b.updated = t;
    this.dirty.add(k);
  }

  /** Learn from one off-peak sample of a host of `site`. */
  learn(site: string, s: WindowSample): void {
    for (const p of s.ping) this.update(site, `ping:${p.target}`, p.lossPct, p.rttP95, s.t);
    for (const h of s.http) this.update(site, `http:${h.name}`, h.ok ? 0 : 100, h.ok ? h.totalMs : null, s.t);
  }

  /** The baseline once trusted, else undefined. */
  get(site: string, series: string): Baseline | undefined {
    const b = this.map.get(`${site}\u0000${series}`);
    return b && b.n >= this.settings.minSamples ? b : undefined;
  }

  /** Rows changed since the last call (to persist). */
  takeDirty(): Baseline[] {
    const out: Baseline[] = [];
    for (const k of this.dirty) {
      const b = this.map.get(k);
      if (b) out.push({ ...b });
    }
    this.dirty.clear();
    return out;
  }
}
