#!/usr/bin/env node
// Investigation aid for bench:ingest: cost of the collector's per-sample store write
// (dist SqliteStore.insertSample = INSERT sample + upsert host, two autocommit
// statements) vs the same two statements in one transaction, vs batches.
//   node bench/sqlite-insert-micro.mjs [N=20000]
import { join } from 'node:path';
import { importDist, tempDir, stopAll } from './lib.mjs';

const N = Number(process.argv[2] ?? 20000);
const { openDatabase, SqliteStore } = await importDist('sqliteStore');

const metrics = {
  cpu: { usage: 12.5, load1: 0.5, load5: 0.4, load15: 0.3, cores: 4 },
  mem: { total: 8589934592, used: 4294967296, available: 4294967296, swapTotal: 2147483648, swapUsed: 1048576 },
  disks: [
    { mount: '/', fs: 'ext4', total: 274877906944, used: 107374182400, free: 167503724544, usedPct: 39.1 },
    { mount: '/home', fs: 'ext4', total: 1099511627776, used: 549755813888, free: 549755813888, usedPct: 50 },
  ],
  net: [
    { iface: 'enp3s0', rxBps: 123456, txBps: 65432, rxErrors: 0, txErrors: 0, rxDropped: 1, txDropped: 0 },
    { iface: 'wlp2s0', rxBps: 1234, txBps: 543, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
  ],
  uptime: { seconds: 123456, bootTime: Date.now() - 123456000 },
  ping: [
    { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: 0.8, rttP95: 1.1, rttMax: 1.3 },
    { target: 'dichvucong.gov.vn', role: 'configured', sent: 4, lossPct: 25, rttMedian: 12.1, rttP95: 15.3, rttMax: 19.9 },
  ],
};

function run(label, fn, fresh = false) {
  const dir = tempDir('canh-sqlite-micro-');
  const file = join(dir, 'canh.db');
  // Reopen like the collector on its 2nd start (or after `canh credentials`): synchronous
  // is then NORMAL (better-sqlite3's WAL default). On a brand-new file it stays FULL.
  if (!fresh) openDatabase(file).close();
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  const sync = db.pragma('synchronous', { simple: true });
  const row = (i) => ({
    site: `s${i % 10}`,
    host: `h${i % 200}`,
    boot: 'bootbootboot',
    seq: i,
    t: Date.now(),
    tAgent: Date.now(),
    sent: Date.now(),
    received: Date.now(),
    skewMs: 0,
    interval: 15,
    metrics,
  });
  const t0 = process.hrtime.bigint();
  const excluded = fn(store, db, row) ?? 0n;
  const ms = Number(process.hrtime.bigint() - t0 - excluded) / 1e6;
  console.log(
    `${label.padEnd(52)} ${((ms * 1000) / N).toFixed(1).padStart(6)} µs/sample  ${Math.round((N * 1000) / ms)
      .toString()
      .padStart(7)} samples/s  (synchronous=${sync})`,
  );
  store.close?.();
}

console.log(`${N} samples, SQLite file under the OS temp dir`);
run('insertSample as the collector does (2 autocommits)', (s, _db, row) => {
  for (let i = 0; i < N; i++) s.insertSample(row(i));
});
run(
  'same, brand-new DB file (collector created it)',
  (s, _db, row) => {
    for (let i = 0; i < N; i++) s.insertSample(row(i));
  },
  true,
);
run('insertSample wrapped in one transaction each', (s, db, row) => {
  const tx = db.transaction((r) => s.insertSample(r));
  for (let i = 0; i < N; i++) tx(row(i));
});
for (const batch of [10, 100]) {
  run(`insertSample batched, ${batch} per transaction`, (s, db, row) => {
    const tx = db.transaction((rows) => {
      for (const r of rows) s.insertSample(r);
    });
    for (let i = 0; i < N; i += batch) tx(Array.from({ length: Math.min(batch, N - i) }, (_, k) => row(i + k)));
  });
}
// The collector's group commit (1,000 samples per transaction): SQLite's automatic
// checkpoint inside the COMMIT (the default), vs the WAL left to another connection
// (collector/store/wal-checkpoint.ts: the checkpoint worker; here a passive checkpoint on a
// second connection after each commit, outside the timing, as the worker does in its thread).
for (const offLoop of [false, true]) {
  run(`group commit, 1000 per transaction, checkpoint ${offLoop ? 'by another connection' : 'in the commit'}`, (s, db, row) => {
    const other = offLoop ? openDatabase(db.name) : undefined;
    if (offLoop) db.pragma('wal_autocheckpoint = 16384');
    let outside = 0n;
    for (let i = 0; i < N; i += 1000) {
      s.transaction(() => {
        for (let k = i; k < Math.min(i + 1000, N); k++) s.insertSample(row(k));
      });
      if (other) {
        const t = process.hrtime.bigint();
        other.pragma('wal_checkpoint(PASSIVE)');
        outside += process.hrtime.bigint() - t;
      }
    }
    other?.close();
    if (offLoop) console.log(`  (the other connection's checkpoints took ${(Number(outside) / 1e6).toFixed(0)} ms, not counted)`);
    return outside;
  });
}
await stopAll();
