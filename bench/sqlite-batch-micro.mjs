#!/usr/bin/env node
// Investigation aid for bench:ingest (issue 12): what the size of a group-commit transaction
// does to the store's cost per sample. HOSTS hosts (sites of 20) write ~1 KB samples in turn
// through the collector's own SqliteStore (dist), N per run, committed every B samples; a
// second connection runs a passive WAL checkpoint every 3,000 samples (the checkpoint
// worker's 200 ms at 15,000/s). Per sample: CPU of the writing thread (insert + commit), CPU
// of the checkpoint, and the WAL frames the checkpoint copied (the index pages a commit dirties
// are written again at every commit: one per host and index).
//
//   node bench/sqlite-batch-micro.mjs                 (B = 1000 and 4000, 3 rounds alternated)
//   HOSTS=10000 N=100000 BS=500,1000,4000 ROUNDS=3 node bench/sqlite-batch-micro.mjs
import { join } from 'node:path';
import { fmt, importDist, median, stopAll, table, tempDir } from './lib.mjs';
import { sampleText } from './sim-agent.mjs';

const HOSTS = Number(process.env.HOSTS ?? 200);
const N = Number(process.env.N ?? 60_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BS = (process.env.BS ?? '1000,4000').split(',').map(Number);
const CHECKPOINT_EVERY = 3000;

const { openDatabase, SqliteStore } = await importDist('sqliteStore');
const metricsText = JSON.stringify(JSON.parse(sampleText({ site: 's', host: 'h', osBoot: Date.now() - 3600e3 }, 'bench-boot', 1, Date.now(), 15, Date.now())).metrics);
const metrics = JSON.parse(metricsText);

function run(B) {
  const file = join(tempDir('canh-sqlite-batch-'), 'canh.db');
  openDatabase(file).close(); // as the collector's second start: synchronous NORMAL
  const db = openDatabase(file);
  const store = new SqliteStore(db, file);
  db.pragma('wal_autocheckpoint = 16384'); // as while the checkpoint worker runs
  const ck = openDatabase(file);
  const seqs = new Array(HOSTS).fill(0);
  const t0 = Date.now();
  let main = 0;
  let check = 0;
  let frames = 0;
  let lastCk = 0;
  let i = 0;
  while (i < N) {
    const c0 = process.cpuUsage();
    store.transaction(() => {
      for (let k = 0; k < B && i < N; k++, i++) {
        const h = i % HOSTS;
        const now = t0 + i;
        const row = { site: `xa-${String(Math.floor(h / 20)).padStart(4, '0')}`, host: `pc-${h % 20}`, boot: `boot-${h}-bench`, seq: seqs[h]++ };
        store.insertSample({ ...row, t: now, tAgent: now, sent: now, received: now, skewMs: 0, interval: 15, metrics }, metricsText);
      }
    });
    const c1 = process.cpuUsage(c0);
    main += c1.user + c1.system;
    if (i - lastCk >= CHECKPOINT_EVERY) {
      lastCk = i;
      const k0 = process.cpuUsage();
      frames += ck.pragma('wal_checkpoint(PASSIVE)')[0].checkpointed;
      const k1 = process.cpuUsage(k0);
      check += k1.user + k1.system;
    }
  }
  db.close();
  ck.close();
  return { main: main / N, check: check / N, frames: frames / N };
}

console.log(`sqlite-batch-micro  ${HOSTS} hosts, ${N} samples per run, transactions of ${BS.join(' / ')} samples, ${ROUNDS} rounds alternated`);
const res = new Map(BS.map((b) => [b, []]));
for (let r = 0; r < ROUNDS; r++) for (const b of BS) res.get(b).push(run(b));
const med = (b, k) => median(res.get(b).map((x) => x[k]));
console.log(
  table([
    ['samples per transaction', ...BS.map(String)],
    ['writer CPU per sample: insert + commit (µs)', ...BS.map((b) => fmt(med(b, 'main'), 1))],
    ['checkpoint CPU per sample (µs)', ...BS.map((b) => fmt(med(b, 'check'), 1))],
    ['WAL frames checkpointed per sample', ...BS.map((b) => fmt(med(b, 'frames'), 2))],
  ]),
);
const [a, z] = [BS[0], BS.at(-1)];
console.log(
  `HEADLINE store CPU per sample (writer + checkpoint) at ${z} vs ${a} per transaction: ${fmt((med(z, 'main') + med(z, 'check')) / (med(a, 'main') + med(a, 'check')), 2)}× (investigation aid, no target)`,
);
await stopAll();
