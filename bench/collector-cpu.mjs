#!/usr/bin/env node
// The collector's own CPU, in-process (no MQTT sockets, no load generators sharing the
// cores): what a sample costs from the group commit to the listeners, and what one alert
// evaluation costs with a province's hosts. Two builds side by side, runs alternated.
//
//   npm run bench:collector-cpu
//   BENCH_BASE=/path/to/other/checkout node bench/collector-cpu.mjs   (its dist/ built; compared run by run)
//   BENCH_BASE=. BENCH_BASE_NODE_FLAGS='--max-semi-space-size=16'      (Node flags compared: the base with its own)
// Both builds run with this build's launch environment (glibc's malloc thresholds, bench/lib.mjs
// collectorLaunchEnv): the code's CPU is compared, not the launchers (bench:collector-memory's
// BENCH_COMPARE=build: gives each build its own, for memory as shipped).
//   BENCH_RUNS=3  BENCH_SAMPLES=200000  BENCH_HOSTS=200  BENCH_ALERT_HOSTS=10000
//
// Ingest: BENCH_HOSTS hosts (sites of 20) send batches of 11 records (bench:ingest's mean) as
// fast as the group commit takes them (its back-pressure respected); the payloads are built
// before the clock starts. CPU µs per sample over all threads (process.cpuUsage: main,
// store worker: checkpoints and rollups), after 50,000 samples of warm-up; and the wall rate.
// Alerts: BENCH_ALERT_HOSTS hosts with a status and 4 samples each; one evaluation of all
// sites (what every 2-s tick did before `alerting.maxHostsPerEvaluation`) and the timer's
// tick (a slice, evaluated in chunks: each turn of the loop timed), medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectorLaunchEnv, collectorNodeFlags, fmt, median, ROOT, runMain, startProcess, table } from './lib.mjs';
import { sampleBody, statusBody } from './sim-agent.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200_000);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 200);
const ALERT_HOSTS = Number(process.env.BENCH_ALERT_HOSTS ?? 10_000);
const BATCH = 11;
const WARM = 50_000;
const PER_SITE = 20;

async function open(root, extra = {}) {
  const { Collector } = await import(join(root, 'dist/collector/collector.js'));
  const { CollectorConfigSchema } = await import(join(root, 'dist/collector/config.js'));
  const { silentLogger } = await import(join(root, 'dist/common/log.js'));
  const config = CollectorConfigSchema.parse({
    dataDir: mkdtempSync(join(tmpdir(), 'canh-bench-cpu-')),
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    health: { heapGrowingPercent: 25 },
    ...extra,
  });
  const col = await Collector.open(config, silentLogger());
  await col.start();
  col.benchDataDir = config.dataDir;
  return col;
}

function fleet(n, tag) {
  const t0 = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    site: `xa-${String(Math.floor(i / PER_SITE)).padStart(4, '0')}`,
    host: `pc-${i % PER_SITE}`,
    boot: `boot-${i}-${tag}`,
    osBoot: t0 - 3600_000,
    seq: 0,
  }));
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function births(col, agents) {
  for (const a of agents) {
    const now = Date.now();
    const body = statusBody(a, 'online', now);
    const w = col.commit.submit(`canh/v1/${a.site}/${a.host}/status`, Buffer.from(JSON.stringify(body)), { via: 'external' });
    if (w) await w;
    if (col.commit.pending() > 2000) await pause(20);
  }
}

