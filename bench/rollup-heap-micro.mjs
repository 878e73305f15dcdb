#!/usr/bin/env node
// Investigation aid for bench:collector-memory: the store worker's heap while it folds one
// minute of a province (N samples of 10,000 hosts in turn, bench/sim-agent.mjs bodies) into
// the rollups, per batch size (samples per transaction, collector/store/store-worker.ts
// ROLLUP_BATCH). The rollup runs in a worker thread with the store worker's resource limits,
// under the shipped heap flags; the worker isolate's largest committed heap is read from
// V8's --trace-gc lines, with its mark-compacts, wall and CPU time.
//   node bench/rollup-heap-micro.mjs [N=40000] [batch sizes=200,50]
//   ROLLUP_MICRO_YOUNG_MB=4   the worker's young generation limit (the store worker's: 8)
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { importDist, ROOT, tempDir, stopAll } from './lib.mjs';
import { sampleBody } from './sim-agent.mjs';

const N = Number(process.argv[2] ?? 40_000);
const BATCHES = (process.argv[3] ?? '200,50').split(',').map(Number);

/** In the child: fold `src` (a copy) in batches of `batch` in a worker; prints its outcome. */
async function fold(src, batch) {
  const file = `${src}-${batch}.db`;
  copyFileSync(src, file);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    (async () => {
      const { openDatabase } = await import(workerData.root + '/dist/collector/store/sqlite-store.js');
      const { SqliteHistory } = await import(workerData.root + '/dist/collector/store/sqlite-history.js');
      const { systemClock } = await import(workerData.root + '/dist/common/clock.js');
      const db = openDatabase(workerData.file, { cacheMiB: 4 });
      const h = new SqliteHistory(db, systemClock, {});
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      let samples = 0;
      for (;;) { const r = h.rollup(20000, workerData.batch); samples += r.samples; if (r.caughtUp || r.samples === 0) break; }
      const c = process.cpuUsage(c0);
      parentPort.postMessage({ samples, wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 });
    })();`;
  // The store worker's limits (collector/store/store-jobs.ts).
  // As the collector's worker pool does (collector/health/heap-growth.ts): the worker's own young generation.
  setFlagsFromString('--max-semi-space-size=0');
  const w = new Worker(code, {
    eval: true,
    workerData: { file, batch, root: ROOT },
    resourceLimits: { maxYoungGenerationSizeMb: Number(process.env.ROLLUP_MICRO_YOUNG_MB ?? 8), maxOldGenerationSizeMb: Number(process.env.ROLLUP_MICRO_OLD_MB ?? 256) },
  });
  const out = await new Promise((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
  await w.terminate();
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  console.log(`RESULT ${JSON.stringify({ batch, ...out })}`);
}

async function main() {
  const { openDatabase, SqliteStore } = await importDist('sqliteStore');
  const { SqliteHistory } = await importDist('sqliteHistory');
  const { systemClock } = await import(join(ROOT, 'dist/common/clock.js'));
  const src = join(tempDir('canh-rollup-micro-'), 'canh.db');
  const db = openDatabase(src, {});
  const store = new SqliteStore(db, src);
  new SqliteHistory(db, systemClock, {});
  const t0 = Date.now() - 600_000;
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const a = { site: `xa-${String(Math.floor((i % 10_000) / 20)).padStart(4, '0')}`, host: `pc-${i % 20}`, osBoot: t0 - 3600e3 };
      const seq = Math.floor(i / 10_000) + 1;
      const t = t0 + seq * 15_000 + (i % 10_000);
      store.insertSample({
        site: a.site,
        host: a.host,
        boot: 'boot',
        seq,
        t,
        tAgent: t,
        sent: t,
        received: t,
        skewMs: 0,
        interval: 15,
        metrics: sampleBody(a, 'boot', seq, t, 15).metrics,
      });
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const flags = ['--max-semi-space-size=8', '--heap-growing-percent=25', '--trace-gc'];
  console.log(`rollup-heap-micro: ${N} samples of 10,000 hosts, one worker per batch size, ${flags.join(' ')}`);
  for (const batch of BATCHES) {
    const r = spawnSync(process.execPath, [...flags, join(ROOT, 'bench/rollup-heap-micro.mjs')], {
      env: { ...process.env, ROLLUP_MICRO_FOLD: `${src}:${batch}` },
      encoding: 'utf8',
    });
    const lines = r.stdout.split('\n');
    const result = lines.find((l) => l.startsWith('RESULT '));
    if (!result) throw new Error(`batch ${batch}: ${r.stderr.slice(-2000)}`);
    // The worker's isolate is the one that is not the main thread's (first seen).
    const byIsolate = new Map();
    for (const l of lines) {
      const m = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (\S+).*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(l);
      if (!m) continue;
      const s = byIsolate.get(m[1]) ?? { committed: 0, markCompacts: 0 };
      s.committed = Math.max(s.committed, Number(m[4]), Number(m[6]));
      if (m[2] === 'Mark-Compact') s.markCompacts++;
      byIsolate.set(m[1], s);
    }
    const worker = [...byIsolate.values()].slice(1).sort((a, b) => b.committed - a.committed)[0] ?? { committed: NaN, markCompacts: NaN };
    const o = JSON.parse(result.slice(7));
    console.log(
      `batch ${String(batch).padStart(4)}: worker heap peak ${worker.committed.toFixed(1)} MB committed, ${worker.markCompacts} mark-compacts; ${o.samples} samples in ${(o.wallMs / 1000).toFixed(1)} s, CPU ${(o.cpuMs / 1000).toFixed(1)} s (${((1000 * o.cpuMs) / o.samples).toFixed(0)} µs a sample)`,
    );
  }
  await stopAll();
}

if (process.env.ROLLUP_MICRO_FOLD) {
  const i = process.env.ROLLUP_MICRO_FOLD.lastIndexOf(':');
  await fold(process.env.ROLLUP_MICRO_FOLD.slice(0, i), Number(process.env.ROLLUP_MICRO_FOLD.slice(i + 1)));
} else await main();
