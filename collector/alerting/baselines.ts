import type { Logger } from 'pino';
import type { WindowSample } from './metric-windows.js';

/**
 * Off-peak baselines (DESIGN "Peak-hour congestion"): what "normal" is for each site's
 * ping targets and TTHC portals, learnt outside working hours, so that the peak-hour rule
 * can say "45 ms, normally 3 ms".
 *
 * Robust to off-peak incidents (issue 13 item 5): an exponentially weighted mean followed a
 * 15-minute 30 % loss episode at night up to 31.7 %, so the same congestion at 07:30 did not
 * alert. The baseline is now the median over the last `days` local days of each day's median
 * off-peak site-minute (the mean of every host's samples of that minute): an episode shorter
 * than half of a day's off-peak minutes moves nothing, and one bad night is one day out of
 * up to fourteen. The same site-minutes are read back from the 1-minute rollups at start
 * ({@link OffPeakBaselines.seed}), so a restart gives the same baseline.
 */
export interface Baseline {
  site: string;
  /** `ping:<target>` or `http:<probe name>`. */
  series: string;
  /** Loss % (ping) or failure % (http). */
  loss: number;
  /** p95 RTT ms (ping) or total time ms (http); null when no minute had one. */
  latency: number | null;
  /** Off-peak site-minutes behind the figure. */
  n: number;
  /** Days whose median counted. */
  days: number;
  /** Newest minute learnt, epoch ms. */
  updated: number;
}

export interface BaselineSettings {
  /** Days of off-peak history the median is taken over. */
  days: number;
  /** A day's median counts once the day has this many off-peak minutes. */
  minDayMinutes: number;
  /** Bound of (site, series) pairs; each holds at most one open day of minute values. */
  maxSeries: number;
  /** Offset of the local day from UTC (Asia/Ho_Chi_Minh, no DST). */
  dayOffsetMs: number;
}

export const DEFAULT_BASELINE_SETTINGS: BaselineSettings = { days: 14, minDayMinutes: 30, maxSeries: 20_000, dayOffsetMs: 7 * 3_600_000 };

const MINUTE = 60_000;
const DAY = 86_400_000;
const MINUTES_PER_DAY = 1440;

/** One site-minute of one series: mean loss and mean latency (null when none). */
export interface BaselineMinute {
  site: string;
  series: string;
  /** Start of the minute, epoch ms. */
  t: number;
  loss: number;
  latency: number | null;
}

/**
 * Port: stored off-peak history to seed from. The default reads the 1-minute rollups
 * (collector/alerting/rollup-baseline-history.ts); a call must stay short (one site, a
 * bounded window), as it runs on the collector's event loop between yields.
 */
export interface BaselineHistory {
  sites(): string[];
  /** Site-minutes of every series of `site` with t in [from, to), any order. */
  minutes(site: string, from: number, to: number): BaselineMinute[];
}

interface DayMedian {
  day: number;
  loss: number;
  latency: number | null;
  minutes: number;
}

interface SeriesState {
  site: string;
  series: string;
  /** The minute being accumulated (live learning). */
  acc: { minute: number; lossSum: number; lossN: number; latSum: number; latN: number } | null;
  /** Open day: its minute values. */
  day: number;
  loss: Float32Array;
  lossN: number;
  lat: Float32Array;
  latN: number;
  /** Closed days, newest last, at most `days`. */
  closed: DayMedian[];
  updated: number;
  cache: Baseline | undefined | null;
}

