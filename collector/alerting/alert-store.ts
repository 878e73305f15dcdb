import type { SqliteDatabase } from '../store/sqlite-store.js';
import { migrateModule } from '../store/module-migrations.js';
import type { Alert, EngineState, GroupState, Notification, NotificationSink, Silence, SilenceMatchers } from './alert-types.js';
import type { EvaluationResult } from './engine.js';
import type { ProvinceDigest } from '../notify/province-message.js';
import { emptyProvinceWaveState, type ProvinceWaveState } from './province-wave.js';

/** What one evaluation changed of the province digest: its state and the messages to queue. */
export interface ProvinceCommit {
  state: ProvinceWaveState;
  messages: readonly ProvinceDigest[];
}

/**
 * Alerting tables in the collector's SQLite file (module `alerting`): alerts (active ones
 * are the engine state; settled ones the history), site groups and silences. One
 * transaction per evaluation writes the new state AND hands the notifications to the
 * outbox, so a restart neither loses nor re-sends a message.
 */
/** Steps of the `alerting` module's schema (module-migrations.ts), oldest first. */
export const ALERTING_MIGRATIONS: readonly string[] = [
  `CREATE TABLE alerts (
     id INTEGER PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     rule TEXT NOT NULL,
     site TEXT NOT NULL,
     host TEXT,
     key TEXT NOT NULL DEFAULT '',
     severity TEXT NOT NULL,
     state TEXT NOT NULL,
     active_since INTEGER NOT NULL,
     pending_since INTEGER NOT NULL,
     starts_at INTEGER,
     ends_at INTEGER,
     value REAL,
     summary TEXT NOT NULL,
     hint TEXT NOT NULL,
     last_seen INTEGER NOT NULL,
     silenced INTEGER NOT NULL DEFAULT 0,
     inhibited INTEGER NOT NULL DEFAULT 0,
     flapping INTEGER NOT NULL DEFAULT 0,
     transitions TEXT NOT NULL DEFAULT '[]',
     notified TEXT NOT NULL DEFAULT 'none',
     notified_at INTEGER,
     active INTEGER NOT NULL DEFAULT 1
   );
   CREATE INDEX alerts_active ON alerts (active, id);
   CREATE INDEX alerts_site ON alerts (site, id);
   CREATE TABLE alert_groups (site TEXT PRIMARY KEY, changed_since INTEGER, last_sent_at INTEGER, seq INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE alert_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE silences (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     rule TEXT, site TEXT, host TEXT,
     starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
     author TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',
     created_at INTEGER NOT NULL
   );
   CREATE INDEX silences_ends ON silences (ends_at);
   CREATE TABLE alert_baselines (site TEXT NOT NULL, series TEXT NOT NULL, loss REAL NOT NULL, latency REAL, n INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (site, series)) WITHOUT ROWID;`,
  // 2: the province digest's wave state (province-wave.ts, issue 12 item 6): one row, JSON, bounded by MAX_WAVE_SITES.
  `CREATE TABLE alert_province_wave (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);`,
  // 3: off-peak baselines are seeded from the 1-minute rollups at start
  // (rollup-baseline-history.ts) and kept in memory; the table was never read again.
  `DROP TABLE IF EXISTS alert_baselines;`,
];

interface AlertRowDb {
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  host: string | null;
  key: string;
  severity: string;
  state: string;
  active_since: number;
  pending_since: number;
  starts_at: number | null;
  ends_at: number | null;
  value: number | null;
  summary: string;
  hint: string;
  last_seen: number;
  silenced: number;
  inhibited: number;
  flapping: number;
  transitions: string;
  notified: string;
  notified_at: number | null;
  active: number;
}

function toAlert(r: AlertRowDb): Alert {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    rule: r.rule,
    site: r.site,
    host: r.host,
    key: r.key,
    severity: r.severity as Alert['severity'],
    state: r.state as Alert['state'],
    activeSince: r.active_since,
    pendingSince: r.pending_since,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    value: r.value,
    summary: JSON.parse(r.summary) as Alert['summary'],
    hint: JSON.parse(r.hint) as Alert['hint'],
    lastSeen: r.last_seen,
    silenced: !!r.silenced,
    inhibited: !!r.inhibited,
    flapping: !!r.flapping,
    transitions: JSON.parse(r.transitions) as number[],
    notified: r.notified as Alert['notified'],
    notifiedAt: r.notified_at,
  };
}

