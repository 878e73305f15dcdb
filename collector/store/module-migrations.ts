import type { SqliteDatabase } from './sqlite-store.js';

/**
 * Schema migrations per module (outages, rollups, auth, alerting, …), so each part of the
 * collector owns its tables in the one SQLite file without sharing one version counter.
 * The core tables keep `PRAGMA user_version` (sqlite-store.ts); every other module records
 * its version in `schema_migrations`. Each step runs in its own transaction with its
 * version bump, so a crash mid-migration leaves the previous version intact.
 */
export function migrateModule(db: SqliteDatabase, module: string, steps: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID');
  const row = db.prepare('SELECT version FROM schema_migrations WHERE module = ?').get(module) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > steps.length) {
    throw new Error(`database schema of "${module}" is version ${current}, newer than this collector knows (${steps.length}): upgrade Canh`);
  }
  const bump = db.prepare('INSERT INTO schema_migrations (module, version) VALUES (?, ?) ON CONFLICT (module) DO UPDATE SET version = excluded.version');
  for (let v = current; v < steps.length; v++) {
    db.transaction(() => {
      db.exec(steps[v]!);
      bump.run(module, v + 1);
    }).immediate();
  }
}