function median(values: ArrayLike<number>, n: number): number | null {
  if (n <= 0) return null;
  const s = Array.prototype.slice.call(values, 0, n) as number[];
  s.sort((a, b) => a - b);
  const mid = n >> 1;
  return n % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export class OffPeakBaselines {
  private readonly map = new Map<string, SeriesState>();
  overflow = 0;
  /** Minutes before this were (or are being) seeded from history; live learning skips them. */
  private seededUntil = -Infinity;

  constructor(
    private readonly settings: BaselineSettings = DEFAULT_BASELINE_SETTINGS,
    private readonly log?: Logger,
  ) {}

  private dayOf(t: number): number {
    return Math.floor((t + this.settings.dayOffsetMs) / DAY);
  }

  private state(site: string, series: string): SeriesState | undefined {
    const k = `${site}\u0000${series}`;
    let st = this.map.get(k);
    if (st) return st;
    if (this.map.size >= this.settings.maxSeries) {
      if (this.overflow++ % 1000 === 0) this.log?.warn({ maxSeries: this.settings.maxSeries }, 'alerting: baseline table full; new series not learnt');
      return undefined;
    }
    st = {
      site,
      series,
      acc: null,
      day: -Infinity,
      loss: new Float32Array(MINUTES_PER_DAY),
      lossN: 0,
      lat: new Float32Array(MINUTES_PER_DAY),
      latN: 0,
      closed: [],
      updated: 0,
      cache: null,
    };
    this.map.set(k, st);
    return st;
  }

  private closeDay(st: SeriesState): void {
    const loss = median(st.loss, st.lossN);
    if (loss !== null) {
      const i = st.closed.findIndex((d) => d.day >= st.day);
      const d: DayMedian = { day: st.day, loss, latency: median(st.lat, st.latN), minutes: st.lossN };
      if (i < 0) st.closed.push(d);
      else if (st.closed[i]!.day === st.day) st.closed[i] = d;
      else st.closed.splice(i, 0, d);
      while (st.closed.length > this.settings.days) st.closed.shift();
    }
    st.lossN = 0;
    st.latN = 0;
  }

  /** One off-peak site-minute into its day (days arrive in order per series; an older day is dropped). */
  private addMinute(st: SeriesState, t: number, loss: number, latency: number | null): void {
    const day = this.dayOf(t);
    if (day < st.day) return;
    if (day > st.day) {
      if (st.lossN) this.closeDay(st);
      st.day = day;
    }
    if (st.lossN >= MINUTES_PER_DAY) return;
    st.loss[st.lossN++] = loss;
    if (latency !== null) st.lat[st.latN++] = latency;
    st.updated = Math.max(st.updated, t);
    st.cache = null;
  }

  private flush(st: SeriesState): void {
    const a = st.acc;
    if (!a || !a.lossN) return;
    this.addMinute(st, a.minute, a.lossSum / a.lossN, a.latN ? a.latSum / a.latN : null);
    st.acc = null;
  }

  private learnOne(site: string, series: string, t: number, loss: number, latency: number | null): void {
    const st = this.state(site, series);
    if (!st) return;
    const minute = Math.floor(t / MINUTE) * MINUTE;
    if (minute < this.seededUntil) return; // read from the rollups by seed()
    if (st.acc && minute < st.acc.minute) return; // a late host: its minute is closed
    if (st.acc && minute > st.acc.minute) this.flush(st);
    st.acc ??= { minute, lossSum: 0, lossN: 0, latSum: 0, latN: 0 };
    st.acc.lossSum += loss;
    st.acc.lossN++;
    if (latency !== null) {
      st.acc.latSum += latency;
      st.acc.latN++;
    }
  }

  /** Learn from one off-peak sample of a host of `site`. */
  learn(site: string, s: WindowSample): void {
    for (const p of s.ping) this.learnOne(site, `ping:${p.target}`, s.t, p.lossPct, p.rttP95);
    for (const h of s.http) this.learnOne(site, `http:${h.name}`, s.t, h.ok ? 0 : 100, h.ok ? h.totalMs : null);
  }

  /**
   * Seed from stored history: every off-peak site-minute of the last `days` days before
   * `until` (the start), one site and one `chunkMs` window per call to `history`, awaiting
   * `pause()` between calls so the event loop keeps serving ingest. Live learning skips
   * minutes before `until`, so nothing is counted twice. Call once, at start.
   */
  async seed(
    history: BaselineHistory,
    opts: {
      until: number;
      offPeak: (site: string, t: number) => boolean;
      pause: () => Promise<void>;
      chunkMs?: number | undefined;
      /** Polled after each pause: true stops seeding (the collector is stopping). */
      cancelled?: (() => boolean) | undefined;
    },
  ): Promise<{ sites: number; minutes: number }> {
    const until = Math.floor(opts.until / MINUTE) * MINUTE;
    this.seededUntil = until;
    const today = this.dayOf(until);
    const from = (today - this.settings.days + 1) * DAY - this.settings.dayOffsetMs;
    const chunk = opts.chunkMs ?? 3_600_000;
    let minutes = 0;
    const sites = history.sites();
    for (const site of sites) {
      // Past days of this site: their minute values, medians taken once the site is read.
      const past = new Map<string, Map<number, { loss: number[]; lat: number[] }>>();
      const todays: BaselineMinute[] = [];
      for (let a = from; a < until; a += chunk) {
        for (const r of history.minutes(site, a, Math.min(until, a + chunk))) {
          if (!opts.offPeak(site, r.t)) continue;
          minutes++;
          const day = this.dayOf(r.t);
          if (day >= today) {
            todays.push(r);
            continue;
          }
          let byDay = past.get(r.series);
          if (!byDay) past.set(r.series, (byDay = new Map()));
          let d = byDay.get(day);
          if (!d) byDay.set(day, (d = { loss: [], lat: [] }));
          d.loss.push(r.loss);
          if (r.latency !== null) d.lat.push(r.latency);
        }
        await opts.pause();
        if (opts.cancelled?.()) return { sites: sites.length, minutes };
      }
      for (const [series, byDay] of past) {
        const st = this.state(site, series);
        if (!st) continue;
        for (const [day, d] of byDay) {
          const m: DayMedian = { day, loss: median(d.loss, d.loss.length)!, latency: median(d.lat, d.lat.length), minutes: d.loss.length };
          const i = st.closed.findIndex((x) => x.day === day);
          if (i >= 0) st.closed[i] = m;
          else st.closed.push(m);
        }
        st.closed.sort((x, y) => x.day - y.day);
        while (st.closed.length > this.settings.days) st.closed.shift();
        st.updated = Math.max(st.updated, ...[...byDay.keys()].map((day) => (day + 1) * DAY - this.settings.dayOffsetMs - MINUTE));
        st.cache = null;
      }
      // Today's minutes join the open day (live minutes of today may be there already).
      for (const r of todays.sort((x, y) => x.t - y.t)) {
        const st = this.state(site, r.series);
        if (st) this.addMinute(st, r.t, r.loss, r.latency);
      }
    }
    return { sites: sites.length, minutes };
  }

  /** The baseline once trusted (at least one day with `minDayMinutes` off-peak minutes), else undefined. */
  get(site: string, series: string): Baseline | undefined {
    const st = this.map.get(`${site}\u0000${series}`);
    if (!st) return undefined;
    if (st.cache !== null) return st.cache;
    const min = this.settings.minDayMinutes;
    const newest = st.day;
    const days: DayMedian[] = st.closed.filter((d) => d.minutes >= min && d.day > newest - this.settings.days);
    const open = median(st.loss, st.lossN);
    if (open !== null && st.lossN >= min) days.push({ day: st.day, loss: open, latency: median(st.lat, st.latN), minutes: st.lossN });
    if (!days.length) {
      st.cache = undefined;
      return undefined;
    }
    const lats = days.flatMap((d) => (d.latency === null ? [] : [d.latency]));
    st.cache = {
      site,
      series,
      loss: median(
        days.map((d) => d.loss),
        days.length,
      )!,
      latency: median(lats, lats.length),
      n: days.reduce((s, d) => s + d.minutes, 0),
      days: days.length,
      updated: st.updated,
    };
    return st.cache;
  }
}
