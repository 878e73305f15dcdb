import type { OutageReader, SiteIncident } from '../outage/outage-types.js';
import { localTime, spansOf, workingIntervals } from '../sites/schedule/working-hours.js';
import type { SiteDirectory } from '../sites/site-settings.js';
import type { HistoryReader } from '../store/history.js';
import type { Store } from '../store/store.js';
import { inUnion, mergeIntervals, overlapMs, unionOverlapMs } from './intervals.js';
import { MinuteHistory } from './minute-history.js';
import { pcHealth } from './pc-health.js';
import { freezeCauses } from './freeze-causes.js';
import type { FreezeDiagnosisParams } from '../diagnosis/freeze-cause.js';
import { clockLostPcs } from './clock-lost.js';
import { costEstimate, siteCosts } from './cost-estimate.js';
import { DEFAULT_COST_RULES, DEFAULT_PRICE_LIST, type CostRules, type PriceList } from './price-list.js';
import { daysInMonth, localDateStart, monthRange, parseMonth, previousMonth, type ReportMonth } from './report-period.js';
import {
  DEFAULT_METHOD,
  type Availability,
  type DayQuality,
  type Headline,
  type HourQuality,
  type Lang,
  type NetworkQuality,
  type OutageItem,
  type OutageSummary,
  type ReportBundle,
  type ReportMethod,
  type SiteReport,
} from './report-model.js';
import { HistorySiteMinutes, type SiteMinuteSource } from './site-minutes.js';

/**
 * Builds the monthly report (issue 7) from the collector's read ports: the store (hosts,
 * events, inventory), the metric history (1-minute and 1-hour buckets) and the outage
 * reader (site incidents, host outages). A pure function of the data and the arguments:
 * no clock, every list in a stable order, so the same data gives the same report.
 */
export interface ReportSources {
  /** `samples` (optional): raw samples around each freeze for its diagnosis (else 1-minute history). */
  store: Pick<Store, 'listHosts' | 'events' | 'inventory'> & Partial<Pick<Store, 'samples'>>;
  history: HistoryReader;
  outages: OutageReader;
  sites: SiteDirectory;
  /** A fresh per-minute source for one site-month (default: over `history`). */
  siteMinutes?: () => SiteMinuteSource;
  /** Thresholds of the freeze diagnosis (`diagnosis.freeze`; default its defaults). */
  freezeDiagnosis?: FreezeDiagnosisParams | undefined;
  /** Notes about the sources themselves (e.g. a stand-in reader), shown in the report. */
  sourceNotes?: () => string[];
  /** Unit prices of the cost estimate (`report.prices`; default: the documented placeholders). */
  prices?: PriceList;
  /** Evidence thresholds of the cost estimate (`report.costRules`). */
  costRules?: CostRules;
}

export interface ReportRequest {
  /** A site id, or `all` for every site in the store (sorted by id). */
  site: string;
  /** `YYYY-MM` */
  month: string;
  lang?: Lang;
  /** Shown as "generated at" when given; never read from the clock here. */
  generatedAt?: number | null;
  method?: Partial<ReportMethod>;
}

const MINUTE = 60_000;
const MAX_INCIDENTS = 10_000;
const MAX_EVENTS = 200_000;
const round2 = (x: number) => Math.round(x * 100) / 100;

export class UnknownSiteError extends Error {
  constructor(readonly site: string) {
    super(`unknown site "${site}": no PC of this site has reported to this collector`);
    this.name = 'UnknownSiteError';
  }
}

/** Sites known to the store, sorted. */
export function knownSites(store: Pick<Store, 'listHosts'>): string[] {
  return [...new Set(store.listHosts().map((h) => h.site))].sort();
}

export function buildReport(req: ReportRequest, src: ReportSources): ReportBundle {
  const month = parseMonth(req.month);
  const method = { ...DEFAULT_METHOD, ...req.method };
  const all = knownSites(src.store);
  let sites: string[];
  if (req.site === 'all') sites = all;
  else if (all.includes(req.site)) sites = [req.site];
  else throw new UnknownSiteError(req.site);
  const reports = sites.map((s) => buildSiteReport(s, month, method, src, req.generatedAt ?? null));
  return {
    month: month.id,
    lang: req.lang ?? 'vi',
    generatedAt: req.generatedAt ?? null,
    method,
    sites: reports,
    costs: costEstimate(reports, src.costRules ?? DEFAULT_COST_RULES, src.prices ?? DEFAULT_PRICE_LIST),
  };
}

