import type { Logger } from 'pino';
import type { SampleMetrics } from '../../contract/schemas.js';
import type { StoredMessage } from '../ingest/ingest.js';
import { EMPTY_WINDOW, HostSeries, type SampleWindow } from './sample-window.js';

/**
 * Recent measurements per host, in memory, for the alert rules (issue 4): the last minutes
 * of samples (reduced to the figures rules use) and the last days of outage-type events.
 * Fed by Ingest's onStored hook. Every buffer is bounded; overflow is counted and logged.
 */

export interface PingFigure {
  target: string;
  role: 'gateway' | 'configured';
  lossPct: number;
  rttP95: number | null;
  rttMedian: number | null;
}
export interface HttpFigure {
  name: string;
  ok: boolean;
  totalMs: number | null;
  error: string | undefined;
}
export interface WindowSample {
  t: number;
  cpu: number | null;
  memPct: number | null;
  disks: Array<{ mount: string; usedPct: number; free: number }>;
  ping: PingFigure[];
  http: HttpFigure[];
  /** Sum over interfaces, bytes/s. */
  rxBps: number | null;
  txBps: number | null;
  /** Busy % and queue of the busiest physical disk, and its name (issue 17; absent from older agents). */
  diskBusy?: number | null;
  diskQueue?: number | null;
  busiestDisk?: string | undefined;
  /** Memory pressure (issue 17): PSI `some avg10` %, pages swapped/paged in per s, hard faults per s. */
  memSome?: number | null;
  swapInPs?: number | null;
  hardFaultsPs?: number | null;
}
export interface WindowEvent {
  t: number;
  type: string;
  start: number | undefined;
  end: number | undefined;
  details: Record<string, unknown> | undefined;
}

export interface MetricWindowLimits {
  /** Samples older than this are dropped (the longest rule window; the latest sample is kept apart). */
  keepMs: number;
  maxSamplesPerHost: number;
  /**
   * A sample closer than this to one already in the window is not added (the latest-sample
   * slot still takes it). Agents sample every ≥ 1 s, so this only thins senders far faster
   * than any agent (a replay burst, a benchmark): the rules' cost and memory stay bounded by
   * time, not by message rate. Counted in `thinned`.
   */
  minSpacingMs: number;
  eventKeepMs: number;
  maxEventsPerHost: number;
  maxHosts: number;
}

export const DEFAULT_WINDOW_LIMITS: MetricWindowLimits = {
  keepMs: 30 * 60_000,
  maxSamplesPerHost: 2000,
  minSpacingMs: 500,
  eventKeepMs: 8 * 86_400_000,
  maxEventsPerHost: 500,
  maxHosts: 50_000,
};

/** Events that alert rules count (freezes, crashes, cuts) or read (disk health checks). */
const KEPT_EVENTS = new Set(['outage', 'freeze', 'network_cut', 'power_source', 'planned_shutdown', 'disk_health']);

export function reduceMetrics(t: number, m: SampleMetrics): WindowSample {
  const ok = <T>(v: T | { unavailable: string } | undefined): T | undefined =>
    v !== undefined && !(typeof v === 'object' && v !== null && 'unavailable' in v) ? (v as T) : undefined;
  const cpu = ok(m.cpu);
  const mem = ok(m.mem);
  const disks = ok(m.disks) ?? [];
  const net = ok(m.net);
  const ping = ok(m.ping) ?? [];
  const http = ok(m.http) ?? [];
  const diskio = ok(m.diskio) ?? [];
  const pressure = ok(m.pressure);
  // The busiest disk of the sample (ties: the longer queue): a PC hangs on its slowest disk.
  const busiest = diskio.reduce<(typeof diskio)[number] | undefined>((b, d) => (!b || d.busyPct > b.busyPct || (d.busyPct === b.busyPct && d.queue > b.queue) ? d : b), undefined);
  return {
    t,
    cpu: cpu ? cpu.usage : null,
    memPct: mem && mem.total > 0 ? (100 * (mem.total - mem.available)) / mem.total : null,
    disks: disks.map((d) => ({ mount: d.mount, usedPct: d.usedPct, free: d.free })),
    ping: ping.map((p) => ({ target: p.target, role: p.role, lossPct: p.lossPct, rttP95: p.rttP95, rttMedian: p.rttMedian })),
    http: http.map((h) => ({ name: h.name, ok: h.ok, totalMs: h.totalMs, error: h.error })),
    rxBps: net ? net.reduce((s, n) => s + n.rxBps, 0) : null,
    txBps: net ? net.reduce((s, n) => s + n.txBps, 0) : null,
    diskBusy: busiest ? busiest.busyPct : null,
    diskQueue: busiest ? busiest.queue : null,
    busiestDisk: busiest?.disk,
    memSome: pressure ? pressure.memSomePct : null,
    swapInPs: pressure ? pressure.swapInPs : null,
    hardFaultsPs: pressure ? pressure.hardFaultsPs : null,
  };
}

