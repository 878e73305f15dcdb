#!/usr/bin/env node
// The collector's memory with a province's hosts, V8's defaults vs the shipped settings
// (`health.heapGrowingPercent` and the node flags of the shipped launchers,
// collector/health/heap-growth.ts), side by side in one run (two collectors at once, same load).
//
//   npm run bench:collector-memory
//   BENCH_HOSTS=10000 BENCH_SECONDS=180 node bench/collector-memory.mjs
//   BENCH_COMPARE=0 …   only the shipped settings (one collector: half the load on the machine)
//
// Each collector (dist, its own process and SQLite file) is fed BENCH_HOSTS hosts in sites
// of 20, one ~1 KB sample per host every 15 s (667/s for 10,000), straight into its group
// commit (store, acks, outage tracker, alert windows, rollups: all but the MQTT sockets, as
// with an external broker, where the collector has one connection). The feed waits while the
// collector pushes back (its queue is full, as a broker connection would): what it could not
// take in time is shown as "behind", a machine too busy to keep up. RSS, heap used/total
// every 5 s after a 60 s warm-up; median and max per collector; CPU per sample.
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectorNodeFlags, fmt, max, median, procMem, ROOT, runMain, sleep, startProcess, table } from './lib.mjs';

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
  let waiting = false;
  const tickMs = 100;
  const start = Date.now();
  const due = () => Math.floor(((Date.now() - start) / 15_000) * HOSTS);
  // Paced by the wall clock, not by the timer count: a late timer sends what is due. A full
  // receive queue stops the feed until it has room (a broker connection waits the same way).
  setInterval(() => {
    if (waiting) return;
    for (const until = due(); fed < until && !waiting; fed++) {
      const a = agents[next];
      next = (next + 1) % HOSTS;
      a.seq++;
      const now = Date.now();
      const wait = submit(`canh/v1/${a.site}/${a.host}/samples`, { ...sampleBody(a, a.boot, a.seq, now, 15), sent: now });
      if (wait) {
        waiting = true;
        void wait.then(() => (waiting = false));
      }
    }
  }, tickMs);
  setInterval(() => {
    const m = process.memoryUsage();
    const c = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, fed, behind: due() - fed, cpuMs: (c.user + c.system) / 1000, pending: col.commit.pending() })}\n`,
    );
  }, 5000);
}

async function main() {
  const flags = await collectorNodeFlags();
  const compare = process.env.BENCH_COMPARE !== '0';
  console.log(
    `bench:collector-memory  ${HOSTS} hosts (${PER_SITE} per site) at 15 s (${Math.round(HOSTS / 15)} samples/s), ${SECONDS} s measured after ${WARMUP_S} s; ${compare ? 'two collectors at once' : 'one collector'}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const runs = [...(compare ? [{ name: "V8's defaults", growth: 0, flags: [] }] : []), { name: `shipped (25, ${flags.join(' ')})`, growth: 25, flags }].map((r) => {
    const p = startProcess(r.name, process.execPath, [...r.flags, join(ROOT, 'bench/collector-memory.mjs')], { env: { ...process.env, CHILD_GROWTH: String(r.growth) } });
    return { ...r, p, rss: [], heapUsed: [], heapTotal: [], fed: 0, behind: 0, cpu: [] };
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
        // CPU per sample over the measured part (the warm-up's start-up and status storm left out).
        r.cpu.push({ cpuMs: last.cpuMs, fed: last.fed });
        r.fed = last.fed;
        r.behind = last.behind;
      }
    }
  }
  const cpuPerSample = (r) => (r.cpu.length > 1 ? (r.cpu.at(-1).cpuMs - r.cpu[0].cpuMs) / Math.max(1, r.cpu.at(-1).fed - r.cpu[0].fed) : NaN);
  const row = (label, f) => [label, ...runs.map(f), ...(compare ? [''] : [])];
  const ratio = (f) => (compare ? [fmt(f(runs[1]) / f(runs[0]), 2)] : []);
  console.log(
    table([
      ['', ...runs.map((r) => r.name), ...(compare ? ['ratio'] : [])],
      ['RSS median (MB)', ...runs.map((r) => fmt(median(r.rss))), ...ratio((r) => median(r.rss))],
      ['RSS max (MB)', ...runs.map((r) => fmt(max(r.rss))), ...ratio((r) => max(r.rss))],
      row('heap total median (MB)', (r) => fmt(median(r.heapTotal))),
      row('heap used median (MB)', (r) => fmt(median(r.heapUsed))),
      ['CPU per sample (ms)', ...runs.map((r) => fmt(cpuPerSample(r), 3)), ...ratio(cpuPerSample)],
      row('samples fed', (r) => String(r.fed)),
      row('behind at the end (not taken in time)', (r) => String(r.behind)),
    ]),
  );
  const b = runs.at(-1);
  const ok = b.rss.length > 0 && max(b.rss) <= TARGET_MB;
  console.log(
    `HEADLINE collector with ${HOSTS} hosts: RSS max ${fmt(max(b.rss))} MB with the shipped settings${compare ? ` vs ${fmt(max(runs[0].rss))} MB with V8's defaults` : ''} (target <= ${TARGET_MB} MB): ${ok ? 'PASS' : 'FAIL'}${b.behind > HOSTS / 10 ? ` (the collector fell ${b.behind} samples behind: machine too busy, figures not representative)` : ''}`,
  );
}

if (process.env.CHILD_GROWTH !== undefined) await child();
else runMain(main);
