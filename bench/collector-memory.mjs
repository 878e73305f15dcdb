#!/usr/bin/env node
// The collector's memory with a province's hosts, V8's heap heuristic vs the shipped
// `health.heapGrowingPercent`, side by side in one run (two collectors at once, same load).
//
//   npm run bench:collector-memory
//   BENCH_HOSTS=10000 BENCH_SECONDS=180 node bench/collector-memory.mjs
//
// Each collector (dist, its own process and SQLite file) is fed BENCH_HOSTS hosts in sites
// of 20, one ~1 KB sample per host every 15 s (667/s for 10,000), straight into its group
// commit (store, acks, outage tracker, alert windows, rollups: all but the MQTT sockets, as
// with an external broker, where the collector has one connection). RSS, heap used/total
// every 5 s after a 60 s warm-up; median and max per collector.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, max, median, procMem, ROOT, runMain, sleep, startProcess, table } from './lib.mjs';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 180);
const WARMUP_S = 60;
const PER_SITE = 20;
const TARGET_MB = 300;

async function child() {
  const { Collector } = await import(join(ROOT, 'dist/collector/collector.js'));
  const { CollectorConfigSchema } = await import(join(ROOT, 'dist/collector/config.js'));
  const { silentLogger } = await import(join(ROOT, 'dist/common/log.js'));
  const { sampleBody } = await import('./sim-agent.mjs');
  const dataDir = mkdtempSync(join(tmpdir(), 'canh-bench-mem-'));
  const growth = Number(process.env.CHILD_GROWTH);
  const config = CollectorConfigSchema.parse({
    dataDir,
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    health: { heapGrowingPercent: growth },
  });
  const col = await Collector.open(config, silentLogger());
  await col.start();
  const t0 = Date.now();
  const agents = [];
  for (let i = 0; i < HOSTS; i++) {
    const site = `xa-${String(Math.floor(i / PER_SITE)).padStart(4, '0')}`;
    agents.push({ site, host: `pc-${i % PER_SITE}`, boot: `boot-${i}-mem`, osBoot: t0 - 3600_000, seq: 0 });
  }
  const submit = (topic, body) => col.commit.submit(topic, Buffer.from(JSON.stringify(body)), { via: 'external' });
  for (const a of agents) {
    const now = Date.now();
    submit(`canh/v1/${a.site}/${a.host}/status`, {
      v: 1,
      site: a.site,
      host: a.host,
      boot: a.boot,
      seq: 0,
      t: now,
      sent: now,
      state: 'online',
      hostname: a.host,
      agentVersion: 'bench',
      keepalive: 10,
      osBoot: a.osBoot,
    });
    if (col.commit.pending() > 2000) await sleep(50);
  }
  let next = 0;
  let fed = 0;
  const tickMs = 100;
  const start = Date.now();
  // Paced by the wall clock, not by the timer count: a late timer sends what is due.
  setInterval(() => {
    const due = Math.floor(((Date.now() - start) / 15_000) * HOSTS);
    for (; fed < due; fed++) {
      const a = agents[next];
      next = (next + 1) % HOSTS;
      a.seq++;
      const now = Date.now();
      submit(`canh/v1/${a.site}/${a.host}/samples`, { ...sampleBody(a, a.boot, a.seq, now, 15), sent: now });
    }
  }, tickMs);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, fed, pending: col.commit.pending() })}\n`);
  }, 5000);
}

async function main() {
  console.log(
    `bench:collector-memory  ${HOSTS} hosts (${PER_SITE} per site) at 15 s (${Math.round(HOSTS / 15)} samples/s), ${SECONDS} s measured after ${WARMUP_S} s; two collectors at once`,
  );
  const runs = [
    { name: "V8's heuristic (0)", growth: 0 },
    { name: 'shipped (25)', growth: 25 },
  ].map((r) => {
    const p = startProcess(r.name, process.execPath, [join(ROOT, 'bench/collector-memory.mjs')], { env: { ...process.env, CHILD_GROWTH: String(r.growth) } });
    return { ...r, p, rss: [], heapUsed: [], heapTotal: [], fed: 0 };
  });
  const t0 = Date.now();
  while (Date.now() - t0 < (WARMUP_S + SECONDS) * 1000) {
    await sleep(5000);
    for (const r of runs) {
      if (!r.p.alive()) throw new Error(`${r.name} exited:\n${r.p.out().slice(-2000)}`);
      if (Date.now() - t0 < WARMUP_S * 1000) continue;
      const lines = r.p
        .out()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      const last = lines.length ? JSON.parse(lines[lines.length - 1]) : undefined;
      r.rss.push(procMem(r.p.pid).rss); // MB
      if (last) {
        r.heapUsed.push(last.heapUsed / 1048576);
        r.heapTotal.push(last.heapTotal / 1048576);
        r.fed = last.fed;
      }
    }
  }
  const [a, b] = runs;
  console.log(
    table([
      ['', a.name, b.name, 'ratio'],
      ['RSS median (MB)', fmt(median(a.rss)), fmt(median(b.rss)), fmt(median(b.rss) / median(a.rss), 2)],
      ['RSS max (MB)', fmt(max(a.rss)), fmt(max(b.rss)), fmt(max(b.rss) / max(a.rss), 2)],
      ['heap total median (MB)', fmt(median(a.heapTotal)), fmt(median(b.heapTotal)), ''],
      ['heap used median (MB)', fmt(median(a.heapUsed)), fmt(median(b.heapUsed)), ''],
      ['samples fed', String(a.fed), String(b.fed), ''],
    ]),
  );
  const ok = b.rss.length > 0 && max(b.rss) <= TARGET_MB;
  console.log(
    `HEADLINE collector with ${HOSTS} hosts: RSS max ${fmt(max(b.rss))} MB with health.heapGrowingPercent 25 vs ${fmt(max(a.rss))} MB with V8's heuristic (target <= ${TARGET_MB} MB): ${ok ? 'PASS' : 'FAIL'}`,
  );
}

if (process.env.CHILD_GROWTH !== undefined) await child();
else runMain(main);
