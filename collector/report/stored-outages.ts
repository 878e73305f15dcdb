import type { HostOutage, OutageQuery, OutageReader, SiteIncident } from '../outage/outage-types.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { EventDerivedOutages } from './event-outages.js';

/**
 * Read side of the collector's outage tables (issue 3, collector/outage/sqlite-outage-store.ts:
 * `outage_host`, `outage_incident`, owned through `migrateModule(db, 'outage', …)`), for the
 * report when it runs outside the collector process (`canh report`). Read only: it never
 * creates or migrates those tables.
 */
export class StoredOutageReader implements OutageReader {
  private readonly stmts;

  constructor(db: SqliteDatabase) {
    this.stmts = {
      hostOutages: db.prepare(
        `SELECT * FROM outage_host WHERE site = @site AND (@host IS NULL OR host = @host) AND start <= @to AND coalesce("end", @from) >= @from ORDER BY start, id LIMIT @limit`,
      ),
      incidents: db.prepare(`SELECT * FROM outage_incident WHERE site = @site AND start <= @to AND coalesce("end", @from) >= @from ORDER BY start, id LIMIT @limit`),
      open: db.prepare(`SELECT * FROM outage_incident WHERE state = 'open' AND (@site IS NULL OR site = @site) ORDER BY id DESC LIMIT 10000`),
      incident: db.prepare(`SELECT * FROM outage_incident WHERE id = ?`),
    };
  }

  hostOutages(q: OutageQuery): HostOutage[] {
    if (q.site === undefined) return [];
    return (this.stmts.hostOutages.all({ site: q.site, host: q.host ?? null, from: q.from, to: q.to, limit: q.limit }) as Row[]).map(toOutage);
  }

  incidents(q: Omit<OutageQuery, 'host'>): SiteIncident[] {
    if (q.site === undefined) return [];
    return (this.stmts.incidents.all({ site: q.site, from: q.from, to: q.to, limit: q.limit }) as Row[]).map(toIncident);
  }

  openIncidents(site?: string): SiteIncident[] {
    return (this.stmts.open.all({ site: site ?? null }) as Row[]).map(toIncident);
  }

  incident(id: number): SiteIncident | undefined {
    const r = this.stmts.incident.get(id) as Row | undefined;
    return r ? toIncident(r) : undefined;
  }
}

type Row = Record<string, unknown>;

const json = <T>(s: unknown, fallback: T): T => {
  try {
    return typeof s === 'string' ? (JSON.parse(s) as T) : fallback;
  } catch {
    return fallback;
  }
};

function toOutage(r: Row): HostOutage {
  return {
    id: r.id as number,
    site: r.site as string,
    host: r.host as string,
    cause: r.cause as HostOutage['cause'],
    start: r.start as number,
    end: (r.end as number | null) ?? null,
    uncertaintyMs: r.uncertainty_ms as number,
    incidentId: (r.incident_id as number | null) ?? null,
    evidence: json(r.evidence, {}),
  };
}

function toIncident(r: Row): SiteIncident {
  return {
    id: r.id as number,
    site: r.site as string,
    state: r.state as SiteIncident['state'],
    cause: r.cause as SiteIncident['cause'],
    start: r.start as number,
    end: (r.end as number | null) ?? null,
    hosts: json<string[]>(r.hosts, []),
    hostsOut: json<string[]>(r.hosts_out, []),
    hostsOnlineBefore: r.hosts_online_before as number,
    uncertaintyMs: r.uncertainty_ms as number,
    evidence: json(r.evidence, {}),
  };
}

/**
 * The outage reader for a store: the collector's outage tables when its outage module has
 * created them, else incidents derived from the agents' events (with a note in the report).
 */
export function outageReaderFor(db: SqliteDatabase, store: Pick<Store, 'events' | 'listHosts'>): { reader: OutageReader; notes: string[] } {
  const hasTables = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outage_incident'`).get() !== undefined;
  return hasTables ? { reader: new StoredOutageReader(db), notes: [] } : { reader: new EventDerivedOutages(store), notes: ['outages_from_agent_events'] };
}
