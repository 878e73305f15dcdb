import { localMidnight, localTime } from '../sites/schedule/working-hours.js';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';
import type { IdCounters, SiteState } from './outage-state.js';
import type { HostOutage, OutageCount, OutageCountQuery, OutageCountReader, OutageQuery, OutageReader, SiteIncident } from './outage-types.js';
import type { OutageEffect } from './site-correlator.js';

const MIGRATIONS = [
  `CREATE TABLE outage_host (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, cause TEXT NOT NULL,
     start INTEGER NOT NULL, "end" INTEGER, duration_ms INTEGER, uncertainty_ms INTEGER NOT NULL,
     incident_id INTEGER, evidence TEXT NOT NULL);
   CREATE INDEX outage_host_site_start ON outage_host (site, start);
   CREATE INDEX outage_host_start ON outage_host (start);
   CREATE TABLE outage_incident (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, state TEXT NOT NULL, cause TEXT NOT NULL,
     start INTEGER NOT NULL, "end" INTEGER, duration_ms INTEGER, hosts TEXT NOT NULL, hosts_out TEXT NOT NULL,
     hosts_online_before INTEGER NOT NULL, uncertainty_ms INTEGER NOT NULL, evidence TEXT NOT NULL);
   CREATE INDEX outage_incident_site_start ON outage_incident (site, start);
   CREATE INDEX outage_incident_start ON outage_incident (start);
   CREATE INDEX outage_incident_open ON outage_incident (state) WHERE state = 'open';
   CREATE TABLE outage_site_state (site TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE outage_ids (k INTEGER PRIMARY KEY CHECK (k = 1), next_outage INTEGER NOT NULL, next_incident INTEGER NOT NULL);`,
];

/** Rows read for counting at most (a 366-day range of a province stays far below). */
const MAX_COUNT_ROWS = 500_000;

/**
 * Outage store on the collector's SQLite file (tables owned through `migrateModule`):
 * host outages, site incidents, and the correlator's per-site state, written together in
 * one transaction so a crash never leaves records and state disagreeing.
 */
export class SqliteOutageStore implements OutageReader, OutageCountReader {
  private readonly stmts;

  constructor(private readonly db: SqliteDatabase) {
    migrateModule(db, 'outage', MIGRATIONS);
    this.stmts = {
      upsertOutage: db.prepare(
        `INSERT INTO outage_host (id, site, host, cause, start, "end", duration_ms, uncertainty_ms, incident_id, evidence)
         VALUES (@id, @site, @host, @cause, @start, @end, @durationMs, @uncertaintyMs, @incidentId, @evidence)
         ON CONFLICT (id) DO UPDATE SET cause = excluded.cause, start = excluded.start, "end" = excluded."end",
           duration_ms = excluded.duration_ms, uncertainty_ms = excluded.uncertainty_ms,
           incident_id = excluded.incident_id, evidence = excluded.evidence`,
      ),
      deleteOutage: db.prepare(`DELETE FROM outage_host WHERE id = ?`),
      upsertIncident: db.prepare(
        `INSERT INTO outage_incident (id, site, state, cause, start, "end", duration_ms, hosts, hosts_out, hosts_online_before, uncertainty_ms, evidence)
         VALUES (@id, @site, @state, @cause, @start, @end, @durationMs, @hosts, @hostsOut, @hostsOnlineBefore, @uncertaintyMs, @evidence)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, cause = excluded.cause, start = excluded.start,
           "end" = excluded."end", duration_ms = excluded.duration_ms, hosts = excluded.hosts, hosts_out = excluded.hosts_out,
           hosts_online_before = excluded.hosts_online_before, uncertainty_ms = excluded.uncertainty_ms, evidence = excluded.evidence`,
      ),
      deleteIncident: db.prepare(`DELETE FROM outage_incident WHERE id = ?`),
      detachIncident: db.prepare(`UPDATE outage_host SET incident_id = NULL WHERE incident_id = ?`),
      saveSite: db.prepare(`INSERT INTO outage_site_state (site, state) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET state = excluded.state`),
      loadSites: db.prepare(`SELECT site, state FROM outage_site_state ORDER BY site`),
      saveIds: db.prepare(
        `INSERT INTO outage_ids (k, next_outage, next_incident) VALUES (1, ?, ?)
         ON CONFLICT (k) DO UPDATE SET next_outage = excluded.next_outage, next_incident = excluded.next_incident`,
      ),
      loadIds: db.prepare(`SELECT next_outage AS o, next_incident AS i FROM outage_ids WHERE k = 1`),
      maxIds: db.prepare(`SELECT (SELECT coalesce(max(id), 0) FROM outage_host) AS o, (SELECT coalesce(max(id), 0) FROM outage_incident) AS i`),
      incident: db.prepare(`SELECT * FROM outage_incident WHERE id = ?`),
      openIncidents: db.prepare(`SELECT * FROM outage_incident WHERE state = 'open' ORDER BY id DESC LIMIT 10000`),
      openSiteIncidents: db.prepare(`SELECT * FROM outage_incident WHERE state = 'open' AND site = ? ORDER BY id DESC LIMIT 10000`),
    };
  }

