import { createHmac, randomBytes } from 'node:crypto';
import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';

/**
 * What the audit log records (issue 14 item 8). `login_failed` and `auth_ban` come from
 * untrusted input: they are capped per minute (see {@link AuditLog.record}).
 */
export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'auth_ban',
  'token_create',
  'token_revoke',
  'silence_create',
  'silence_expire',
  'credential_add',
  'credential_rotate',
  'credential_revoke',
  'config_change',
  'enroll_token_create',
  'enroll_token_revoke',
  'enroll_approve',
  'enroll_reject',
  'agent_config_set',
  'agent_config_clear',
  'agent_release_publish',
  'agent_update_rollout',
  'agent_update_stop',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Where the action came from. */
export type AuditVia = 'api' | 'board' | 'cli' | 'collector';

export interface AuditEntry {
  action: AuditAction;
  /** Who: a token's name (`token 3 "Sở KH&CN"`), an OS user for the CLI, `collector` for itself. */
  actor: string;
  actorTokenId?: number | null | undefined;
  via: AuditVia;
  /** From where: the client address (API, board), the host name (CLI). */
  client?: string | null | undefined;
  /** What it acted on: `token 7`, `silence 12`, a credential's username. */
  target?: string | null | undefined;
  /** More, never a secret (strings that look like tokens are redacted anyway). */
  details?: Record<string, unknown> | undefined;
}

export interface AuditRecord {
  id: number;
  t: number;
  action: AuditAction;
  actor: string;
  actorTokenId: number | null;
  via: AuditVia;
  client: string | null;
  target: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditPageQuery {
  from: number;
  to: number;
  action?: AuditAction | undefined;
  limit: number;
  /** Only entries with an id below it (newest first). */
  before?: number | undefined;
}

const APPEND_ONLY = `SELECT RAISE(ABORT, 'the audit log is append-only')`;
const MIGRATIONS = [
  `CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY, t INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL,
     actor_token_id INTEGER, via TEXT NOT NULL, client TEXT, target TEXT, details TEXT);
   CREATE INDEX audit_log_time ON audit_log (t, id);
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN ${APPEND_ONLY}; END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN ${APPEND_ONLY}; END;
   CREATE TABLE audit_config_state (path TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;`,
];

/** The row of `audit_config_state` holding the key of the configuration fingerprints. */
const FINGERPRINT_KEY = '(key)';

/** Entries of untrusted origin (failed logins, bans) recorded per minute at most; the rest are counted. */
export const UNTRUSTED_PER_MINUTE = 60;
const UNTRUSTED: ReadonlySet<AuditAction> = new Set(['login_failed', 'auth_ban']);
/** Anything shaped like a Canh token or a long random secret. */
const SECRET_LIKE = /canh_[A-Za-z0-9_-]{10,}|[A-Za-z0-9_+/=-]{40,}/g;

function clean(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.slice(0, 500).replace(SECRET_LIKE, '[redacted]');
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (depth > 3) return null;
  if (Array.isArray(v)) return v.slice(0, 50).map((x) => clean(x, depth + 1));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>).slice(0, 50)) {
      out[k.slice(0, 64)] = /pass|secret|token|key/i.test(k) && typeof x === 'string' ? '[redacted]' : clean(x, depth + 1);
    }
    return out;
  }
  return null;
}

/**
 * The audit log (issue 14 item 8): who did what, when and from where. An append-only table
 * (triggers refuse UPDATE and DELETE), in the collector's store, read by admins through the
 * API (`/api/audit`, JSON or CSV) and written by the API, the board's login and the CLI.
 * Never a secret: callers pass none, and strings shaped like one are redacted.
 */
export class AuditLog {
  private readonly stmts;
  private window = { start: 0, n: 0 };
  /** Untrusted entries not recorded because of the per-minute cap. */
  suppressed = 0;

