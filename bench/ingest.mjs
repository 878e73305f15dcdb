#!/usr/bin/env node
// Collector ingest throughput: N simulated agents → Mosquitto (Canh's production config,
// passwd + ACL exported by the CLI) → collector (separate process, external broker
// mode) → SQLite. Then the same stream into `mosquitto_sub` as the baseline.
//
//   npm run bench:ingest
//   BENCH_AGENTS=200 BENCH_SECONDS=30 BENCH_RATE=6000 node bench/ingest.mjs
//   BENCH_INFLIGHT=10      max unacknowledged QoS 1 publishes per client
//   BENCH_GEN_PROCS=1      generator processes (agents split between them)
//   BENCH_SKIP_BASELINE=1  skip the mosquitto_sub run
//   BENCH_KEEP=1           keep the temp dir (logs, SQLite file)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import {
  CLI, ROOT, canh, collectorEnv, fmt, freePort, max, median, procCpu, procMem, quantile, runMain, sleep, startMosquitto, startProcess, table, tempDir, waitFor,
} from './lib.mjs';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const RATE = Number(process.env.BENCH_RATE ?? 6000);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 10);
const GEN_PROCS = Math.max(1, Number(process.env.BENCH_GEN_PROCS ?? 1));
const HOSTS_PER_SITE = 20;
const TARGET_RATE = 5000;
const WARMUP_S = 5; // skipped at the start of the load when computing the sustained rate
const COOLDOWN_S = 2; // and at the end
const PRINT_EVERY_MS = Number(process.env.BENCH_PRINT_EVERY ?? 5) * 1000;
const COLLECTOR_FLAGS = (process.env.BENCH_COLLECTOR_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const DRAIN_STALL_MS = 15_000;
const DRAIN_MAX_MS = 180_000;

/** Start the generator processes; resolves when all are connected; `done` resolves with their totals. */
async function startGenerators(url, agents, dir, label) {
  const per = Math.ceil(agents.length / GEN_PROCS);
  const gens = [];
  for (let i = 0; i < GEN_PROCS; i++) {
    const mine = agents.slice(i * per, (i + 1) * per);
    if (!mine.length) continue;
    const cfg = { url, rate: (RATE * mine.length) / agents.length, seconds: SECONDS, inflight: INFLIGHT, agents: mine };
    const h = startProcess(`gen${i}`, process.execPath, [join(ROOT, 'bench/ingest-gen.mjs')], {
      env: { ...process.env, BENCH_GEN_CONFIG: JSON.stringify(cfg) },
      logFile: join(dir, `gen-${label}-${i}.log`),
      rawStdout: true,
    });
    const g = { h, last: { sent: 0, acked: 0, errors: 0 }, info: {} };
    g.ready = new Promise((res, rej) => {
      g.done = new Promise((resDone) => {
        createInterface({ input: h.child.stdout }).on('line', (line) => {
          let m;
          try {
            m = JSON.parse(line);
          } catch {
            return;
          }
          if (m.type === 'ready') res();
          else if (m.type === 'info') g.info = m;
          else if (m.type === 'progress') g.last = m;
          else if (m.type === 'done') {
            g.last = m;
            resDone(m);
          }
        });
        h.exited.then((e) => {
          rej(new Error(`generator ${i} exited before ready (${JSON.stringify(e)}):\n${h.out()}`));
          resDone(undefined);
        });
      });
    });
    gens.push(g);
  }
  await Promise.all(gens.map((g) => g.ready));
  return gens;
}

const genCpu = (r) => Object.entries(r.cpuPct).filter(([k]) => k.startsWith('generator')).reduce((a, [, v]) => a + v, 0);
const sum = (gens, k) => gens.reduce((a, g) => a + (g.last?.[k] ?? 0), 0);

/** Count at time `t` by linear interpolation over [{at, n}] points. */
function countAt(series, t) {
  if (!series.length) return NaN;
  if (t <= series[0].at) return series[0].n;
  for (let i = 1; i < series.length; i++) {
    const a = series[i - 1];
    const b = series[i];
    if (t <= b.at) return a.n + ((b.n - a.n) * (t - a.at)) / (b.at - a.at || 1);
  }
  return series.at(-1).n;
}

/**
 * Drive one run: start the generators, poll `count()` every second (and the process
 * stats), wait for the drain. Returns the series and totals.
 */
async function runLoad({ label, url, agents, dir, count, watch }) {
  const gens = await startGenerators(url, agents, dir, label);
  const t0 = Date.now();
  console.log(`[${label}] ${gens.length} generator process(es), ${agents.length} clients connected; publishing ${RATE}/s for ${SECONDS} s, in flight <= ${INFLIGHT}/client…`);
  const series = [{ at: t0, n: count() }];
  const stats = { rss: [], cpu0: {}, cpu1: {} };
  let genDone = false;
  const allDone = Promise.all(gens.map((g) => g.done)).then((r) => {
    genDone = true;
    return r;
  });
  const pids = () => ({ ...watch(), ...Object.fromEntries(gens.map((g, i) => [`generator${i}`, g.h.pid])) });
  const cpuOf = (pid) => {
    try {
      return pid ? procCpu(pid).total : NaN;
    } catch {
      return NaN;
    }
  };
  const cpuSnap = () => Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, cpuOf(pid)]));
  let lastPrint = 0;
  while (!genDone) {
    await Promise.race([sleep(1000), allDone]);
    const now = Date.now();
    series.push({ at: now, n: count(), acked: sum(gens, 'acked') });
    const w = watch();
    if (w.collector) stats.rss.push(procMem(w.collector).rss);
    if (!stats.cpu0.at && now - t0 >= WARMUP_S * 1000) stats.cpu0 = { at: now, ...cpuSnap() };
    if (now - t0 <= (SECONDS - COOLDOWN_S) * 1000) stats.cpu1 = { at: now, ...cpuSnap() };
    if (now - lastPrint >= PRINT_EVERY_MS) {
      lastPrint = now;
      console.log(`[${label}] t=${((now - t0) / 1000).toFixed(0)}s published(acked) ${sum(gens, 'acked')} stored ${series.at(-1).n}`);
    }
  }
  const done = (await allDone).filter(Boolean);
  const published = done.reduce((a, d) => a + d.acked, 0);
  const sent = done.reduce((a, d) => a + d.sent, 0);
  const pubErrors = done.reduce((a, d) => a + d.errors, 0);
  const genStart = Math.min(...done.map((d) => d.start));
  const pubEnd = Math.max(...done.map((d) => d.pubEnd));
  const genRate = sent / ((pubEnd - genStart) / 1000);
  const deferred = done.reduce((a, d) => a + d.deferred, 0);
  // Drain: until everything acknowledged to the publishers is counted, or no progress.
  const drainStart = Date.now();
  let lastChange = Date.now();
  for (;;) {
    const n = count();
    const prev = series.at(-1).n;
    series.push({ at: Date.now(), n });
    const w = watch();
    if (w.collector) stats.rss.push(procMem(w.collector).rss);
    if (n !== prev) lastChange = Date.now();
    if (n >= published) break;
    if (Date.now() - lastChange > DRAIN_STALL_MS || Date.now() - drainStart > DRAIN_MAX_MS) break;
    await sleep(250);
  }
  const final = count();
  // Time at which the count reached its final value (end of the drain).
  const reached = series.find((p) => p.n >= final)?.at ?? Date.now();
  const a = genStart + WARMUP_S * 1000;
  const b = pubEnd - COOLDOWN_S * 1000;
  const sustained = (countAt(series, b) - countAt(series, a)) / ((b - a) / 1000);
  const firstAt = series.find((p) => p.n > series[0].n)?.at ?? genStart;
  const overall = (final - series[0].n) / Math.max(0.001, (reached - Math.min(firstAt, genStart)) / 1000);
  // Largest gap between acknowledged-to-publisher and stored, from the 1-s progress points.
  let maxBacklog = 0;
  for (const p of series) if (p.acked !== undefined) maxBacklog = Math.max(maxBacklog, p.acked - (p.n - series[0].n));
  const rates1s = [];
  for (let i = 1; i < series.length; i++) {
    const p = series[i];
    const q = series[i - 1];
    if (q.at >= a && p.at <= b && p.at > q.at) rates1s.push(((p.n - q.n) * 1000) / (p.at - q.at));
  }
  const cpuPct = {};
  if (stats.cpu0.at && stats.cpu1.at && stats.cpu1.at > stats.cpu0.at) {
    for (const k of Object.keys(pids())) cpuPct[k] = ((stats.cpu1[k] - stats.cpu0[k]) / (stats.cpu1.at - stats.cpu0.at)) * 100;
  }
  return {
    label, series, published, sent, pubErrors, genRate, deferred, final: final - series[0].n, sustained, overall, genStart, pubEnd,
    backlogAtEnd: published - (countAt(series, pubEnd) - series[0].n), drainS: (reached - pubEnd) / 1000, rss: stats.rss, cpuPct, maxBacklog,
    minRate1s: rates1s.length ? Math.min(...rates1s) : NaN,
    msgBytes: gens[0].info.messageBytes,
  };
}

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
  const dir = tempDir('canh-bench-ingest-');
  const dataDir = join(dir, 'data');
  const mqDir = join(dir, 'mosquitto');
  console.log(`bench:ingest  ${AGENTS} agents, ${RATE} samples/s offered for ${SECONDS} s, QoS 1, in flight <= ${INFLIGHT}/client, temp ${dir}`);

  // Credentials: the collector's, and one per site (HOSTS_PER_SITE hosts each).
  const collectorCred = JSON.parse(canh(['credentials', 'add-collector', '--data-dir', dataDir, '--json']));
  const agents = [];
  const nSites = Math.ceil(AGENTS / HOSTS_PER_SITE);
  for (let s = 0; s < nSites; s++) {
    const site = `bench-s${s}`;
    const cred = JSON.parse(canh(['credentials', 'add', '--data-dir', dataDir, '--site', site, '--json']));
    for (let h = 0; h < HOSTS_PER_SITE && agents.length < AGENTS; h++) agents.push({ site, host: `pc-${String(h).padStart(2, '0')}`, username: cred.username, password: cred.password });
  }
  canh(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mqDir]);
  const mqFiles = { dir: mqDir, passwdFile: join(mqDir, 'passwd'), aclFile: join(mqDir, 'acl') };

  let mq = await startMosquitto({ ...mqFiles, logFile: join(dir, 'mosquitto.log') });
  const httpPort = await freePort();
  const collector = startProcess('collector', process.execPath, [...COLLECTOR_FLAGS, CLI, 'collector'], {
    logFile: join(dir, 'collector.log'),
    env: collectorEnv({ dataDir, httpPort, external: { url: mq.url, ...collectorCred } }),
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const metricsText = async () => (await fetch(`${base}/metrics`)).text();
  await waitFor('collector connected to mosquitto', async () => {
    if (!collector.alive()) throw new Error(`collector exited:\n${collector.out()}`);
    try {
      return /^canh_broker_connected(\{\})? 1$/m.test(await metricsText());
    } catch {
      return false;
    }
  }, 30_000, 200);
  await sleep(500); // let the SUBACK land

  const db = new Database(join(dataDir, 'canh.db'), { readonly: true, fileMustExist: true });
  const maxId = db.prepare('SELECT coalesce(max(id), 0) AS n FROM samples');
  let col;
  try {
    // ---- 1. collector --------------------------------------------------------------------
    col = await runLoad({
      label: 'collector',
      url: mq.url,
      agents,
      dir,
      count: () => maxId.get().n,
      watch: () => ({ collector: collector.pid, mosquitto: mq.pid }),
    });
    col.stored = db.prepare('SELECT count(*) AS n FROM samples').get().n;
    const lat = db.prepare('SELECT received - sent AS d FROM samples').pluck().all();
    const steadyLat = db.prepare('SELECT received - sent AS d FROM samples WHERE sent >= ? AND sent < ?').pluck().all(col.genStart + WARMUP_S * 1000, col.pubEnd - COOLDOWN_S * 1000);
    col.lat = { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: max(lat), sp50: quantile(steadyLat, 0.5), sp99: quantile(steadyLat, 0.99) };
    col.hosts = db.prepare('SELECT count(DISTINCT site || host) AS n FROM samples').get().n;
    const m = await metricsText();
    col.metrics = m.split('\n').filter((l) => /^canh_(ingest|samples|broker)/.test(l) && !/ 0$/.test(l));
    col.logProblems = collector.out().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    col.alive = collector.alive();
  } finally {
    db.close();
  }

  // ---- 2. baseline: mosquitto_sub --------------------------------------------------------
  let base2;
  if (process.env.BENCH_SKIP_BASELINE !== '1') {
    await collector.stop();
    // Fresh broker: the collector's persistent session would otherwise keep queueing.
    await mq.stop();
    mq = await startMosquitto({ ...mqFiles, logFile: join(dir, 'mosquitto-baseline.log') });
    const sub = startProcess('mosquitto_sub', '/usr/bin/mosquitto_sub', [
      '-h', '127.0.0.1', '-p', String(mq.port), '-u', collectorCred.username, '-P', collectorCred.password, '-i', 'bench-sub', '-t', 'canh/v1/#', '-q', '1',
    ], { rawStdout: true });
    let lines = 0;
    sub.child.stdout.on('data', (b) => {
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
    });
    await waitFor('mosquitto_sub subscribed', () => /bench-sub/.test(mq.out()), 10_000, 100);
    await sleep(500);
    if (!sub.alive()) throw new Error(`mosquitto_sub exited:\n${sub.out()}`);
    base2 = await runLoad({
      label: 'mosquitto_sub',
      url: mq.url,
      agents: agents.map((a) => ({ ...a })),
      dir,
      count: () => lines,
      watch: () => ({ collector: undefined, mosquitto: mq.pid, mosquitto_sub: sub.pid }),
    });
    base2.stored = lines;
    await sub.stop();
  }
  await mq.stop();

  // ---- report ------------------------------------------------------------------------
  const rssMed = median(col.rss);
  const rssMax = max(col.rss);
  const lost = col.published - col.stored;
  console.log('');
  console.log(`message size ${col.msgBytes} bytes; ${agents.length} clients in ${nSites} sites; collector alive at the end: ${col.alive}`);
  const rows = [
    ['', 'collector (SQLite)', ...(base2 ? ['mosquitto_sub'] : [])],
    ['generator rate achieved (msg/s)', fmt(col.genRate, 0), ...(base2 ? [fmt(base2.genRate, 0)] : [])],
    ['published (PUBACKed)', col.published, ...(base2 ? [base2.published] : [])],
    ['publish errors', col.pubErrors, ...(base2 ? [base2.pubErrors] : [])],
    ['stored / received', col.stored, ...(base2 ? [base2.stored] : [])],
    ['lost (published - stored)', lost, ...(base2 ? [base2.published - base2.stored] : [])],
    [`sustained rate, steady window (msg/s)`, fmt(col.sustained, 0), ...(base2 ? [fmt(base2.sustained, 0)] : [])],
    ['overall rate incl. drain (msg/s)', fmt(col.overall, 0), ...(base2 ? [fmt(base2.overall, 0)] : [])],
    ['backlog when publishing stopped', fmt(col.backlogAtEnd, 0), ...(base2 ? [fmt(base2.backlogAtEnd, 0)] : [])],
    ['max backlog during load (msgs)', fmt(col.maxBacklog, 0), ...(base2 ? [fmt(base2.maxBacklog, 0)] : [])],
    ['lowest 1-s rate in steady window (msg/s)', fmt(col.minRate1s, 0), ...(base2 ? [fmt(base2.minRate1s, 0)] : [])],
    ['drain time after publishing (s)', fmt(col.drainS), ...(base2 ? [fmt(base2.drainS)] : [])],
    ['latency p50 / p99 / max (ms)', `${fmt(col.lat.p50, 0)} / ${fmt(col.lat.p99, 0)} / ${fmt(col.lat.max, 0)}`, ...(base2 ? ['n/a'] : [])],
    ['latency p50 / p99 steady window (ms)', `${fmt(col.lat.sp50, 0)} / ${fmt(col.lat.sp99, 0)}`, ...(base2 ? ['n/a'] : [])],
    ['collector RSS median / max (MB)', `${fmt(rssMed)} / ${fmt(rssMax)}`, ...(base2 ? [''] : [])],
    ['CPU % of a core: collector', fmt(col.cpuPct.collector, 0), ...(base2 ? [''] : [])],
    ['CPU % of a core: mosquitto', fmt(col.cpuPct.mosquitto, 0), ...(base2 ? [fmt(base2.cpuPct.mosquitto, 0)] : [])],
    ['CPU % of a core: mosquitto_sub', '', ...(base2 ? [fmt(base2.cpuPct.mosquitto_sub, 0)] : [])],
    ['CPU % of a core: generator(s)', fmt(genCpu(col), 0), ...(base2 ? [fmt(genCpu(base2), 0)] : [])],
  ];
  console.log(table(rows));
  if (base2) console.log(`ratio collector/mosquitto_sub sustained rate: ${fmt(col.sustained / base2.sustained, 2)}`);
  const genShort = col.genRate < RATE * 0.95;
  if (genShort) console.log(`NOTE: the generator reached only ${fmt(col.genRate, 0)}/s of the ${RATE}/s asked (pacer found every client at its in-flight bound ${col.deferred} times): the load generator/broker, not necessarily the collector, limits this run (2 cores shared).`);
  console.log(`collector /metrics: ${col.metrics.join('; ')}`);
  if (col.logProblems.length) console.log(`collector warnings/errors (${col.logProblems.length}, first 5):\n${col.logProblems.slice(0, 5).join('\n')}`);
  if (col.hosts !== agents.length) console.log(`NOTE: samples from ${col.hosts} hosts, expected ${agents.length}`);

  const pass = col.sustained >= TARGET_RATE && lost === 0 && col.pubErrors === 0;
  console.log('');
  console.log(`HEADLINE ingest ${fmt(col.sustained, 0)} samples/s sustained, ${lost} lost (${col.stored}/${col.published} stored), p99 ${fmt(col.lat.p99, 0)} ms (target >= ${TARGET_RATE}/s, zero loss): ${pass ? 'PASS' : 'FAIL'}`);
  return pass ? 0 : 1;
}

runMain(main);
