import { migrateModule } from '../store/module-migrations.js';
import type { SqliteDatabase } from '../store/sqlite-store.js';

/**
 * Tables of the notifiers (module `notify` in `schema_migrations`):
 * - `notify_messages`: each alert notification / digest once, by its id (idempotent enqueue);
 * - `notify_deliveries`: one row per (message, channel), written before any send; `parts_sent`
 *   lets a multi-part Zalo text resume after the last accepted part;
 * - `notify_oa_tokens`: the Zalo OA token pair per app, replaced in one statement (atomic).
 */
const STEPS: readonly string[] = [
  `CREATE TABLE notify_messages (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT, created_at INTEGER NOT NULL, queued_at INTEGER NOT NULL,
     payload TEXT NOT NULL) WITHOUT ROWID;
   CREATE INDEX notify_messages_queued ON notify_messages (queued_at);
   CREATE TABLE notify_deliveries (
     id INTEGER PRIMARY KEY, message_id TEXT NOT NULL REFERENCES notify_messages (id) ON DELETE CASCADE,
     channel TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
     attempts INTEGER NOT NULL DEFAULT 0, parts_sent INTEGER NOT NULL DEFAULT 0,
     queued_at INTEGER NOT NULL, next_at INTEGER NOT NULL, last_attempt_at INTEGER, done_at INTEGER,
     last_error TEXT, UNIQUE (message_id, channel));
   CREATE INDEX notify_deliveries_due ON notify_deliveries (channel, state, next_at, id);
   CREATE INDEX notify_deliveries_done ON notify_deliveries (state, done_at);
   CREATE TABLE notify_oa_tokens (
     app_id TEXT PRIMARY KEY, access_token TEXT NOT NULL, refresh_token TEXT NOT NULL, expires_at INTEGER,
     seed_refresh_token TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;`,
];

export function migrateNotifyTables(db: SqliteDatabase): void {
  migrateModule(db, 'notify', STEPS);
}
