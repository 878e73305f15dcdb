/**
 * What the collector knows about outages (issue 3): per-host outages and per-site incidents.
 * Shared by detection (collector/outage/), the API, alerting (inhibition, power-cut rules)
 * and the monthly report. Times are epoch ms (collector clock after skew correction).
 */

/** Why a host was out. `network` = it kept running but could not reach the broker. */
export type HostOutageCause = 'power_loss' | 'crash' | 'hang_reset' | 'network' | 'freeze' | 'unknown' | 'offline';

export interface HostOutage {
  id: number;
  site: string;
  host: string;
  cause: HostOutageCause;
  /** When it started (agent heartbeat, Last Will time less keepalive, or last sample). */
  start: number;
  /** When it ended; null while still out. */
  end: number | null;
  /** How far `start`/`end` may be from the truth, ms (e.g. the heartbeat period). */
  uncertaintyMs: number;
  /** Site incident this outage belongs to, when it was part of one. */
  incidentId: number | null;
  /** Short machine-readable evidence: event types/ids, boot ids, sample counts. */
  evidence: Record<string, unknown>;
  /** `end − start`, ms; null while still out (filled by the store). */
  durationMs?: number | null;
}

export type IncidentCause = 'power_cut' | 'network_cut' | 'mixed' | 'unknown';

export interface SiteIncident {
  id: number;
  site: string;
  /** `open` until every affected host returned (or was given up on). */
  state: 'open' | 'resolved';
  /** Decided when hosts return; `unknown` while open. */
  cause: IncidentCause;
  start: number;
  end: number | null;
  /** Affected hosts (those that dropped in the window). */
  hosts: string[];
  /** Hosts still out. */
  hostsOut: string[];
  /** Online hosts of the site when it opened (denominator of the share). */
  hostsOnlineBefore: number;
  uncertaintyMs: number;
  evidence: Record<string, unknown>;
  /** `end − start`, ms; null while open (filled by the store). */
  durationMs?: number | null;
}

export interface OutageQuery {
  site?: string | undefined;
  /** Only these sites (a token's scope, issue 14). */
  sites?: readonly string[] | undefined;
  host?: string | undefined;
  /** Outages/incidents overlapping [from, to]. */
  from: number;
  to: number;
  limit: number;
  /** Page cursor: only records with an id below it (lists are newest first, by id). */
  before?: number | undefined;
}

/** A host outage closed or a site incident resolved (OutageTrackerDeps.onClosed). */
export type ClosedOutage = { scope: 'site'; incident: SiteIncident } | { scope: 'host'; outage: HostOutage };

export type CountPeriod = 'day' | 'week' | 'month';

/** Incidents by cause and host outages per site per local day/week/month. */
export interface OutageCount {
  site: string;
  period: CountPeriod;
  /** Local midnight starting the period, epoch ms. */
  start: number;
  power_cut: number;
  network_cut: number;
  mixed: number;
  unknown: number;
  hostOutages: number;
}

export interface OutageCountQuery {
  site?: string | undefined;
  /** Only these sites (a token's scope, issue 14). */
  sites?: readonly string[] | undefined;
  period: CountPeriod;
  from: number;
  to: number;
  /** IANA zone of the calendar (Asia/Ho_Chi_Minh). */
  timezone: string;
}

/** Read side of the outage store (API, alerting, report). */
export interface OutageReader {
  hostOutages(q: OutageQuery): HostOutage[];
  incidents(q: Omit<OutageQuery, 'host'>): SiteIncident[];
  openIncidents(site?: string): SiteIncident[];
  incident(id: number): SiteIncident | undefined;
}

/** Counts per site per period (API `/api/incidents/counts`, the monthly report). */
export interface OutageCountReader {
  /** By incident start / host outage start, in the local calendar of `q.timezone`. */
  counts(q: OutageCountQuery): OutageCount[];
}
