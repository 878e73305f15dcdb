import { createHash, randomBytes } from 'node:crypto';
import type { SqliteDatabase } from '../../../store/sqlite-store.js';
import { migrateModule } from '../../../store/module-migrations.js';
import type { Role } from '../api-module.js';

/** API tokens look like `canh_<43 base64url chars>` (256 random bits). */
export const TOKEN_PREFIX = 'canh_';
export const TOKEN_PATTERN = /^canh_[A-Za-z0-9_-]{43}$/;
/** A session lasts at most this long after login, however active. */
export const SESSION_MAX_MS = 7 * 86_400_000;
/** Sessions kept per token; the oldest go beyond it (a script logging in in a loop). */
const MAX_SESSIONS_PER_TOKEN = 50;

const MIGRATIONS = [
  `CREATE TABLE api_tokens (
     id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('read', 'admin')),
     hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, created_at INTEGER NOT NULL,
     last_used_at INTEGER, revoked_at INTEGER);
   CREATE TABLE api_sessions (
     hash TEXT PRIMARY KEY, token_id INTEGER NOT NULL REFERENCES api_tokens (id),
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX api_sessions_token ON api_sessions (token_id);`,
  // 2 (issue 15): the first-start admin token stays "unseen" until the collector has shown it.
  `ALTER TABLE api_tokens ADD COLUMN unseen INTEGER NOT NULL DEFAULT 0;`,
  // 3 (issue 14 item 7): the operator role and site scopes (`sites`: a JSON array of site ids,
  // NULL for every site). SQLite cannot change a CHECK constraint, so both tables are
  // rebuilt; foreign keys stay on, so the sessions move to a new table first and the
  // renames carry the references along.
  `CREATE TABLE api_tokens_v2 (
     id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('read', 'operator', 'admin')),
     sites TEXT, hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, created_at INTEGER NOT NULL,
     last_used_at INTEGER, revoked_at INTEGER, unseen INTEGER NOT NULL DEFAULT 0);
   INSERT INTO api_tokens_v2 (id, name, role, sites, hash, hint, created_at, last_used_at, revoked_at, unseen)
     SELECT id, name, role, NULL, hash, hint, created_at, last_used_at, revoked_at, unseen FROM api_tokens;
   CREATE TABLE api_sessions_v2 (
     hash TEXT PRIMARY KEY, token_id INTEGER NOT NULL REFERENCES api_tokens_v2 (id),
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO api_sessions_v2 SELECT hash, token_id, created_at, expires_at FROM api_sessions;
   DROP TABLE api_sessions;
   DROP TABLE api_tokens;
   ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
   ALTER TABLE api_sessions_v2 RENAME TO api_sessions;
   CREATE INDEX api_sessions_token ON api_sessions (token_id);`,
];

/** Site ids of a scope, or null for every site (the province). */
export type SiteScope = readonly string[] | null;

function scopeOf(sites: string | null): SiteScope {
  if (sites === null) return null;
  try {
    const v = JSON.parse(sites) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* fall through */
  }
  // A damaged scope grants nothing rather than everything.
  return [];
}

/** Who is asking: resolved from a bearer token or a board session. */
export interface Principal {
  tokenId: number;
  name: string;
  role: Role;
  /** Sites it may see (and, as operator, silence); null: every site. */
  sites: SiteScope;
  via: 'token' | 'session';
}

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  /** Sites the token is scoped to; null: every site. */
  sites: SiteScope;
  /** First characters of the secret, to recognise a token without storing it. */
  hint: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

interface TokenDbRow {
  id: number;
  name: string;
  role: Role;
  sites: string | null;
  hint: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/**
 * Secrets are 256 random bits, so one unsalted SHA-256 is enough to store them: nothing
 * to brute-force, and lookup by hash needs no per-row salt (the password-hash.ts PBKDF2
 * is for human-chosen passwords).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function newSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

function toInfo(r: TokenDbRow): TokenInfo {
  return { id: r.id, name: r.name, role: r.role, sites: scopeOf(r.sites), hint: r.hint, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at };
}

/**
 * API tokens and board sessions (issue 6): stored hashed, roles read/operator/admin,
 * scoped to sites or not (issue 14), revocable;
 * revoking a token ends its sessions too. Tables are this module's own (migrateModule).
 */
export class TokenStore {
  private readonly stmts;
  /** Last-used times are written at most once a minute per token, not per request. */
  private readonly lastUsedWritten = new Map<number, number>();