/** An alert as the API lists it (docs/api.md). */
export interface AlertListItem {
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  host: string | null;
  severity: string;
  state: 'pending' | 'firing' | 'resolved';
  silenced: boolean;
  inhibited: boolean;
  flapping: boolean;
  startsAt: number;
  endsAt: number | null;
  summary: string;
  value: number | null;
}

export interface AlertQuery {
  state: 'active' | 'resolved' | 'all';
  site?: string | undefined;
  /** Only these sites (a token's scope, issue 14). */
  sites?: readonly string[] | undefined;
  limit: number;
  before?: number | undefined;
}

export interface SilenceRow extends Silence {
  createdAt: number;
}

export class AlertStore {
  constructor(private readonly db: SqliteDatabase) {
    migrateModule(db, 'alerting', ALERTING_MIGRATIONS);
  }

  loadState(): EngineState {
    const rows = this.db.prepare('SELECT * FROM alerts WHERE active = 1').all() as AlertRowDb[];
    const alerts: EngineState['alerts'] = {};
    for (const r of rows) alerts[r.fingerprint] = toAlert(r);
    const groups: EngineState['groups'] = {};
    for (const g of this.db.prepare('SELECT * FROM alert_groups').all() as Array<{ site: string; changed_since: number | null; last_sent_at: number | null; seq: number }>) {
      groups[g.site] = { site: g.site, changedSince: g.changed_since, lastSentAt: g.last_sent_at, seq: g.seq };
    }
    const meta = this.db.prepare(`SELECT value FROM alert_meta WHERE key = 'next_id'`).get() as { value: number } | undefined;
    const maxId = (this.db.prepare('SELECT MAX(id) AS m FROM alerts').get() as { m: number | null }).m ?? 0;
    return { alerts, groups, nextId: Math.max(meta?.value ?? 1, maxId + 1) };
  }

  /** The province digest's wave state (empty at the first start, or when unreadable). */
  loadProvinceState(): ProvinceWaveState {
    const r = this.db.prepare('SELECT state FROM alert_province_wave WHERE id = 1').get() as { state: string } | undefined;
    if (!r) return emptyProvinceWaveState();
    try {
      const s = JSON.parse(r.state) as ProvinceWaveState;
      return s && typeof s === 'object' && 'wave' in s ? s : emptyProvinceWaveState();
    } catch {
      return emptyProvinceWaveState();
    }
  }

