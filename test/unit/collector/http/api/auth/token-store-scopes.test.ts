/**
 * The `auth` module's second migration (issue 14 item 7): roles read/operator/admin and site
 * scopes. A store written by the previous version (tokens and a live board session) keeps
 * them all after the upgrade, with every site in scope, and foreign keys still hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret, TokenStore } from '../../../../../../collector/http/api/auth/token-store.js';
import { migrateModule } from '../../../../../../collector/store/module-migrations.js';
import { openDatabase, type SqliteDatabase } from '../../../../../../collector/store/sqlite-store.js';

const V1 = `CREATE TABLE api_tokens (
     id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('read', 'admin')),
     hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, created_at INTEGER NOT NULL,
     last_used_at INTEGER, revoked_at INTEGER);
   CREATE TABLE api_sessions (
     hash TEXT PRIMARY KEY, token_id INTEGER NOT NULL REFERENCES api_tokens (id),
     created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX api_sessions_token ON api_sessions (token_id);`;

const NOW = Date.UTC(2026, 11, 5, 8, 0, 0);
let dir: string;
let db: SqliteDatabase | undefined;

afterEach(() => {
  db?.close();
  db = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TokenStore scopes', () => {
  it('upgrades a version-1 store: tokens and sessions kept, every site in scope, foreign keys on', () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-auth-mig-'));
    db = openDatabase(join(dir, 'canh.db'));
    migrateModule(db, 'auth', [V1]);
    // What version 1 wrote: an admin token and a read one, a live session of the read one.
    const h = hashSecret;
    const secret = `canh_${'r'.repeat(43)}`;
    const cookie = 'c'.repeat(43);
    db.prepare(`INSERT INTO api_tokens (id, name, role, hash, hint, created_at) VALUES (1, 'admin', 'admin', ?, 'canh_aaaa', ?), (2, 'xã', 'read', ?, 'canh_rrrr', ?)`).run(
      h(`canh_${'a'.repeat(43)}`),
      NOW,
      h(secret),
      NOW,
    );
    db.prepare(`INSERT INTO api_sessions (hash, token_id, created_at, expires_at) VALUES (?, 2, ?, ?)`).run(h(cookie), NOW, NOW + 3_600_000);

    const tokens = new TokenStore(db);
    expect(tokens.list().map((t) => [t.id, t.role, t.sites])).toEqual([
      [1, 'admin', null],
      [2, 'read', null],
    ]);
    expect(tokens.verify(secret, NOW)).toMatchObject({ tokenId: 2, role: 'read', sites: null });
    expect(tokens.session(cookie, NOW + 60_000, 3_600_000)).toMatchObject({ tokenId: 2, sites: null, via: 'session' });
    // The references moved with the tables: a session of an unknown token is refused.
    expect(() => db!.prepare(`INSERT INTO api_sessions (hash, token_id, created_at, expires_at) VALUES ('x', 99, 0, 1)`).run()).toThrow(/FOREIGN KEY/);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // Revoking still ends the token's sessions.
    expect(tokens.revoke(2, NOW)).toBe(true);
    expect(tokens.session(cookie, NOW + 120_000, 3_600_000)).toBeUndefined();
  });

  it('stores operator tokens scoped to sites, sorted and unique; the CHECK refuses an unknown role', () => {
    dir = mkdtempSync(join(tmpdir(), 'canh-auth-scope-'));
    db = openDatabase(join(dir, 'canh.db'));
    const tokens = new TokenStore(db);
    const t = tokens.create('vận hành', 'operator', NOW, ['xa-b', 'xa-a', 'xa-b']);
    expect(t.sites).toEqual(['xa-a', 'xa-b']);
    expect(tokens.verify(t.token, NOW)).toMatchObject({ role: 'operator', sites: ['xa-a', 'xa-b'] });
    const session = tokens.createSession(t.id, NOW, 3_600_000);
    expect(tokens.session(session, NOW, 3_600_000)).toMatchObject({ role: 'operator', sites: ['xa-a', 'xa-b'], via: 'session' });
    expect(() => db!.prepare(`INSERT INTO api_tokens (name, role, hash, hint, created_at) VALUES ('x', 'root', 'h', 'canh_', 0)`).run()).toThrow(/CHECK/);
    // A damaged scope grants nothing, not everything.
    db.prepare(`UPDATE api_tokens SET sites = 'not json' WHERE id = ?`).run(t.id);
    expect(tokens.verify(t.token, NOW)?.sites).toEqual([]);
  });
});