  constructor(private readonly db: SqliteDatabase) {
    migrateModule(db, 'auth', MIGRATIONS);
    this.stmts = {
      insert: db.prepare(`INSERT INTO api_tokens (name, role, sites, hash, hint, created_at, unseen) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      unseen: db.prepare(`SELECT id, last_used_at FROM api_tokens WHERE unseen = 1 AND revoked_at IS NULL`),
      clearUnseen: db.prepare(`UPDATE api_tokens SET unseen = 0 WHERE id = ?`),
      activeAdmins: db.prepare(`SELECT count(*) AS n FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL`),
      markShown: db.prepare(`UPDATE api_tokens SET unseen = 0 WHERE unseen = 1`),
      count: db.prepare(`SELECT count(*) AS n FROM api_tokens`),
      list: db.prepare(`SELECT id, name, role, sites, hint, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id`),
      get: db.prepare(`SELECT id, name, role, sites, hint, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = ?`),
      byHash: db.prepare(`SELECT id, name, role, sites FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`),
      revoke: db.prepare(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
      touch: db.prepare(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`),
      insertSession: db.prepare(`INSERT INTO api_sessions (hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
      session: db.prepare(
        `SELECT s.token_id AS id, s.created_at, s.expires_at, t.name, t.role, t.sites FROM api_sessions s
         JOIN api_tokens t ON t.id = s.token_id WHERE s.hash = ? AND t.revoked_at IS NULL`,
      ),
      extendSession: db.prepare(`UPDATE api_sessions SET expires_at = ? WHERE hash = ?`),
      deleteSession: db.prepare(`DELETE FROM api_sessions WHERE hash = ?`),
      deleteTokenSessions: db.prepare(`DELETE FROM api_sessions WHERE token_id = ?`),
      deleteExpired: db.prepare(`DELETE FROM api_sessions WHERE expires_at <= ?`),
      trimSessions: db.prepare(
        `DELETE FROM api_sessions WHERE token_id = ? AND hash NOT IN
           (SELECT hash FROM api_sessions WHERE token_id = ? ORDER BY created_at DESC LIMIT ${MAX_SESSIONS_PER_TOKEN})`,
      ),
    };
  }

  /** Create a token (`sites` null: every site); the secret is returned here only. */
  create(name: string, role: Role, now: number, sites: SiteScope = null, unseen = false): { id: number; name: string; role: Role; sites: SiteScope; token: string } {
    const token = newSecret();
    const hint = token.slice(0, TOKEN_PREFIX.length + 4);
    const scope = sites === null ? null : [...new Set(sites)].sort();
    const id = Number(this.stmts.insert.run(name, role, scope === null ? null : JSON.stringify(scope), hashSecret(token), hint, now, unseen ? 1 : 0).lastInsertRowid);
    return { id, name, role, sites: scope, token };
  }

  /** Set by {@link ensureInitialAdmin}: how many first-start tokens it revoked because no one ever saw them. */
  revokedUnseen = 0;

  /**
   * The first start: when no token was ever created, create an admin token and return
   * its secret (to be shown once, then {@link markShown}); otherwise undefined. A
   * first-start token that was never shown (the start failed before the collector could
   * print it, e.g. its HTTP port was taken) and never used is revoked, and a new one is
   * made when no other admin token remains: otherwise the officer would be told to use a
   * token no one has ever seen.
   */
  ensureInitialAdmin(now: number): string | undefined {
    // IMMEDIATE: it reads then writes while the collector commits (WAL: a deferred
    // transaction cannot upgrade after another commit, and fails with SQLITE_BUSY).
    return this.db
      .transaction(() => {
        this.revokedUnseen = 0;
        for (const t of this.stmts.unseen.all() as Array<{ id: number; last_used_at: number | null }>) {
          // Used means someone had it: seen after all.
          if (t.last_used_at !== null) this.stmts.clearUnseen.run(t.id);
          else {
            this.stmts.revoke.run(now, t.id);
            this.stmts.clearUnseen.run(t.id);
            this.stmts.deleteTokenSessions.run(t.id);
            this.revokedUnseen++;
          }
        }
        const first = (this.stmts.count.get() as { n: number }).n === 0;
        const orphaned = this.revokedUnseen > 0 && (this.stmts.activeAdmins.get() as { n: number }).n === 0;
        if (!first && !orphaned) return undefined;
        return this.create('admin', 'admin', now, null, true).token;
      })
      .immediate();
  }

  /** The first-start token was shown: it is no longer replaced at the next start. */
  markShown(): void {
    this.stmts.markShown.run();
  }

  list(): TokenInfo[] {
    return (this.stmts.list.all() as TokenDbRow[]).map(toInfo);
  }

  get(id: number): TokenInfo | undefined {
    const r = this.stmts.get.get(id) as TokenDbRow | undefined;
    return r ? toInfo(r) : undefined;
  }

  /** Revoke a token and end its sessions; false when there is no active token `id`. */
  revoke(id: number, now: number): boolean {
    return this.db
      .transaction(() => {
        const ok = this.stmts.revoke.run(now, id).changes === 1;
        if (ok) this.stmts.deleteTokenSessions.run(id);
        return ok;
      })
      .immediate();
  }

  /** The principal of a bearer token, when it is valid and not revoked. */
  verify(token: string, now: number): Principal | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const r = this.stmts.byHash.get(hashSecret(token)) as { id: number; name: string; role: Role; sites: string | null } | undefined;
    if (!r) return undefined;
    this.touch(r.id, now);
    return { tokenId: r.id, name: r.name, role: r.role, sites: scopeOf(r.sites), via: 'token' };
  }

  /** Start a board session for a valid token; returns the cookie value. */
  createSession(tokenId: number, now: number, idleMs: number): string {
    const secret = randomBytes(32).toString('base64url');
    this.db
      .transaction(() => {
        this.stmts.deleteExpired.run(now);
        this.stmts.insertSession.run(hashSecret(secret), tokenId, now, now + Math.min(idleMs, SESSION_MAX_MS));
        this.stmts.trimSessions.run(tokenId, tokenId);
      })
      .immediate();
    return secret;
  }

  /** The principal of a session cookie; slides its expiry (bounded by {@link SESSION_MAX_MS}). */
  session(cookie: string, now: number, idleMs: number): Principal | undefined {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
    const hash = hashSecret(cookie);
    const r = this.stmts.session.get(hash) as { id: number; created_at: number; expires_at: number; name: string; role: Role; sites: string | null } | undefined;
    if (!r || r.expires_at <= now) return undefined;
    const next = Math.min(now + idleMs, r.created_at + SESSION_MAX_MS);
    // Extend only when a minute or more was used up: one write a minute per active board.
    if (next - r.expires_at >= 60_000) this.stmts.extendSession.run(next, hash);
    this.touch(r.id, now);
    return { tokenId: r.id, name: r.name, role: r.role, sites: scopeOf(r.sites), via: 'session' };
  }

  endSession(cookie: string): void {
    if (/^[A-Za-z0-9_-]{43}$/.test(cookie)) this.stmts.deleteSession.run(hashSecret(cookie));
  }

  private touch(id: number, now: number): void {
    const last = this.lastUsedWritten.get(id);
    if (last !== undefined && now - last < 60_000) return;
    if (this.lastUsedWritten.size > 10_000) this.lastUsedWritten.clear();
    this.lastUsedWritten.set(id, now);
    this.stmts.touch.run(now, id);
  }
}