  // ---- write side (the tracker) ----

  /** Write a correlator step: its records, the site's new state and the id counters, atomically. */
  apply(effects: readonly OutageEffect[], site: SiteState | undefined, ids: IdCounters): void {
    this.db
      .transaction(() => {
        for (const e of effects) this.applyOne(e);
        if (site) this.stmts.saveSite.run(site.site, JSON.stringify(site));
        this.stmts.saveIds.run(ids.nextOutageId, ids.nextIncidentId);
      })
      .immediate();
  }

  /** Save several sites' state (periodic flush of liveness-only changes). */
  saveSites(sites: readonly SiteState[], ids: IdCounters): void {
    this.db
      .transaction(() => {
        for (const s of sites) this.stmts.saveSite.run(s.site, JSON.stringify(s));
        this.stmts.saveIds.run(ids.nextOutageId, ids.nextIncidentId);
      })
      .immediate();
  }

  /** The persisted correlator state (restart mid-incident resumes from it). */
  load(): { ids: IdCounters; sites: SiteState[] } {
    const max = this.stmts.maxIds.get() as { o: number; i: number };
    const saved = this.stmts.loadIds.get() as { o: number; i: number } | undefined;
    // Never reuse an id, even if the counters row were lost.
    const ids: IdCounters = { nextOutageId: Math.max(saved?.o ?? 1, max.o + 1), nextIncidentId: Math.max(saved?.i ?? 1, max.i + 1) };
    const sites: SiteState[] = [];
    for (const r of this.stmts.loadSites.all() as Array<{ site: string; state: string }>) {
      try {
        sites.push(JSON.parse(r.state) as SiteState);
      } catch {
        // A damaged row: start that site afresh rather than refuse to start.
      }
    }
    return { ids, sites };
  }

  private applyOne(e: OutageEffect): void {
    switch (e.kind) {
      case 'hostOutage': {
        const o = e.outage;
        this.stmts.upsertOutage.run({
          id: o.id,
          site: o.site,
          host: o.host,
          cause: o.cause,
          start: Math.round(o.start),
          end: o.end === null ? null : Math.round(o.end),
          durationMs: o.end === null ? null : Math.round(o.end - o.start),
          uncertaintyMs: Math.round(o.uncertaintyMs),
          incidentId: o.incidentId,
          evidence: JSON.stringify(o.evidence),
        });
        break;
      }
      case 'discardHostOutage':
        this.stmts.deleteOutage.run(e.id);
        break;
      case 'incident': {
        const i = e.incident;
        this.stmts.upsertIncident.run({
          id: i.id,
          site: i.site,
          state: i.state,
          cause: i.cause,
          start: Math.round(i.start),
          end: i.end === null ? null : Math.round(i.end),
          durationMs: i.end === null ? null : Math.round(i.end - i.start),
          hosts: JSON.stringify(i.hosts),
          hostsOut: JSON.stringify(i.hostsOut),
          hostsOnlineBefore: i.hostsOnlineBefore,
          uncertaintyMs: Math.round(i.uncertaintyMs),
          evidence: JSON.stringify(i.evidence),
        });
        break;
      }
      case 'discardIncident':
        this.stmts.detachIncident.run(e.id);
        this.stmts.deleteIncident.run(e.id);
        break;
      case 'untracked':
        break;
    }
  }

  // ---- read side ----

  hostOutages(q: OutageQuery): HostOutage[] {
    const { sql, params } = listSql('outage_host', q, true);
    return (this.db.prepare(sql).all(...params) as OutageDbRow[]).map(toOutage);
  }

  incidents(q: Omit<OutageQuery, 'host'>): SiteIncident[] {
    const { sql, params } = listSql('outage_incident', q, false);
    return (this.db.prepare(sql).all(...params) as IncidentDbRow[]).map(toIncident);
  }

  openIncidents(site?: string): SiteIncident[] {
    const rows = (site === undefined ? this.stmts.openIncidents.all() : this.stmts.openSiteIncidents.all(site)) as IncidentDbRow[];
    return rows.map(toIncident);
  }