  /**
   * Persist one evaluation and enqueue its notifications (and the province digest's state
   * and messages), atomically. If the sink throws, nothing is written: the same evaluation
   * happens again at the next tick.
   */
  commit(result: EvaluationResult, sink: NotificationSink, province?: ProvinceCommit): void {
    const upsert = this.db
      .prepare(`INSERT INTO alerts (id, fingerprint, rule, site, host, key, severity, state, active_since, pending_since, starts_at, ends_at, value, summary, hint, last_seen, silenced, inhibited, flapping, transitions, notified, notified_at, active)
      VALUES (@id, @fingerprint, @rule, @site, @host, @key, @severity, @state, @activeSince, @pendingSince, @startsAt, @endsAt, @value, @summary, @hint, @lastSeen, @silenced, @inhibited, @flapping, @transitions, @notified, @notifiedAt, @active)
      ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, state = excluded.state, active_since = excluded.active_since, pending_since = excluded.pending_since, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
        value = excluded.value, summary = excluded.summary, hint = excluded.hint, last_seen = excluded.last_seen, silenced = excluded.silenced, inhibited = excluded.inhibited,
        flapping = excluded.flapping, transitions = excluded.transitions, notified = excluded.notified, notified_at = excluded.notified_at, active = excluded.active`);
    const del = this.db.prepare('DELETE FROM alerts WHERE id = ?');
    const settle = this.db.prepare('UPDATE alerts SET active = 0 WHERE id = ?');
    const active = new Set(Object.values(result.state.alerts).map((a) => a.id));
    const row = (a: Alert, isActive: boolean) => ({
      ...a,
      summary: JSON.stringify(a.summary),
      hint: JSON.stringify(a.hint),
      transitions: JSON.stringify(a.transitions),
      silenced: a.silenced ? 1 : 0,
      inhibited: a.inhibited ? 1 : 0,
      flapping: a.flapping ? 1 : 0,
      active: isActive ? 1 : 0,
    });
    this.db
      .transaction(() => {
        for (const a of result.changed) {
          // A pending alert that never fired leaves no history.
          if (!active.has(a.id) && a.startsAt === null) del.run(a.id);
          else upsert.run(row(a, active.has(a.id)));
        }
        for (const a of result.removed) settle.run(a.id);
        this.db.prepare('DELETE FROM alert_groups').run();
        const ins = this.db.prepare('INSERT INTO alert_groups (site, changed_since, last_sent_at, seq) VALUES (?, ?, ?, ?)');
        for (const g of Object.values(result.state.groups) as GroupState[]) ins.run(g.site, g.changedSince, g.lastSentAt, g.seq);
        this.db.prepare(`INSERT INTO alert_meta (key, value) VALUES ('next_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(result.state.nextId);
        for (const n of result.notifications as Notification[]) sink.enqueue(n);
        if (province) {
          this.db.prepare('INSERT INTO alert_province_wave (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state').run(JSON.stringify(province.state));
          for (const d of province.messages) sink.enqueueProvince?.(d);
        }
      })
      .immediate();
  }

  listAlerts(q: AlertQuery, lang: 'vi' | 'en' = 'vi'): { alerts: AlertListItem[]; next: number | null } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.state === 'active') where.push(`active = 1 AND state IN ('pending', 'firing')`);
    else if (q.state === 'resolved') where.push(`state = 'resolved'`);
    if (q.site) {
      where.push('site = ?');
      args.push(q.site);
    }
    if (q.sites !== undefined) {
      where.push(`site IN (${q.sites.map(() => '?').join(', ') || 'NULL'})`);
      args.push(...q.sites);
    }
    if (q.before !== undefined) {
      where.push('id < ?');
      args.push(q.before);
    }
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit + 1) as AlertRowDb[];
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit).map((r) => {
      const a = toAlert(r);
      return {
        id: a.id,
        fingerprint: a.fingerprint,
        rule: a.rule,
        site: a.site,
        host: a.host,
        severity: a.severity,
        state: a.state,
        silenced: a.silenced,
        inhibited: a.inhibited,
        flapping: a.flapping,
        startsAt: a.activeSince,
        endsAt: a.endsAt,
        summary: a.summary[lang],
        value: a.value,
      };
    });
    return { alerts: items, next: more ? items.at(-1)!.id : null };
  }

  addSilence(s: { matchers: SilenceMatchers; startsAt: number; endsAt: number; author: string; comment: string }, now: number): number {
    const r = this.db
      .prepare('INSERT INTO silences (rule, site, host, starts_at, ends_at, author, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(s.matchers.rule ?? null, s.matchers.site ?? null, s.matchers.host ?? null, s.startsAt, s.endsAt, s.author, s.comment, now);
    return Number(r.lastInsertRowid);
  }

  /** The site matcher of silence `id` (null: a silence of every site), undefined when unknown. */
  silenceSite(id: number): { site: string | null } | undefined {
    return this.db.prepare('SELECT site FROM silences WHERE id = ?').get(id) as { site: string | null } | undefined;
  }

  /** Expire now; false when unknown. An already expired silence keeps its end. */
  expireSilence(id: number, now: number): boolean {
    return this.db.prepare('UPDATE silences SET ends_at = MIN(ends_at, ?) WHERE id = ?').run(now, id).changes > 0;
  }

  /** Silences, newest first; `since`: only those ending after it. */
  silences(opts: { since?: number; limit?: number } = {}): SilenceRow[] {
    const rows = this.db.prepare('SELECT * FROM silences WHERE ends_at > ? ORDER BY id DESC LIMIT ?').all(opts.since ?? -1, opts.limit ?? 1000) as Array<{
      id: number;
      rule: string | null;
      site: string | null;
      host: string | null;
      starts_at: number;
      ends_at: number;
      author: string;
      comment: string;
      created_at: number;
    }>;
    return rows.map((r) => ({
      id: String(r.id),
      matchers: { ...(r.rule !== null ? { rule: r.rule } : {}), ...(r.site !== null ? { site: r.site } : {}), ...(r.host !== null ? { host: r.host } : {}) },
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      author: r.author,
      comment: r.comment,
      createdAt: r.created_at,
    }));
  }
}
