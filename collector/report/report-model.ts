import type { WorkingHours } from '../sites/schedule/working-hours.js';
import type { PcFreezeCauses } from './freeze-causes.js';
import type { CostEstimate, SiteCosts } from './cost-estimate.js';
import type { DiskEvidence } from './disk-evidence.js';

/**
 * The monthly infrastructure report as data (issue 7): what the builder computes and every
 * renderer (Markdown, HTML, CSV, JSON) shows. Plain data, in a fixed key order, times in
 * epoch ms, durations in ms, shares in percent: the JSON format is this object as is.
 */

export type Lang = 'vi' | 'en';

/** Thresholds that define the figures; printed in the footnotes. */
export interface ReportMethod {
  /** Below this share of working minutes measured (or in an incident), availability is "không đủ số liệu", not a %. */
  minCoveragePct: number;
  /** A minute is congested when line usage ≥ this share of the contracted speed, % … */
  congestionUsagePct: number;
  /** … or when the median packet loss of the site's PCs is ≥ this, %. */
  congestionLossPct: number;
  /** A PC minute is CPU/memory-saturated when its average is ≥ this, %. */
  saturationPct: number;
  /** A disk is nearly full when its last reading of the month is ≥ this, %. */
  diskFullPct: number;
  /** Replacement proposed from this score up; upgrade from `upgradeScore`. */
  replaceScore: number;
  upgradeScore: number;
}

export const DEFAULT_METHOD: ReportMethod = {
  minCoveragePct: 50,
  congestionUsagePct: 80,
  congestionLossPct: 5,
  saturationPct: 90,
  diskFullPct: 90,
  replaceScore: 50,
  upgradeScore: 25,
};

export interface OutageItem {
  cause: 'power_cut' | 'network_cut' | 'mixed' | 'unknown';
  start: number;
  end: number | null;
  /** Duration inside the month, ms. */
  durationMs: number;
  /** Of which in working hours, ms. */
  workingMs: number;
  hosts: number;
  /** True when it started before the month or ended after it (figures are clipped). */
  clipped: boolean;
}

export interface OutageSummary {
  count: number;
  totalMs: number;
  longestMs: number;
  /** How many overlapped working hours. */
  inWorkingHours: number;
  workingMs: number;
}

export interface Availability {
  workingMs: number;
  /** Working time inside a site incident (any cause), ms. */
  siteDownMs: number;
  /** Share of working time with the site up, %. */
  siteUpPct: number | null;
  /** Working minutes with the site up and portal probe data. */
  portalMinutesMeasured: number;
  portalMinutesOk: number;
  /** Share of measured working minutes (site up) with every portal reachable, %. */
  portalOkPct: number | null;
  /** Working minutes with the site up and every portal reachable / (measured + down minutes), %. */
  centrePct: number | null;
  /** Working minutes outside incidents without any probe data (not counted either way). */
  minutesWithoutData: number;
  /**
   * Working minutes with a measurement from some PC or inside an incident, over all working
   * minutes up to the report time (future days excluded), %. Availability is taken over the
   * measured minutes only (issue 13 item 6: no data is not "100 %").
   */
  coveragePct: number | null;
  /** Coverage under `method.minCoveragePct`: the percentages are null and the report says so. */
  insufficientData: boolean;
  /** Portal probe names seen in the month. */
  portals: string[];
}

export interface HourQuality {
  /** Local hour of day (7 = 07:00–07:59). */
  hour: number;
  minutes: number;
  /** Mean HTTP response time to the portals, ms. */
  latencyMs: number | null;
  /** 95th percentile of the per-minute response times, ms. */
  latencyP95Ms: number | null;
  lossPct: number | null;
  /** Mean line usage, % of contracted speed. */
  usagePct: number | null;
  congestedMinutes: number;
}

export interface DayQuality {
  /** Local date YYYY-MM-DD. */
  date: string;
  working: boolean;
  congestedMinutes: number;
  latencyMs: number | null;
  lossPct: number | null;
  /** Mean line usage, % of contracted speed (null: no usage data or no line speed). */
  usagePct: number | null;
  /** Working time lost to site incidents, ms. */
  outageWorkingMs: number;
  /**
   * Working minutes of the day with a measurement from some PC or inside an incident: 0 for
   * a day nothing is known about (no working time, before the agents, after the report
   * time), which the charts draw as a gap, not as a 0 (issue 13 item 6).
   */
  coveredMinutes: number;
  /** Working minutes of the day up to the report time (the denominator of `coveredMinutes`). */
  workingMinutes: number;
}

