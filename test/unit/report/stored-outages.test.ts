import { expect, it } from 'vitest';
import { outageReaderFor, StoredOutageReader } from '../../../collector/report/stored-outages.js';
import { EventDerivedOutages } from '../../../collector/report/event-outages.js';
import { openDatabase, SqliteStore } from '../../../collector/store/sqlite-store.js';

// The tables of collector/outage/sqlite-outage-store.ts (issue 3), as that module creates them.
const OUTAGE_TABLES = `CREATE TABLE outage_host (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, cause TEXT NOT NULL,
     start INTEGER NOT NULL, "end" INTEGER, duration_ms INTEGER, uncertainty_ms INTEGER NOT NULL,
     incident_id INTEGER, evidence TEXT NOT NULL);
   CREATE TABLE outage_incident (
     id INTEGER PRIMARY KEY, site TEXT NOT NULL, state TEXT NOT NULL, cause TEXT NOT NULL,
     start INTEGER NOT NULL, "end" INTEGER, duration_ms INTEGER, hosts TEXT NOT NULL, hosts_out TEXT NOT NULL,
     hosts_online_before INTEGER NOT NULL, uncertainty_ms INTEGER NOT NULL, evidence TEXT NOT NULL);`;

it('reads the collector outage tables when they exist, else derives incidents from agent events', () => {
  const db = openDatabase(':memory:');
  const store = new SqliteStore(db, ':memory:');
  const before = outageReaderFor(db, store);
  expect(before.reader).toBeInstanceOf(EventDerivedOutages);
  expect(before.notes).toEqual(['outages_from_agent_events']);

  db.exec(OUTAGE_TABLES);
  db.prepare(`INSERT INTO outage_incident VALUES (7, 'tan-phu', 'resolved', 'power_cut', 1000, 5000, 4000, '["pc-01","pc-02"]', '[]', 3, 15000, '{"why":"new boot"}')`).run();
  db.prepare(`INSERT INTO outage_incident VALUES (8, 'tan-phu', 'open', 'unknown', 9000, NULL, NULL, '["pc-01"]', '["pc-01"]', 3, 0, '{}')`).run();
  db.prepare(`INSERT INTO outage_host VALUES (1, 'tan-phu', 'pc-01', 'power_loss', 1000, 5000, 4000, 15000, 7, '{}')`).run();
  db.prepare(`INSERT INTO outage_host VALUES (2, 'tan-phu', 'pc-03', 'crash', 20000, 21000, 1000, 15000, NULL, '{}')`).run();
  const after = outageReaderFor(db, store);
  expect(after.reader).toBeInstanceOf(StoredOutageReader);
  expect(after.notes).toEqual([]);
  const r = after.reader;
  expect(r.incidents({ site: 'tan-phu', from: 0, to: 10_000, limit: 10 })).toEqual([
    { id: 7, site: 'tan-phu', state: 'resolved', cause: 'power_cut', start: 1000, end: 5000, hosts: ['pc-01', 'pc-02'], hostsOut: [], hostsOnlineBefore: 3, uncertaintyMs: 15000, evidence: { why: 'new boot' } },
    expect.objectContaining({ id: 8, state: 'open', end: null, hostsOut: ['pc-01'] }),
  ]);
  expect(r.incidents({ site: 'tan-phu', from: 6000, to: 8000, limit: 10 })).toEqual([]);
  expect(r.hostOutages({ site: 'tan-phu', host: 'pc-03', from: 0, to: 100_000, limit: 10 }).map((o) => [o.id, o.cause, o.incidentId])).toEqual([[2, 'crash', null]]);
  expect(r.openIncidents('tan-phu').map((i) => i.id)).toEqual([8]);
  expect(r.incident(7)?.cause).toBe('power_cut');
  store.close();
});
