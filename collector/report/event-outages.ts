import type { HostOutage, HostOutageCause, IncidentCause, OutageQuery, OutageReader, SiteIncident } from '../outage/outage-types.js';
import type { EventRow, Store } from '../store/store.js';

/**
 * An {@link OutageReader} derived from the agents' own events in the store: each `outage`
 * event (start = last heartbeat, end = OS boot) and each `network_cut` event is a host
 * outage; outages of most of a site's PCs that start within {@link INCIDENT_WINDOW_MS} of
 * each other are one site incident (DESIGN "Power cut vs network cut"). A stand-in for the
 * collector's outage tables (issue 3), with the same port, so `canh report` works on any
 * store; it does not see outages no agent reported (a PC that never came back).
 */

/** Hosts whose outages start this close together are one site incident. */
export const INCIDENT_WINDOW_MS = 120_000;
/** Share of the site's PCs that must drop for a site incident. */
export const INCIDENT_MIN_SHARE = 0.5;
/** Outage events are reported when the PC is back: look this far past the range for them. */
const REPORT_LAG_MS = 14 * 86_400_000;
/** Bound of events read per query (overflow is reported by `truncated`). */
const MAX_EVENTS = 200_000;

const SITE_CAUSES: ReadonlySet<HostOutageCause> = new Set(['power_loss', 'network', 'unknown']);

export class EventDerivedOutages implements OutageReader {
  /** True when a query hit {@link MAX_EVENTS}: figures may be incomplete. */
  truncated = false;

  constructor(private readonly store: Pick<Store, 'events' | 'listHosts'>) {}

  private derive(site: string, from: number, to: number): { outages: HostOutage[]; incidents: SiteIncident[] } {
    const events = this.store.events(site, undefined, { from: from - REPORT_LAG_MS, to: to + REPORT_LAG_MS, limit: MAX_EVENTS });
    if (events.length >= MAX_EVENTS) this.truncated = true;
    const outages: HostOutage[] = [];
    for (const e of events) {
      const o = toOutage(e);
      if (o) outages.push(o);
    }
    outages.sort((a, b) => a.start - b.start || a.host.localeCompare(b.host));
    outages.forEach((o, i) => (o.id = i + 1));
    const hostCount = Math.max(1, this.store.listHosts(site).length);
    const incidents: SiteIncident[] = [];
    let i = 0;
    const candidates = outages.filter((o) => SITE_CAUSES.has(o.cause) && o.end !== null);
    while (i < candidates.length) {
      const first = candidates[i]!;
      const group = [first];
      let k = i + 1;
      while (k < candidates.length && candidates[k]!.start - first.start <= INCIDENT_WINDOW_MS) group.push(candidates[k++]!);
      const hosts = [...new Set(group.map((o) => o.host))].sort();
      if (hosts.length >= Math.max(1, Math.ceil(INCIDENT_MIN_SHARE * hostCount)) && (hosts.length >= 2 || hostCount === 1)) {
        const id = incidents.length + 1;
        for (const o of group) o.incidentId = id;
        incidents.push({
          id,
          site,
          state: 'resolved',
          cause: incidentCause(group),
          start: Math.min(...group.map((o) => o.start)),
          end: Math.max(...group.map((o) => o.end!)),
          hosts,
          hostsOut: [],
          hostsOnlineBefore: hostCount,
          uncertaintyMs: Math.max(...group.map((o) => o.uncertaintyMs)),
          evidence: { source: 'agent_events', outages: group.length },
        });
        i = k;
      } else {
        i++;
      }
    }
    return { outages, incidents };
  }

  hostOutages(q: OutageQuery): HostOutage[] {
    if (q.site === undefined) return [];
    return this.derive(q.site, q.from, q.to)
      .outages.filter((o) => (q.host === undefined || o.host === q.host) && o.start <= q.to && (o.end ?? Infinity) >= q.from)
      .slice(0, q.limit);
  }

  incidents(q: Omit<OutageQuery, 'host'>): SiteIncident[] {
    if (q.site === undefined) return [];
    return this.derive(q.site, q.from, q.to)
      .incidents.filter((x) => x.start <= q.to && (x.end ?? Infinity) >= q.from)
      .slice(0, q.limit);
  }

  openIncidents(): SiteIncident[] {
    return [];
  }

  incident(): SiteIncident | undefined {
    return undefined;
  }
}

function toOutage(e: EventRow): HostOutage | undefined {
  if (e.start === undefined || e.end === undefined || e.end <= e.start) return undefined;
  let cause: HostOutageCause;
  if (e.type === 'outage') {
    const c = e.details?.cause;
    cause = c === 'power_loss' || c === 'crash' || c === 'hang_reset' ? c : 'unknown';
  } else if (e.type === 'network_cut') {
    cause = 'network';
  } else {
    return undefined;
  }
  const u = e.details?.uncertaintyMs;
  return {
    id: 0,
    site: e.site,
    host: e.host,
    cause,
    start: e.start,
    end: e.end,
    uncertaintyMs: typeof u === 'number' ? u : 0,
    incidentId: null,
    evidence: { event: e.type, boot: e.boot, seq: e.seq },
  };
}

function incidentCause(group: HostOutage[]): IncidentCause {
  const power = group.filter((o) => o.cause === 'power_loss').length;
  const net = group.filter((o) => o.cause === 'network').length;
  if (power * 2 > group.length) return 'power_cut';
  if (net * 2 > group.length) return 'network_cut';
  return power + net > 0 ? 'mixed' : 'unknown';
}
