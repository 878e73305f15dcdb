#!/usr/bin/env node
// InfluxDB export throughput: simulated agents (bench/export-gen.mjs: mqtt.js 3.1.1, QoS 1,
// per-site credentials) → collector process (embedded broker, SQLite) with the InfluxDB
// writer on → VictoriaMetrics. Measures:
//   1. samples/s stored with the writer off, then on (same load),
//   2. points/s written into VictoriaMetrics (the writer's counter, checked against VM),
//   3. the spool's replay rate: VM stopped while the load runs ~20 s, then restarted.
//
//   npm run bench:export
//   BENCH_AGENTS=200 BENCH_SECONDS=30 BENCH_RATE=2000 node bench/export.mjs
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, ROOT, canh, collectorEnv, fmt, freePort, procMem, runMain, sleep, startProcess, table, tempDir, waitFor } from './lib.mjs';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const OUTAGE_S = Number(process.env.BENCH_OUTAGE_SECONDS ?? 20);
const HOSTS_PER_SITE = 20;
const WARMUP_S = 5;
const VM_BIN = process.env.CANH_VICTORIA_METRICS ?? '/usr/bin/victoria-metrics';

async function metric(httpPort, name, labels = '') {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const re = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

function startVm(dir, port) {
  return startProcess('vm', VM_BIN, [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${dir}`,
    '-retentionPeriod=100y',
    '-search.latencyOffset=0s',
    '-search.disableCache',
    '-dedup.minScrapeInterval=1ms',
    '-loggerLevel=WARN',
  ]);
}

async function vmHealthy(port) {
  await waitFor('victoria-metrics', async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok, 20_000);
}

async function vmCount(port, name) {
  await fetch(`http://127.0.0.1:${port}/internal/force_flush`).catch(() => undefined);
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/export`, { method: 'POST', body: new URLSearchParams({ 'match[]': `{__name__="${name}"}`, start: '0' }) });
  let n = 0;
  for (const l of (await res.text()).split('\n')) if (l.trim()) n += JSON.parse(l).values.length;
  return n;
}

/** One generator process; resolves when it is done. */
function runLoad(url, agents, dir, label, seconds) {
  const cfg = { url, rate: RATE, seconds, inflight: 10, agents };
  const h = startProcess(`gen-${label}`, process.execPath, [join(ROOT, 'bench/export-gen.mjs')], {
    env: { ...process.env, BENCH_GEN_CONFIG: JSON.stringify(cfg) },
    logFile: join(dir, `gen-${label}.log`),
    rawStdout: true,
  });
  let markReady;
  const readyP = new Promise((r) => (markReady = r));
  const done = new Promise((res) => {
    createInterface({ input: h.child.stdout }).on('line', (line) => {
      try {
        const m = JSON.parse(line);
        if (m.type === 'ready') markReady();
        if (m.type === 'done') res(m);
      } catch {
        // not a JSON line from the generator (its stderr noise)
      }
    });
    h.exited.then(() => res(undefined));
  });
  const ready = Promise.race([
    readyP,
    h.exited.then(() => {
      throw new Error(`load generator exited before it was ready:\n${h.out()}`);
    }),
  ]);
  return { h, ready, done };
}

async function startCollector(dir, label, vmPort) {
  const dataDir = join(dir, `data-${label}`);
  const agents = [];
  for (let s = 0; agents.length < AGENTS; s++) {
    const site = `xa-${String(s).padStart(3, '0')}`;
    const cred = JSON.parse(canh(['credentials', 'add', '--data-dir', dataDir, '--site', site, '--json']));
    for (let h = 0; h < HOSTS_PER_SITE && agents.length < AGENTS; h++)
      agents.push({ site, host: `pc-${String(h).padStart(2, '0')}`, username: cred.username, password: cred.password });
  }
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const env = collectorEnv({ dataDir, httpPort, mqttPort, extra: { CANH_COLLECTOR__LOG__LEVEL: 'warn' } });
  if (vmPort) {
    env.CANH_COLLECTOR__INFLUX__URL = `http://127.0.0.1:${vmPort}`;
    env.CANH_COLLECTOR__INFLUX__BUCKET = 'canh';
  }
  const c = startProcess(`collector-${label}`, process.execPath, [CLI, 'collector'], { env, logFile: join(dir, `collector-${label}.log`) });
  await waitFor('collector http', async () => (await fetch(`http://127.0.0.1:${httpPort}/api/health`).catch(() => undefined))?.ok, 20_000);
  return { c, httpPort, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, agents };
}

/** Runs the load against one collector; returns sustained samples/s stored and points/s exported. */
async function measured(dir, label, vmPort) {
  const col = await startCollector(dir, label, vmPort);
  const load = runLoad(col.mqttUrl, col.agents, dir, label, SECONDS);
  await load.ready;
  const series = [];
  const t0 = Date.now();
  let rss = 0;
  let finished = false;
  load.done.then(() => (finished = true));
  while (!finished) {
    await sleep(1000);
    series.push({
      t: (Date.now() - t0) / 1000,
      samples: await metric(col.httpPort, 'canh_ingest_accepted_total', 'kind="samples"'),
      points: vmPort ? await metric(col.httpPort, 'canh_influx_points_written_total') : 0,
    });
    rss = Math.max(rss, procMem(col.c.pid).rss);
  }
  const w = series.filter((s) => s.t >= WARMUP_S);
  const a = w[0];
  const b = w[w.length - 1];
  const dt = b.t - a.t;
  const result = { label, samplesPerS: (b.samples - a.samples) / dt, pointsPerS: (b.points - a.points) / dt, stored: b.samples, rssMb: rss, col };
  if (vmPort) {
    await waitFor(
      'writer drained',
      async () => (await metric(col.httpPort, 'canh_influx_backlog_points')) === 0 && (await metric(col.httpPort, 'canh_influx_queue_points')) === 0,
      60_000,
    );
    result.written = await metric(col.httpPort, 'canh_influx_points_written_total');
    result.vmCpu = await vmCount(vmPort, 'cpu_usage_pct');
    result.stored = await metric(col.httpPort, 'canh_ingest_accepted_total', 'kind="samples"');
  }
  return result;
}

async function main() {
  if (!existsSync(CLI)) throw new Error('dist/ missing: run `npm run build` first (npm run bench:export does)');
  if (!existsSync(VM_BIN)) throw new Error('victoria-metrics missing: install victoria-metrics: apt-get install -y victoria-metrics');
  const dir = tempDir('canh-bench-export-');
  const vmPort = await freePort();
  const vmDir = join(dir, 'vm');
  const vm = startVm(vmDir, vmPort);
  await vmHealthy(vmPort);

  console.log(`load: ${AGENTS} agents, ${RATE} samples/s offered, ${SECONDS} s per run`);
  const off = await measured(dir, 'off', undefined);
  await off.col.c.stop();
  const on = await measured(dir, 'on', vmPort);
  console.log(`writer on: ${on.written} points written, VictoriaMetrics holds ${on.vmCpu} cpu_usage_pct samples for ${on.stored} stored samples`);

  // Spool replay: VM down while the load runs, then restarted.
  const load = runLoad(
    on.col.mqttUrl,
    on.col.agents.map((a) => ({ ...a })),
    dir,
    'outage',
    OUTAGE_S,
  );
  await load.ready;
  await vm.stop();
  await load.done;
  await sleep(2000);
  const backlog = await metric(on.col.httpPort, 'canh_influx_backlog_points');
  const spoolBytes = await metric(on.col.httpPort, 'canh_influx_spool_bytes');
  const w0 = await metric(on.col.httpPort, 'canh_influx_points_written_total');
  // VictoriaMetrics back on the same data (stopAll() ends it with the other children).
  startVm(vmDir, vmPort);
  await vmHealthy(vmPort);
  const r0 = Date.now();
  // The writer's backoff (up to 30 s) delays the first retry; measure from the first point written.
  let firstAt;
  await waitFor(
    'spool replayed',
    async () => {
      const w = await metric(on.col.httpPort, 'canh_influx_points_written_total');
      if (firstAt === undefined && w > w0) firstAt = Date.now();
      return (await metric(on.col.httpPort, 'canh_influx_backlog_points')) === 0;
    },
    180_000,
    50,
  );
  const replayS = (Date.now() - (firstAt ?? r0)) / 1000;
  const replay = backlog / Math.max(replayS, 0.001);
  const retryWait = ((firstAt ?? r0) - r0) / 1000;
  await on.col.c.stop();

  console.log(
    table([
      ['run', 'samples/s stored', 'points/s into VM', 'collector RSS MB'],
      ['writer off', fmt(off.samplesPerS), '-', fmt(off.rssMb)],
      ['writer on', fmt(on.samplesPerS), fmt(on.pointsPerS), fmt(on.rssMb)],
    ]),
  );
  console.log(
    table([
      ['spool replay', 'value'],
      ['outage (s)', OUTAGE_S],
      ['backlog points', backlog],
      ['spool bytes', spoolBytes],
      ['wait for next retry (s)', fmt(retryWait)],
      ['drain time (s)', fmt(replayS, 2)],
      ['replay points/s', fmt(replay, 0)],
    ]),
  );
  const ratio = on.samplesPerS / off.samplesPerS;
  console.log(
    `HEADLINE export ${fmt(on.pointsPerS, 0)} points/s into VictoriaMetrics (writer on: ${fmt(on.samplesPerS, 0)} samples/s vs off: ${fmt(off.samplesPerS, 0)} samples/s, ratio ${fmt(ratio, 2)}); spool replay ${fmt(replay, 0)} points/s`,
  );
  return 0;
}

runMain(main);
