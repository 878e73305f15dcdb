import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { storeSuite } from './store-suite.js';

storeSuite('SqliteStore (:memory:)', () => new SqliteStore(openDatabase(':memory:'), ':memory:'));
storeSuite('SqliteStore (file)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'canh-store-')), 'canh.db');
  return new SqliteStore(openDatabase(file), file);
});

it('keeps the sample count across reopen and reports its size', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'canh-store-')), 'canh.db');
  const a = new SqliteStore(openDatabase(file), file);
  a.insertSample({ site: 's', host: 'h', boot: 'bbbbbbbb', seq: 0, t: 1e12, tAgent: 1e12, sent: 1e12, received: 1e12, skewMs: 0, interval: 15, metrics: {} });
  expect(a.sizeBytes()).toBeGreaterThan(0);
  // It holds credential hashes: owner-only.
  expect(statSync(file).mode & 0o077).toBe(0);
  a.close();
  const b = new SqliteStore(openDatabase(file), file);
  expect(b.countSamples()).toBe(1);
  b.close();
});

it('sizes the page cache of a connection from store.cacheMiB (default 4 MiB, not better-sqlite3 16)', async () => {
  const { CollectorConfigSchema } = await import('../../../../collector/config.js');
  const cacheMiB = CollectorConfigSchema.parse({}).store.cacheMiB;
  expect(cacheMiB).toBe(4);
  const file = join(mkdtempSync(join(tmpdir(), 'canh-store-')), 'canh.db');
  const db = openDatabase(file, { cacheMiB });
  expect(db.pragma('cache_size', { simple: true })).toBe(-4096);
  db.close();
  // Without the option: SQLite's (better-sqlite3's) own default.
  const other = openDatabase(file);
  expect(other.pragma('cache_size', { simple: true })).toBe(-16000);
  other.close();
});
