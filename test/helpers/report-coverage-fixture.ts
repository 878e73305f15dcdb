import { buildReport, type ReportSources } from '../../collector/report/report-builder.js';
import type { ReportBundle, SiteReport } from '../../collector/report/report-model.js';
import type { SiteMinute, SiteMinuteSource } from '../../collector/report/site-minutes.js';
import type { OutageReader, SiteIncident } from '../../collector/outage/outage-types.js';
import { SiteSettingsSchema, siteDirectory } from '../../collector/sites/site-settings.js';
import type { HostState } from '../../collector/store/store.js';

/**
 * Three Novembers of one site (`xa-a`, one PC known since 2025, UTC+7, default working
 * hours: Monday–Friday 07:30–11:30, 13:30–17:00) for the "true or unknown" checks of the
 * summary, CSV, Markdown and Zalo renderings (issue 13 item 6). October is fully measured in
 * every case (unless `emptyOctober`), with 15 congested minutes (10 % loss, 09:00–09:15 local) on each of its 22
 * working days: 330 minutes. November is
 * - `empty`: no measurement at all (the PC is known, nothing arrived);
 * - `partial`: measured in minutes 0–14 of every hour only (25 % < the 50 % threshold),
 *   no loss; with `powerCut`, one power cut 3 Nov 08:00–09:00 local;
 * - `normal`: fully measured, 45 congested minutes on 3 Nov 09:00–09:45 local.
 */
export type Month = 'empty' | 'partial' | 'normal';

const NONE: SiteMinute = { rxMbps: null, lossPct: null, latencyMs: null, portalsOk: null };
/** 1 November 2026 00:00 local (UTC+7). */
export const NOV = Date.UTC(2026, 9, 31, 17, 0);
/** A local time of November 2026. */
export const nov = (day: number, h: number, m = 0) => Date.UTC(2026, 10, day, h - 7, m);
const localHour = (t: number) => (new Date(t).getUTCHours() + 7) % 24;
const minuteOfHour = (t: number) => new Date(t).getUTCMinutes();
const ok = (lossPct: number): SiteMinute => ({ rxMbps: null, lossPct, latencyMs: 200, portalsOk: true });

export interface FixtureOptions {
  /** One power cut, 3 Nov 08:00–09:00 local. */
  powerCut?: boolean;
  /** October without any measurement either. */
  emptyOctober?: boolean;
}

function minute(month: Month, opts: FixtureOptions): (t: number) => SiteMinute {
  return (t) => {
    if (t < NOV) return opts.emptyOctober ? NONE : ok(localHour(t) === 9 && minuteOfHour(t) < 15 ? 10 : 0);
    if (month === 'empty') return NONE;
    if (month === 'partial') return minuteOfHour(t) < 15 ? ok(0) : NONE;
    return ok(t >= nov(3, 9) && t < nov(3, 9, 45) ? 10 : 0);
  };
}

function incident(start: number, end: number): SiteIncident {
  return {
    id: 1,
    site: 'xa-a',
    state: 'resolved',
    cause: 'power_cut',
    start,
    end,
    hosts: ['pc-01'],
    hostsOut: [],
    hostsOnlineBefore: 1,
    uncertaintyMs: 0,
    evidence: {},
  };
}

export function coverageSources(month: Month, opts: FixtureOptions = {}): ReportSources {
  const at = minute(month, opts);
  const minutes: SiteMinuteSource = { siteMinutes: () => ({ at, portals: ['dvc'] }), saturation: () => new Map(), coarse: () => false };
  const incidents = opts.powerCut ? [incident(nov(3, 8), nov(3, 9))] : [];
  return {
    store: {
      listHosts: () => [{ site: 'xa-a', host: 'pc-01', hostname: 'pc-01', firstSeen: Date.UTC(2025, 0, 1) } as HostState],
      events: () => [],
      inventory: () => undefined,
    } as unknown as ReportSources['store'],
    history: { series: () => [] },
    outages: {
      incidents: (q: { from: number; to: number }) => incidents.filter((x) => x.start < q.to && (x.end ?? Infinity) > q.from),
      hostOutages: () => [],
      openIncidents: () => [],
      incident: () => undefined,
      counts: () => [],
    } as unknown as OutageReader,
    sites: siteDirectory({}, SiteSettingsSchema.parse({ name: 'UBND xã A' })),
    siteMinutes: () => minutes,
  };
}

export function coverageBundle(month: Month, lang: 'vi' | 'en', opts: FixtureOptions = {}): ReportBundle {
  return buildReport({ site: 'xa-a', month: '2026-11', lang, generatedAt: Date.UTC(2026, 11, 2) }, coverageSources(month, opts));
}

export function coverageReport(month: Month, opts: FixtureOptions = {}): SiteReport {
  return coverageBundle(month, 'vi', opts).sites[0]!;
}