interface HostWindow {
  /** Column store of the window (sample-window.ts), created at the first sample. */
  samples: HostSeries | undefined;
  /** The newest sample by time, kept whatever `keepMs` (disk fill, evidence of a cut). */
  last: WindowSample | undefined;
  events: WindowEvent[];
}

export class MetricWindows {
  private readonly sites = new Map<string, Map<string, HostWindow>>();
  private hosts = 0;
  /** Counted overflows (hosts refused, samples/events dropped beyond the bounds). */
  readonly overflow = { hosts: 0, samples: 0, events: 0 };
  /** Samples not added to a window because one within `minSpacingMs` was there (not a loss: they are stored). */
  thinned = 0;

  constructor(
    private readonly limits: MetricWindowLimits = DEFAULT_WINDOW_LIMITS,
    private readonly log?: Logger,
  ) {}

  private hostWindow(site: string, host: string): HostWindow | undefined {
    let s = this.sites.get(site);
    let w = s?.get(host);
    if (w) return w;
    if (this.hosts >= this.limits.maxHosts) {
      if (this.overflow.hosts++ % 1000 === 0)
        this.log?.warn({ maxHosts: this.limits.maxHosts, refused: this.overflow.hosts }, 'alerting: too many hosts in metric windows; new hosts not evaluated');
      return undefined;
    }
    if (!s) this.sites.set(site, (s = new Map()));
    w = { samples: undefined, last: undefined, events: [] };
    s.set(host, w);
    this.hosts++;
    return w;
  }

  /**
   * Ingest hook: keep what the rules need from a freshly stored message. Returns the reduced
   * sample (also when thinned out of the window), for the baselines to learn from.
   */
  add(msg: StoredMessage): WindowSample | undefined {
    if (msg.kind === 'samples') {
      const w = this.hostWindow(msg.row.site, msg.row.host);
      if (!w) return undefined;
      const s = reduceMetrics(msg.row.t, msg.row.metrics);
      if (!w.last || s.t >= w.last.t) w.last = s;
      // Mostly in order; a replayed sample goes to its place (HostSeries keeps time order).
      const series = (w.samples ??= new HostSeries(this.limits.maxSamplesPerHost));
      const [before, after] = series.neighbours(s.t);
      const gap = this.limits.minSpacingMs;
      if (s.t - before < gap || after - s.t < gap) {
        this.thinned++;
        return s;
      }
      if (series.insert(s) && this.overflow.samples++ % 10_000 === 0)
        this.log?.warn({ maxSamplesPerHost: this.limits.maxSamplesPerHost, dropped: this.overflow.samples }, 'alerting: metric window full; oldest samples dropped from it');
      return s;
    } else if (msg.kind === 'events' && KEPT_EVENTS.has(msg.row.type)) {
      const w = this.hostWindow(msg.row.site, msg.row.host);
      if (!w) return;
      w.events.push({ t: msg.row.t, type: msg.row.type, start: msg.row.start, end: msg.row.end, details: msg.row.details });
      w.events.sort((a, b) => a.t - b.t);
      if (w.events.length > this.limits.maxEventsPerHost) {
        w.events.shift();
        this.overflow.events++;
      }
    }
    return undefined;
  }

  /** Drop what is older than the bounds (called at each evaluation). */
  prune(now: number): void {
    for (const s of this.sites.values()) {
      for (const w of s.values()) {
        w.samples?.pruneBefore(now - this.limits.keepMs);
        let j = 0;
        while (j < w.events.length && now - w.events[j]!.t > this.limits.eventKeepMs) j++;
        if (j) w.events.splice(0, j);
      }
    }
  }

  siteIds(): string[] {
    return [...this.sites.keys()];
  }
  hostIds(site: string): string[] {
    return [...(this.sites.get(site)?.keys() ?? [])];
  }
  /** A host's samples at or after `from`, for the rules. */
  window(site: string, host: string, from: number): SampleWindow {
    return this.sites.get(site)?.get(host)?.samples?.view(from) ?? EMPTY_WINDOW;
  }
  /** The newest sample of a host (by time), if it is at or after `from`. */
  lastSample(site: string, host: string, from: number): WindowSample | undefined {
    const l = this.sites.get(site)?.get(host)?.last;
    return l && l.t >= from ? l : undefined;
  }
  /** Samples held in all windows (for /metrics). */
  size(): number {
    let n = 0;
    for (const s of this.sites.values()) for (const w of s.values()) n += w.samples?.size ?? 0;
    return n;
  }
  events(site: string, host: string, from: number): WindowEvent[] {
    return (this.sites.get(site)?.get(host)?.events ?? []).filter((e) => e.t >= from);
  }
}
