import { describe, expect, it } from 'vitest';
import { ALERTING_MIGRATIONS, AlertStore } from '../../../../collector/alerting/alert-store.js';
import { migrateModule } from '../../../../collector/store/module-migrations.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';

const tables = (db: ReturnType<typeof openDatabase>) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'alert%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);

describe('AlertStore schema', () => {
  it('a new database has no alert_baselines table (baselines come from the rollups)', () => {
    const db = openDatabase(':memory:');
    new AlertStore(db);
    expect(tables(db)).toEqual(['alert_groups', 'alert_meta', 'alert_province_wave', 'alerts']);
    expect(db.prepare(`SELECT version FROM schema_migrations WHERE module = 'alerting'`).get()).toEqual({ version: 3 });
  });

  it('a database of the previous version loses alert_baselines and keeps its alerts and silences', () => {
    const db = openDatabase(':memory:');
    // Version 1 as an older collector left it: the first migration of the module only.
    migrateModule(db, 'alerting', ALERTING_MIGRATIONS.slice(0, 1));
    db.prepare(`INSERT INTO alert_baselines (site, series, loss, latency, n, updated) VALUES ('xa-a', 'ping:gw', 0, 2, 100, 0)`).run();
    db.prepare(`INSERT INTO silences (rule, site, host, starts_at, ends_at, author, comment, created_at) VALUES (NULL, 'xa-a', NULL, 0, 1, 'Cán bộ', '', 0)`).run();
    expect(tables(db)).toContain('alert_baselines');
    const store = new AlertStore(db);
    expect(tables(db)).toEqual(['alert_groups', 'alert_meta', 'alert_province_wave', 'alerts']);
    expect(store.silences().map((s) => s.author)).toEqual(['Cán bộ']);
  });
});