export interface NetworkQuality {
  lineMbps: number | null;
  congestedMinutes: number;
  /** Mean download of the site in working hours, Mbit/s. */
  usageMeanMbps: number | null;
  usageMeanPct: number | null;
  /** 95th percentile of per-minute usage in working hours, % of contract. */
  usageP95Pct: number | null;
  usageMaxPct: number | null;
  hours: HourQuality[];
  days: DayQuality[];
  /** Up to 5 working days with the most congestion (then slowest portals). */
  worstDays: string[];
}

export type AgeClass = 'old' | 'ageing' | 'recent' | 'unknown';

export interface Hardware {
  cpu: string;
  cores: number | null;
  cpuYear: number | null;
  ageClass: AgeClass;
  ramGb: number | null;
  /** Type of the system (first) disk. */
  diskType: 'HDD' | 'SSD' | 'NVMe' | 'unknown';
  os: string;
  osSupported: boolean | null;
}

export interface ScoreItem {
  /** Machine id of the criterion, e.g. `cpu_old`, `ram_low`, `freezes`. */
  key: string;
  points: number;
  /** The evidence behind it (number of freezes, GB of RAM, …). */
  value: number | string;
}

export interface PcHealth {
  host: string;
  hostname: string;
  /** Share of working minutes with samples, %. */
  coveragePct: number | null;
  freezes: number;
  crashes: number;
  cpuSaturatedHours: number;
  memSaturatedHours: number;
  disksNearlyFull: Array<{ mount: string; usedPct: number }>;
  /** Disk health from the month's checks, failing disks first (null: no check, unknown). */
  diskHealth: DiskEvidence[] | null;
  /** Working hours with a disk busy ≥ the saturation threshold (null: the agent sends no disk activity). */
  diskBusyHours: number | null;
  /**
   * Share of measured working minutes short of memory (paging or PSI over `report.costRules`),
   * % (null: the agent sends no memory pressure).
   */
  memPressurePct: number | null;
  /** The PC reported running on battery or back on mains in the month: it has a UPS or a battery. */
  powerBackup: boolean;
  hardware: Hardware | null;
  score: number;
  scoreItems: ScoreItem[];
  recommendation: 'replace' | 'upgrade' | 'none';
  /** Upgrade actions, machine ids: `ram`, `ssd`, `os`, `disk_space`. */
  actions: string[];
}

/** A PC whose clock was found wrong after a power cut (collector/report/clock-lost.ts). */
export interface ClockLostPc {
  host: string;
  hostname: string;
  /** How many times in the month. */
  times: number;
  /** The largest skew found, ms (absolute). */
  maxSkewMs: number;
  /** The last time it was found (collector time). */
  last: number;
}

export interface Headline {
  centrePct: number | null;
  siteUpPct: number | null;
  powerCuts: number;
  powerCutMs: number;
  networkCuts: number;
  networkCutMs: number;
  /** Null when neither packet loss nor line usage was measured in the month (congestion is judged on them). */
  congestedMinutes: number | null;
  freezes: number;
  crashes: number;
  cpuSaturatedHours: number;
  memSaturatedHours: number;
  proposals: number;
  /** `availability.coveragePct` of that month. */
  coveragePct: number | null;
  /**
   * `availability.insufficientData` of that month: its counts (0 power cuts, 0 congested
   * minutes, …) are not known to be 0, and no month-over-month change is made from it.
   */
  insufficientData: boolean;
}

/** The headline's figures (every key but the `insufficientData` flag). */
export type HeadlineFigure = Exclude<keyof Headline, 'insufficientData'>;

export interface SiteReport {
  site: string;
  siteName: string;
  month: string;
  timezone: string;
  /** The working hours the figures were counted with. */
  workingHours: WorkingHours;
  from: number;
  to: number;
  pcs: number;
  availability: Availability;
  powerCuts: OutageSummary;
  networkCuts: OutageSummary;
  otherOutages: OutageSummary;
  outages: OutageItem[];
  network: NetworkQuality;
  hosts: PcHealth[];
  /** Per PC that froze: its freezes and their likely causes (issue 17, collector/report/freeze-causes.ts). */
  freezeCauses?: PcFreezeCauses[];
  /** PCs whose clock is lost after power cuts: a CMOS battery to replace (issue 13). */
  clockLost: ClockLostPc[];
  /** Ranked proposals (replace / upgrade), hosts from `hosts`. */
  proposals: string[];
  headline: Headline;
  /** The same headline for the previous month (null when there is no data for it). */
  previous: Headline | null;
  /** Notes on data quality (truncated reads, hosts without inventory). */
  notes: string[];
  /** The recommendations priced (issue 17 point 3). */
  costs: SiteCosts;
}

export interface ReportBundle {
  month: string;
  lang: Lang;
  /** Passed in by the caller (never read from the clock), or null. */
  generatedAt: number | null;
  method: ReportMethod;
  sites: SiteReport[];
  /** Prices, rules and the total over every site of the bundle (the province for `all`). */
  costs: CostEstimate;
}
