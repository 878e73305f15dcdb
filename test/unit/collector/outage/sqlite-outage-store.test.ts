import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteOutageStore } from '../../../../collector/outage/sqlite-outage-store.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';
import { outageStoreSuite } from './outage-store-suite.js';

outageStoreSuite('SqliteOutageStore (file)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'canh-outage-')), 'canh.db');
  const dbs = [openDatabase(file)];
  return {
    store: new SqliteOutageStore(dbs[0]!),
    reopen: () => {
      dbs[0]!.close();
      return new SqliteOutageStore(openDatabase(file));
    },
  };
});

it('owns its tables through the module migrations (version recorded, second open is a no-op)', () => {
  const db = openDatabase(':memory:');
  new SqliteOutageStore(db);
  new SqliteOutageStore(db);
  expect(db.prepare(`SELECT version FROM schema_migrations WHERE module = 'outage'`).get()).toEqual({ version: 1 });
});
