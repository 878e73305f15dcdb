import { migrateModule } from './module-migrations.js';
import type { SqliteDatabase } from './sqlite-store.js';

export interface EventItem {
  id: number;
  site: string;
  host: string;
  t: number;
  received: number;
  type: string;
  severity: string;
  message: string;
  start: number | null;
  end: number | null;
  details: Record<string, unknown> | null;
}

export interface EventPageQuery {
  site?: string | undefined;
  /** Only these sites (a token's scope, issue 14). */
  sites?: readonly string[] | undefined;
  host?: string | undefined;
  type?: string | undefined;
  from: number;
  to: number;
  limit: number;
  /** Only events before this sort key (t, id), newest first: the previous page's last item. */
  before?: { t: number; id: number } | undefined;
}

/** Port: pages of stored agent events, newest first (API `/api/events`). */
export interface EventQuery {
  page(q: EventPageQuery): EventItem[];
}

/** {@link EventQuery} over the embedded store's `events` table (keyset pagination on (t, id)). */
export class SqliteEventQuery implements EventQuery {
  constructor(private readonly db: SqliteDatabase) {
    // Events across every site by time (the site filter has its own index in the core schema).
    migrateModule(db, 'event-query', ['CREATE INDEX events_time ON events (t, id)']);
  }

  page(q: EventPageQuery): EventItem[] {
    const where = ['t >= ?', 't < ?'];
    const params: unknown[] = [q.from, q.to];
    if (q.site !== undefined) {
      where.push('site = ?');
      params.push(q.site);
    }
    if (q.sites !== undefined) {
      where.push(`site IN (${q.sites.map(() => '?').join(', ') || 'NULL'})`);
      params.push(...q.sites);
    }
    if (q.host !== undefined) {
      where.push('host = ?');
      params.push(q.host);
    }
    if (q.type !== undefined) {
      where.push('type = ?');
      params.push(q.type);
    }
    if (q.before) {
      where.push('(t < ? OR (t = ? AND id < ?))');
      params.push(q.before.t, q.before.t, q.before.id);
    }
    params.push(q.limit);
    // Only fixed SQL text above; every value is a bound parameter.
    const rows = this.db
      .prepare(`SELECT id, site, host, t, received, type, severity, message, start, "end", details FROM events WHERE ${where.join(' AND ')} ORDER BY t DESC, id DESC LIMIT ?`)
      .all(...params) as Array<Omit<EventItem, 'details'> & { details: string | null }>;
    return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null }));
  }
}