  incident(id: number): SiteIncident | undefined {
    const r = this.stmts.incident.get(id) as IncidentDbRow | undefined;
    return r ? toIncident(r) : undefined;
  }

  counts(q: OutageCountQuery): OutageCount[] {
    const sites = q.sites !== undefined ? ` AND site IN (${q.sites.map(() => '?').join(', ') || 'NULL'})` : '';
    const where = `start >= ? AND start < ?${q.site !== undefined ? ' AND site = ?' : ''}${sites}`;
    const params: unknown[] = [q.from, q.to, ...(q.site !== undefined ? [q.site] : []), ...(q.sites ?? [])];
    const incidents = this.db.prepare(`SELECT site, cause, start FROM outage_incident WHERE ${where} LIMIT ${MAX_COUNT_ROWS}`).all(...params) as Array<{
      site: string;
      cause: string;
      start: number;
    }>;
    const outages = this.db.prepare(`SELECT site, start FROM outage_host WHERE ${where} LIMIT ${MAX_COUNT_ROWS}`).all(...params) as Array<{ site: string; start: number }>;
    const buckets = new Map<string, OutageCount>();
    const bucket = (site: string, t: number) => {
      const start = periodStart(t, q.period, q.timezone);
      const k = `${site}\u0000${start}`;
      let b = buckets.get(k);
      if (!b) {
        b = { site, period: q.period, start, power_cut: 0, network_cut: 0, mixed: 0, unknown: 0, hostOutages: 0 };
        buckets.set(k, b);
      }
      return b;
    };
    for (const i of incidents) {
      const b = bucket(i.site, i.start);
      if (i.cause === 'power_cut' || i.cause === 'network_cut' || i.cause === 'mixed') b[i.cause]++;
      else b.unknown++;
    }
    for (const o of outages) bucket(o.site, o.start).hostOutages++;
    return [...buckets.values()].sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.start - b.start));
  }
}

/** Local midnight starting the day, the ISO week (Monday) or the month that contains `t`. */
export function periodStart(t: number, period: 'day' | 'week' | 'month', tz: string): number {
  const day = localMidnight(t, tz);
  if (period === 'day') return day;
  const lt = localTime(day + 12 * 3600_000, tz); // noon: safe from any DST edge
  const back = period === 'week' ? lt.weekday - 1 : lt.day - 1;
  return back === 0 ? day : localMidnight(day - back * 86_400_000 + 12 * 3600_000, tz);
}

function listSql(table: string, q: OutageQuery, withHost: boolean): { sql: string; params: unknown[] } {
  const cond = ['start <= ?', '("end" IS NULL OR "end" >= ?)'];
  const params: unknown[] = [q.to, q.from];
  if (q.site !== undefined) {
    cond.push('site = ?');
    params.push(q.site);
  }
  if (q.sites !== undefined) {
    cond.push(`site IN (${q.sites.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...q.sites);
  }
  if (withHost && q.host !== undefined) {
    cond.push('host = ?');
    params.push(q.host);
  }
  if (q.before !== undefined) {
    cond.push('id < ?');
    params.push(q.before);
  }
  params.push(q.limit);
  return { sql: `SELECT * FROM ${table} WHERE ${cond.join(' AND ')} ORDER BY id DESC LIMIT ?`, params };
}

interface OutageDbRow {
  id: number;
  site: string;
  host: string;
  cause: string;
  start: number;
  end: number | null;
  duration_ms: number | null;
  uncertainty_ms: number;
  incident_id: number | null;
  evidence: string;
}

interface IncidentDbRow {
  id: number;
  site: string;
  state: string;
  cause: string;
  start: number;
  end: number | null;
  duration_ms: number | null;
  hosts: string;
  hosts_out: string;
  hosts_online_before: number;
  uncertainty_ms: number;
  evidence: string;
}

function toOutage(r: OutageDbRow): HostOutage {
  return {
    id: r.id,
    site: r.site,
    host: r.host,
    cause: r.cause as HostOutage['cause'],
    start: r.start,
    end: r.end,
    durationMs: r.duration_ms,
    uncertaintyMs: r.uncertainty_ms,
    incidentId: r.incident_id,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
  };
}

function toIncident(r: IncidentDbRow): SiteIncident {
  return {
    id: r.id,
    site: r.site,
    state: r.state as SiteIncident['state'],
    cause: r.cause as SiteIncident['cause'],
    start: r.start,
    end: r.end,
    durationMs: r.duration_ms,
    hosts: JSON.parse(r.hosts) as string[],
    hostsOut: JSON.parse(r.hosts_out) as string[],
    hostsOnlineBefore: r.hosts_online_before,
    uncertaintyMs: r.uncertainty_ms,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
  };
}