/** `asOf`: the report time; working time after it (the rest of the current month) is not counted. */
export function buildSiteReport(site: string, month: ReportMonth, method: ReportMethod, src: ReportSources, asOf: number | null = null): SiteReport {
  const report = siteMonth(site, month, method, src, asOf);
  const prevMonth = previousMonth(month);
  const prevRange = monthRange(prevMonth, report.timezone);
  const hadHosts = src.store.listHosts(site).some((h) => h.firstSeen < prevRange.to);
  report.previous = hadHosts ? siteMonth(site, prevMonth, method, src, asOf).headline : null;
  return report;
}

function summarize(items: OutageItem[]): OutageSummary {
  return {
    count: items.length,
    totalMs: items.reduce((s, i) => s + i.durationMs, 0),
    longestMs: items.reduce((m, i) => Math.max(m, i.durationMs), 0),
    inWorkingHours: items.filter((i) => i.workingMs > 0).length,
    workingMs: items.reduce((s, i) => s + i.workingMs, 0),
  };
}

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank.
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

const mean = (sum: number, n: number) => (n > 0 ? sum / n : null);

function siteMonth(site: string, month: ReportMonth, method: ReportMethod, src: ReportSources, asOf: number | null): SiteReport {
  const settings = src.sites.get(site);
  const wh = settings.workingHours;
  const tz = wh.timezone;
  const { from, to } = monthRange(month, tz);
  const notes: string[] = [];
  const hosts = src.store.listHosts(site).filter((h) => h.firstSeen < to);

  // Working time of the month, up to the report time: future days are not "working time without data".
  const working = workingIntervals(wh, from, asOf !== null && asOf > from ? Math.min(to, asOf) : to);
  const workingMs = working.reduce((s, [a, b]) => s + (b - a), 0);

  // Outages: site incidents overlapping the month, clipped to it.
  const incidents: SiteIncident[] = src.outages.incidents({ site, from, to, limit: MAX_INCIDENTS });
  if (incidents.length >= MAX_INCIDENTS) notes.push('incidents_truncated');
  const clippedIncidents = incidents.map((x) => [Math.max(from, x.start), Math.min(to, x.end ?? to)] as [number, number]).filter(([a, b]) => b > a);
  const downUnion = mergeIntervals(clippedIncidents);
  const outages: OutageItem[] = incidents
    .map((x) => {
      const s = Math.max(from, x.start);
      const e = Math.min(to, x.end ?? to);
      return {
        cause: x.cause,
        start: x.start,
        end: x.end,
        durationMs: Math.max(0, e - s),
        workingMs: e > s ? overlapMs([s, e], working) : 0,
        hosts: x.hosts.length,
        clipped: x.start < from || x.end === null || x.end > to,
      };
    })
    .filter((o) => o.durationMs > 0)
    .sort((a, b) => a.start - b.start || a.cause.localeCompare(b.cause));

  // The working-minute grid: availability and network quality are counted on it.
  const minuteSource = src.siteMinutes?.() ?? new HistorySiteMinutes(new MinuteHistory(src.history));
  const minutes = minuteSource.siteMinutes(site, from, to, working);
  const workingMinutes = new Set<number>();
  const hourAcc = new Map<number, { minutes: number; lat: number[]; lossSum: number; lossN: number; useSum: number; useN: number; congested: number }>();
  const dayAcc = new Map<
    string,
    { working: number; congested: number; covered: number; latSum: number; latN: number; lossSum: number; lossN: number; useSum: number; useN: number }
  >();
  let downMinutes = 0;
  /** Working minutes outside incidents with any measurement. */
  let upMeasured = 0;
  let measured = 0;
  let okMinutes = 0;
  let noData = 0;
  let congested = 0;
  /** Working minutes outside incidents with packet loss or line usage: congestion is judged on them. */
  let congestionMeasured = 0;
  const usage: number[] = [];
  let usageSum = 0;
  const line = settings.lineMbps ?? null;
  for (const [s, e] of working) {
    const lt = localTime(s, tz);
    for (let m = Math.ceil(s / MINUTE) * MINUTE; m < e; m += MINUTE) {
      workingMinutes.add(m);
      const hour = Math.floor((lt.minutes + (m - s) / MINUTE) / 60);
      let h = hourAcc.get(hour);
      if (!h) hourAcc.set(hour, (h = { minutes: 0, lat: [], lossSum: 0, lossN: 0, useSum: 0, useN: 0, congested: 0 }));
      let d = dayAcc.get(lt.date);
      if (!d) dayAcc.set(lt.date, (d = { working: 0, congested: 0, covered: 0, latSum: 0, latN: 0, lossSum: 0, lossN: 0, useSum: 0, useN: 0 }));
      h.minutes++;
      d.working++;
      if (inUnion(m + MINUTE / 2, downUnion)) {
        downMinutes++;
        d.covered++;
        continue;
      }
      const f = minutes.at(m);
      if (f.portalsOk !== null || f.latencyMs !== null || f.lossPct !== null || f.rxMbps !== null) {
        upMeasured++;
        d.covered++;
      }
      if (f.portalsOk === null) noData++;
      else {
        measured++;
        if (f.portalsOk) okMinutes++;
      }
      if (f.latencyMs !== null) {
        h.lat.push(f.latencyMs);
        d.latSum += f.latencyMs;
        d.latN++;
      }
      if (f.lossPct !== null) {
        h.lossSum += f.lossPct;
        h.lossN++;
        d.lossSum += f.lossPct;
        d.lossN++;
      }
      const usePct = line !== null && f.rxMbps !== null ? (100 * f.rxMbps) / line : null;
      if (f.rxMbps !== null) {
        usageSum += f.rxMbps;
        if (usePct !== null) {
          usage.push(usePct);
          h.useSum += usePct;
          h.useN++;
          d.useSum += usePct;
          d.useN++;
        }
      }
      if (f.lossPct !== null || usePct !== null) congestionMeasured++;
      const isCongested = (usePct !== null && usePct >= method.congestionUsagePct) || (f.lossPct !== null && f.lossPct >= method.congestionLossPct);
      if (isCongested) {
        congested++;
        h.congested++;
        d.congested++;
      }
    }
  }
  if (line === null) notes.push('no_line_speed');

  const siteDownMs = unionOverlapMs(clippedIncidents, working);
  // Availability over measured minutes only (issue 13 item 6), with the coverage beside it.
  const covered = upMeasured + downMinutes;
  const coveragePct = workingMinutes.size > 0 ? round2((100 * covered) / workingMinutes.size) : null;
  const insufficientData = coveragePct === null || coveragePct < method.minCoveragePct;
  const availability: Availability = {
    workingMs,
    siteDownMs,
    siteUpPct: !insufficientData && covered > 0 ? round2((100 * upMeasured) / covered) : null,
    portalMinutesMeasured: measured,
    portalMinutesOk: okMinutes,
    portalOkPct: !insufficientData && measured > 0 ? round2((100 * okMinutes) / measured) : null,
    centrePct: !insufficientData && measured + downMinutes > 0 ? round2((100 * okMinutes) / (measured + downMinutes)) : null,
    minutesWithoutData: noData,
    coveragePct,
    insufficientData,
    portals: minutes.portals,
  };

  const hours: HourQuality[] = [...hourAcc.keys()]
    .sort((a, b) => a - b)
    .map((hour) => {
      const h = hourAcc.get(hour)!;
      const lat = mean(
        h.lat.reduce((s, x) => s + x, 0),
        h.lat.length,
      );
      const loss = mean(h.lossSum, h.lossN);
      const use = mean(h.useSum, h.useN);
      const p95 = percentile(h.lat, 95);
      return {
        hour,
        minutes: h.minutes,
        latencyMs: lat === null ? null : round2(lat),
        latencyP95Ms: p95 === null ? null : round2(p95),
        lossPct: loss === null ? null : round2(loss),
        usagePct: use === null ? null : round2(use),
        congestedMinutes: h.congested,
      };
    });

  const days: DayQuality[] = [];
  for (let day = 1; day <= daysInMonth(month); day++) {
    const start = localDateStart(month.year, month.month, day, tz);
    const end = day === daysInMonth(month) ? to : localDateStart(month.year, month.month, day + 1, tz);
    const lt = localTime(start + 12 * 3600_000, tz);
    const d = dayAcc.get(lt.date);
    const lat = d ? mean(d.latSum, d.latN) : null;
    const loss = d ? mean(d.lossSum, d.lossN) : null;
    const use = d ? mean(d.useSum, d.useN) : null;
    days.push({
      date: lt.date,
      working: spansOf(wh, lt.date, lt.weekday).length > 0,
      congestedMinutes: d?.congested ?? 0,
      latencyMs: lat === null ? null : round2(lat),
      lossPct: loss === null ? null : round2(loss),
      usagePct: use === null ? null : round2(use),
      outageWorkingMs: unionOverlapMs(
        clippedIncidents,
        working.filter(([a, b]) => b > start && a < end),
      ),
      coveredMinutes: d?.covered ?? 0,
      workingMinutes: d?.working ?? 0,
    });
  }
  const worstDays = days
    .filter((d) => d.working && d.congestedMinutes > 0)
    .sort((a, b) => b.congestedMinutes - a.congestedMinutes || (b.latencyMs ?? 0) - (a.latencyMs ?? 0) || a.date.localeCompare(b.date))
    .slice(0, 5)
    .map((d) => d.date);
  const useMean = usage.length > 0 ? usageSum / usage.length : null;
  const network: NetworkQuality = {
    lineMbps: line,
    congestedMinutes: congested,
    usageMeanMbps: useMean === null ? null : round2(useMean),
    usageMeanPct: useMean === null || line === null ? null : round2((100 * useMean) / line),
    usageP95Pct: usage.length ? round2(percentile(usage, 95)!) : null,
    usageMaxPct: usage.length ? round2(Math.max(...usage)) : null,
    hours,
    days,
    worstDays,
  };

  // PCs.
  const events = src.store.events(site, undefined, { from: from - 86_400_000, to: to + 86_400_000, limit: MAX_EVENTS });
  if (events.length >= MAX_EVENTS) notes.push('events_truncated');
  const hostOutages = src.outages.hostOutages({ site, from, to, limit: MAX_EVENTS });
  const pcs = pcHealth({
    site,
    hosts,
    from,
    to,
    workingMinutes,
    working,
    events,
    hostOutages,
    inventory: (h) => src.store.inventory(site, h),
    history: src.history,
    minutes: minuteSource,
    method,
    costRules: src.costRules ?? DEFAULT_COST_RULES,
    year: month.year,
  });
  if (pcs.some((p) => p.hardware === null)) notes.push('missing_inventory');
  if (minuteSource.coarse()) notes.push('coarse_history');
  const proposals = pcs
    .filter((p) => p.recommendation !== 'none')
    .sort((a, b) => b.score - a.score || a.host.localeCompare(b.host))
    .map((p) => p.host);
  notes.push(...(src.sourceNotes?.() ?? []));

  const byCause = (c: OutageItem['cause'][]) => summarize(outages.filter((o) => c.includes(o.cause)));
  const powerCuts = byCause(['power_cut']);
  const networkCuts = byCause(['network_cut']);
  const headline: Headline = {
    centrePct: availability.centrePct,
    siteUpPct: availability.siteUpPct,
    powerCuts: powerCuts.count,
    powerCutMs: powerCuts.totalMs,
    networkCuts: networkCuts.count,
    networkCutMs: networkCuts.totalMs,
    congestedMinutes: congestionMeasured > 0 ? congested : null,
    freezes: pcs.reduce((s, p) => s + p.freezes, 0),
    crashes: pcs.reduce((s, p) => s + p.crashes, 0),
    cpuSaturatedHours: round2(pcs.reduce((s, p) => s + p.cpuSaturatedHours, 0)),
    memSaturatedHours: round2(pcs.reduce((s, p) => s + p.memSaturatedHours, 0)),
    proposals: proposals.length,
    coveragePct: availability.coveragePct,
    insufficientData: availability.insufficientData,
  };
  return {
    site,
    siteName: settings.name,
    month: month.id,
    timezone: tz,
    workingHours: wh,
    from,
    to,
    pcs: hosts.length,
    availability,
    powerCuts,
    networkCuts,
    otherOutages: byCause(['mixed', 'unknown']),
    outages,
    network,
    hosts: pcs,
    freezeCauses: freezeCauses({ site, hosts, from, to, events, store: src.store, history: src.history, params: src.freezeDiagnosis }),
    clockLost: clockLostPcs(hosts, events, hostOutages, from, to),
    proposals,
    headline,
    previous: null,
    notes: [...new Set(notes)].sort(),
    costs: siteCosts({ site, powerCuts, availability, hosts: pcs }, method, src.costRules ?? DEFAULT_COST_RULES, src.prices ?? DEFAULT_PRICE_LIST, month.year),
  };
}