  constructor(private readonly db: SqliteDatabase) {
    migrateModule(db, 'audit', MIGRATIONS);
    this.stmts = {
      insert: db.prepare(`INSERT INTO audit_log (t, action, actor, actor_token_id, via, client, target, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      configState: db.prepare(`SELECT path, hash FROM audit_config_state`),
      putConfig: db.prepare(`INSERT INTO audit_config_state (path, hash) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET hash = excluded.hash`),
      dropConfig: db.prepare(`DELETE FROM audit_config_state WHERE path = ?`),
    };
  }

  /** Append one entry; false when an untrusted one was over the per-minute cap (counted in `suppressed`). */
  record(e: AuditEntry, now: number): boolean {
    if (UNTRUSTED.has(e.action)) {
      if (now - this.window.start >= 60_000) this.window = { start: now, n: 0 };
      if (++this.window.n > UNTRUSTED_PER_MINUTE) {
        this.suppressed++;
        return false;
      }
    }
    const details = e.details ? JSON.stringify(clean(e.details)) : null;
    this.stmts.insert.run(
      now,
      e.action,
      String(clean(e.actor)).slice(0, 200),
      e.actorTokenId ?? null,
      e.via,
      e.client ? e.client.slice(0, 100) : null,
      e.target ? String(clean(e.target)).slice(0, 200) : null,
      details,
    );
    return true;
  }

  /** Entries in [from, to), newest first. */
  page(q: AuditPageQuery): AuditRecord[] {
    const where = ['t >= ?', 't < ?'];
    const params: unknown[] = [q.from, q.to];
    if (q.action !== undefined) {
      where.push('action = ?');
      params.push(q.action);
    }
    if (q.before !== undefined) {
      where.push('id < ?');
      params.push(q.before);
    }
    params.push(q.limit);
    const rows = this.db.prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...params) as Array<{
      id: number;
      t: number;
      action: AuditAction;
      actor: string;
      actor_token_id: number | null;
      via: AuditVia;
      client: string | null;
      target: string | null;
      details: string | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      t: r.t,
      action: r.action,
      actor: r.actor,
      actorTokenId: r.actor_token_id,
      via: r.via,
      client: r.client,
      target: r.target,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }

  /**
   * Configuration changes: compares a fingerprint of each configuration section (two levels
   * deep: `api`, `notify.channels`, …) with the last start's, and records the sections that
   * changed (their names only: values may be secrets). The first start records none.
   * Returns the changed paths.
   */
  recordConfig(config: Record<string, unknown>, now: number, source: string | undefined): string[] {
    return this.db
      .transaction(() => {
        const stored = new Map((this.stmts.configState.all() as Array<{ path: string; hash: string }>).map((r) => [r.path, r.hash]));
        // Keyed with a random key of this store: a fingerprint of a section holding a short
        // secret cannot be looked up in a table of common passwords' hashes.
        let key = stored.get(FINGERPRINT_KEY);
        if (key === undefined) this.stmts.putConfig.run(FINGERPRINT_KEY, (key = randomBytes(32).toString('hex')));
        stored.delete(FINGERPRINT_KEY);
        const before = stored;
        const fingerprint = (v: unknown) =>
          createHmac('sha256', key)
            .update(JSON.stringify(v) ?? 'undefined')
            .digest('hex');
        const current = new Map<string, string>();
        for (const [k, v] of Object.entries(config)) {
          if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
            for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) current.set(`${k}.${k2}`, fingerprint(v2));
          } else current.set(k, fingerprint(v));
        }
        const section = (p: string) => p.split('.')[0]!;
        const sectionsBefore = new Set([...before.keys()].map(section));
        const sectionsNow = new Set([...current.keys()].map(section));
        const changed = new Set<string>();
        // A section added or removed as a whole (`influx`) is one change, not one per key.
        for (const [p, h] of current) if (before.size > 0 && before.get(p) !== h) changed.add(sectionsBefore.has(section(p)) ? p : section(p));
        for (const p of before.keys()) if (!current.has(p)) changed.add(sectionsNow.has(section(p)) ? p : section(p));
        for (const [p, h] of current) this.stmts.putConfig.run(p, h);
        for (const p of before.keys()) if (!current.has(p)) this.stmts.dropConfig.run(p);
        const list = [...changed].sort();
        if (list.length) this.record({ action: 'config_change', actor: 'collector', via: 'collector', target: source ?? null, details: { changed: list } }, now);
        return list;
      })
      .immediate();
  }
}

/** One CSV field (RFC 4180) for separator `sep`, with a leading `=+-@` neutralised (spreadsheet formula injection). */
export function csvField(v: unknown, sep: string): string {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return s.includes(sep) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