async function child() {
  const root = process.env.CHILD_ROOT;
  const out = {};
  {
    const col = await open(root);
    const agents = fleet(HOSTS, 'cpu');
    await births(col, agents);
    const payloads = [];
    for (let i = 0; i < Math.ceil(SAMPLES / BATCH); i++) {
      const a = agents[i % HOSTS];
      const now = Date.now();
      const records = [];
      for (let k = 0; k < BATCH; k++) records.push({ ...sampleBody(a, a.boot, ++a.seq, now - (BATCH - k) * 1000, 15), sent: now });
      payloads.push([`canh/v1/${a.site}/${a.host}/samples`, Buffer.from(JSON.stringify({ v: 1, records }))]);
    }
    let fed = 0;
    let cpu0;
    let wall0;
    let fed0 = 0;
    for (let i = 0; i < payloads.length; i++) {
      const [topic, payload] = payloads[i];
      // Fresh `sent`, as an agent's send: no clock-skew path taken for a late payload.
      fed += BATCH;
      if (fed >= WARM && !cpu0) {
        cpu0 = process.cpuUsage();
        wall0 = performance.now();
        fed0 = fed;
      }
      const w = col.commit.submit(topic, payload, { via: 'external' });
      if (w) await w;
      else if ((i & 63) === 0) await new Promise((r) => setImmediate(r));
    }
    while (col.commit.pending() > 0) await pause(5);
    const c = process.cpuUsage(cpu0);
    const n = fed - fed0;
    out.ingestUs = (c.user + c.system) / n;
    out.ingestRate = n / ((performance.now() - wall0) / 1000);
    await col.stop();
    rmSync(col.benchDataDir, { recursive: true, force: true });
  }
  {
    const col = await open(root, { alerting: { evaluateSeconds: 600 } });
    const agents = fleet(ALERT_HOSTS, 'alert');
    await births(col, agents);
    for (let k = 0; k < 4; k++) {
      for (const a of agents) {
        const now = Date.now();
        const w = col.commit.submit(
          `canh/v1/${a.site}/${a.host}/samples`,
          Buffer.from(JSON.stringify({ ...sampleBody(a, a.boot, ++a.seq, now - (4 - k) * 15_000, 15), sent: now })),
          { via: 'external' },
        );
        if (w) await w;
        if (col.commit.pending() > 2000) await pause(20);
      }
    }
    while (col.commit.pending() > 0) await pause(20);
    const full = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      col.alerting.evaluateOnce();
      full.push(performance.now() - t);
      await pause(50);
    }
    // The timer's tick evaluates its slice in chunks, one per turn of the loop: each turn is
    // timed (what the loop is held for), and the tick's turns are waited for before the next.
    const svc = col.alerting;
    const turns = [];
    const evaluateOnce = svc.evaluateOnce.bind(svc);
    svc.evaluateOnce = (...args) => {
      const t = performance.now();
      try {
        return evaluateOnce(...args);
      } finally {
        turns.push(performance.now() - t);
      }
    };
    const perTick = [];
    for (let i = 0; i < 40; i++) {
      const n = turns.length;
      const t = performance.now();
      svc.tick(); // the timer's turn (private in TypeScript, plain JS here)
      turns[n] = performance.now() - t; // the first turn: the slice's choice and its first chunk
      while (svc.chunking) await pause(1);
      perTick.push(turns.length - n);
      await pause(10);
    }
    out.alertFullMs = median(full);
    out.alertTickMs = median(turns);
    out.alertTickMaxMs = Math.max(...turns);
    out.alertTurnsPerTick = median(perTick);
    await col.stop();
    rmSync(col.benchDataDir, { recursive: true, force: true });
  }
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}

async function main() {
  const flags = await collectorNodeFlags();
  const launchEnv = await collectorLaunchEnv();
  // The base may run with other Node flags (BENCH_BASE_NODE_FLAGS), to compare flags side by side.
  const baseFlags = process.env.BENCH_BASE_NODE_FLAGS !== undefined ? process.env.BENCH_BASE_NODE_FLAGS.split(/\s+/).filter(Boolean) : flags;
  const builds = [
    { name: 'this build', root: ROOT, flags },
    ...(process.env.BENCH_BASE
      ? [{ name: `base (${process.env.BENCH_BASE}${baseFlags === flags ? '' : ` ${baseFlags.join(' ')}`})`, root: resolve(process.env.BENCH_BASE), flags: baseFlags }]
      : []),
  ];
  console.log(
    `bench:collector-cpu  ${RUNS} run(s) per build, alternated; ingest ${SAMPLES} samples of ${HOSTS} hosts (batches of ${BATCH}); alerts with ${ALERT_HOSTS} hosts; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const results = builds.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    for (let b = builds.length - 1; b >= 0; b--) {
      const p = startProcess(`cpu-${b}-${r}`, process.execPath, [...builds[b].flags, join(ROOT, 'bench/collector-cpu.mjs')], {
        env: { ...process.env, ...launchEnv, CHILD_ROOT: builds[b].root },
      });
      const exit = await p.exited;
      const line = p
        .out()
        .split('\n')
        .find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`${builds[b].name} run ${r + 1} failed (${JSON.stringify(exit)}):\n${p.out().slice(-3000)}`);
      const res = JSON.parse(line.slice(7));
      results[b].push(res);
      console.log(`[${builds[b].name} run ${r + 1}] ${JSON.stringify(res)}`);
    }
  }
  const med = (b, k) => median(results[b].map((x) => x[k]));
  const col = (k, d) => builds.map((_, b) => fmt(med(b, k), d));
  const ratio = (k) => (builds.length > 1 ? [fmt(med(0, k) / med(1, k), 2)] : []);
  console.log(
    table([
      ['median of runs', ...builds.map((x) => x.name), ...(builds.length > 1 ? ['ratio'] : [])],
      ['ingest CPU per sample, all threads (µs)', ...col('ingestUs', 1), ...ratio('ingestUs')],
      ['ingest rate, one core for the collector (samples/s)', ...col('ingestRate', 0), ...ratio('ingestRate')],
      [`one alert evaluation of all ${ALERT_HOSTS} hosts (ms)`, ...col('alertFullMs', 0), ...ratio('alertFullMs')],
      ["the alert timer's tick: one turn of the loop (ms)", ...col('alertTickMs', 1), ...ratio('alertTickMs')],
      ["the alert timer's longest turn (ms)", ...col('alertTickMaxMs', 0), ...ratio('alertTickMaxMs')],
      ["the alert timer's turns per tick", ...col('alertTurnsPerTick', 0), ...ratio('alertTurnsPerTick')],
    ]),
  );
  const tick = med(0, 'alertTickMs');
  console.log(`HEADLINE alert timer's turn of the loop ${fmt(tick, 1)} ms median with ${ALERT_HOSTS} hosts (target <= 50 ms on the loop): ${tick <= 50 ? 'PASS' : 'FAIL'}`);
}

if (process.env.CHILD_ROOT) await child();
else runMain(main);
