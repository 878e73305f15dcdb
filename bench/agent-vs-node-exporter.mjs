#!/usr/bin/env node
// Agent vs prometheus-node-exporter, side by side: CPU per sample/scrape and RSS.
//
//   npm run bench:agent
//   BENCH_SECONDS=120 BENCH_INTERVAL=5 node bench/agent-vs-node-exporter.mjs
//   BENCH_AGENT_NODE_FLAGS="--max-semi-space-size=1" …   (Node flags for the agent only)
//   BENCH_AGENT_PROBE=1 …   (preload bench/agent-mem-probe.mjs: heap vs external breakdown)
//   BENCH_AGENT_BUNDLE=/tmp/before/canh-agent.mjs …   (another build's agent bundle: before/after side by side)
//   BENCH_KEEP=1 …          (keep the temp dir with logs and the SQLite file)
//   BENCH_HTTP_PROBE=http|off …  (the agent's HTTP probe: https by default, like the shipped default)
//
// Network: everything on 127.0.0.1; the agent pings 127.0.0.1 only, no gateway, and its HTTP
// probe (on by default, the national portal over https) goes to a portal stand-in served here.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  AGENT_BUNDLE,
  CLI,
  collectorEnv,
  CLK_TCK,
  ROOT,
  canh,
  fmt,
  freePort,
  max,
  median,
  procCpu,
  procMem,
  procTreeCpu,
  procTreeCpuNs,
  runMain,
  sleep,
  startProcess,
  table,
  tempDir,
  waitFor,
} from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 5);
const WARMUP_INTERVALS = 2;
const RSS_TARGET_MB = 60;
const NODE_EXPORTER = process.env.BENCH_NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter';
const AGENT_FLAGS = (process.env.BENCH_AGENT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const PROBE = process.env.BENCH_AGENT_PROBE === '1';
const HTTP_PROBE = process.env.BENCH_HTTP_PROBE ?? 'https';
const SITE = 'bench';
const HOST = 'agent1';

async function main() {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build`);
  if (!existsSync(NODE_EXPORTER)) throw new Error(`${NODE_EXPORTER} missing`);
  const dir = tempDir('canh-bench-agent-');
  const dataDir = join(dir, 'data');
  const stateDir = join(dir, 'agent-state');
  console.log(`bench:agent  bundle ${AGENT_BUNDLE}, ${SECONDS} s measured after ${WARMUP_INTERVALS} warm-up intervals, interval ${INTERVAL} s, CLK_TCK ${CLK_TCK}, temp ${dir}`);
  if (AGENT_FLAGS.length) console.log(`agent node flags: ${AGENT_FLAGS.join(' ')}`);

  // Credential for the agent (per host), created with the CLI before the collector starts.
  const cred = JSON.parse(canh(['credentials', 'add', '--data-dir', dataDir, '--site', SITE, '--host', HOST, '--json']));

  const [mqttPort, httpPort, nePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const collector = startProcess('collector', process.execPath, [CLI, 'collector'], {
    logFile: join(dir, 'collector.log'),
    env: collectorEnv({ dataDir, httpPort, mqttPort, extra: { CANH_LOG_LEVEL: process.env.CANH_LOG_LEVEL ?? 'info' } }),
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const httpProbeEnv = await portalStandIn(HTTP_PROBE, dir, `${base}/api/health`);
  console.log(`agent HTTP probe: ${HTTP_PROBE}`);
  await waitFor('collector HTTP', async () => {
    if (!collector.alive()) throw new Error(`collector exited:\n${collector.out()}`);
    try {
      return (await fetch(`${base}/api/health`)).ok;
    } catch {
      return false;
    }
  });

  const probeFile = join(dir, 'agent-probe.json');
  // The agent as office PCs run it: the stand-alone bundle (`npm run build` makes it).
  if (!existsSync(AGENT_BUNDLE)) throw new Error(`${AGENT_BUNDLE} missing: run npm run build`);
  const agentArgs = [...AGENT_FLAGS, ...(PROBE ? ['--import', join(ROOT, 'bench/agent-mem-probe.mjs')] : []), AGENT_BUNDLE];
  const agent = startProcess('agent', process.execPath, agentArgs, {
    logFile: join(dir, 'agent.log'),
    env: {
      ...process.env,
      CANH_AGENT__SITE: SITE,
      CANH_AGENT__HOST: HOST,
      CANH_AGENT__STATE_DIR: stateDir,
      CANH_AGENT__INTERVAL_SECONDS: String(INTERVAL),
      CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
      CANH_AGENT__MQTT__USERNAME: cred.username,
      CANH_AGENT__MQTT__PASSWORD: cred.password,
      CANH_AGENT__PING__GATEWAY: 'false',
      CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
      ...httpProbeEnv,
      CANH_BENCH_PROBE_FILE: probeFile,
    },
  });

  const ne = startProcess('node_exporter', NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`], { logFile: join(dir, 'node_exporter.log') });
  const neUrl = `http://127.0.0.1:${nePort}/metrics`;
  await waitFor('node_exporter', async () => {
    if (!ne.alive()) throw new Error(`node_exporter exited:\n${ne.out()}`);
    try {
      const r = await fetch(neUrl);
      await r.arrayBuffer();
      return r.ok;
    } catch {
      return false;
    }
  });

  // Scrape loop, like Prometheus would: one GET per interval, body discarded.
  const scrapes = []; // completion times
  let scrapeErrors = 0;
  let scraping = true;
  let neBytes = 0;
  const scrapeLoop = (async () => {
    let next = Date.now();
    while (scraping) {
      try {
        const r = await fetch(neUrl);
        const b = await r.arrayBuffer();
        neBytes = b.byteLength;
        if (r.ok) scrapes.push(Date.now());
        else scrapeErrors++;
      } catch {
        scrapeErrors++;
      }
      next += INTERVAL * 1000;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();

  const dbFile = join(dataDir, 'canh.db');
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  const countSamples = db.prepare('SELECT count(*) AS n FROM samples WHERE site = ? AND host = ? AND t >= ? AND t < ?');
  const firstSample = db.prepare('SELECT min(t) AS t FROM samples WHERE site = ? AND host = ?');
  try {
    // Wait for the agent's first stored sample, then warm up.
    await waitFor(
      'first agent sample stored',
      async () => {
        if (!agent.alive()) throw new Error(`agent exited:\n${agent.out()}`);
        return firstSample.get(SITE, HOST).t !== null;
      },
      60_000,
      200,
    );
    console.log(`agent connected and storing; warming up ${WARMUP_INTERVALS * INTERVAL} s…`);
    await sleep(WARMUP_INTERVALS * INTERVAL * 1000);

    const w0 = Date.now();
    const load0 = loadavg()[0];
    // The agent's tree: itself, reaped children, and its live long-running ping.
    const a0 = procCpu(agent.pid);
    const t0 = procTreeCpu(agent.pid);
    const n0 = procCpu(ne.pid);
    const ta0 = procTreeCpuNs(agent.pid);
    const tn0 = procTreeCpuNs(ne.pid);
    const rss = { agent: [], ne: [], agentAnon: [], agentFile: [] };
    const probes = [];
    const sampleMem = () => {
      const am = procMem(agent.pid);
      rss.agent.push(am.rss);
      rss.agentAnon.push(am.anon);
      rss.agentFile.push(am.file);
      rss.ne.push(procMem(ne.pid).rss);
      if (PROBE)
        try {
          probes.push(JSON.parse(readFileSync(probeFile, 'utf8')));
        } catch {
          // no probe file (the agent was not probed this round)
        }
    };
    console.log(`measuring ${SECONDS} s…`);
    const end = w0 + SECONDS * 1000;
    let tick = w0;
    sampleMem();
    while (Date.now() < end) {
      tick += INTERVAL * 1000;
      await sleep(Math.max(0, Math.min(tick, end) - Date.now()));
      if (!agent.alive()) throw new Error(`agent exited during the run:\n${agent.out()}`);
      if (!ne.alive()) throw new Error(`node_exporter exited during the run:\n${ne.out()}`);
      if (Date.now() < end) sampleMem();
    }
    const w1 = Date.now();
    const load1 = loadavg()[0];
    const a1 = procCpu(agent.pid);
    const t1 = procTreeCpu(agent.pid);
    const n1 = procCpu(ne.pid);
    const ta1 = procTreeCpuNs(agent.pid);
    const tn1 = procTreeCpuNs(ne.pid);
    sampleMem();
    const nScrapes = scrapes.filter((t) => t >= w0 && t < w1).length;
    // Let the last sample of the window reach the store.
    await sleep(Math.min(3000, INTERVAL * 1000));
    const nSamples = countSamples.get(SITE, HOST, w0, w1).n;
    const totalStored = db.prepare('SELECT count(*) AS n FROM samples').get().n;

    const agentCpu = t1.total - t0.total;
    const agentSelf = a1.self - a0.self;
    const agentKids = agentCpu - agentSelf;
    const neCpu = n1.total - n0.total;
    const agentPer = agentCpu / nSamples;
    const nePer = neCpu / nScrapes;
    const aMed = median(rss.agent);
    const aMax = max(rss.agent);
    const nMed = median(rss.ne);
    const nMax = max(rss.ne);
    const win = (w1 - w0) / 1000;

    console.log('');
    console.log(
      table([
        ['', 'agent', 'node_exporter', 'ratio agent/ne'],
        ['window (s)', fmt(win), fmt(win), ''],
        ['samples / scrapes in window', nSamples, nScrapes, ''],
        ['CPU total (ms)', fmt(agentCpu, 0), fmt(neCpu, 0), fmt(agentCpu / neCpu, 2)],
        ['  of which own process (ms)', fmt(agentSelf, 0), fmt(n1.self - n0.self, 0), ''],
        ['  of which children/ping (ms)', fmt(agentKids, 0), fmt(n1.children - n0.children, 0), ''],
        ['CPU per sample / scrape (ms)', fmt(agentPer, 2), fmt(nePer, 2), fmt(agentPer / nePer, 2)],
        ['CPU per sample / scrape, ns clock (ms)', fmt((ta1 - ta0) / nSamples, 2), fmt((tn1 - tn0) / nScrapes, 2), fmt((ta1 - ta0) / nSamples / ((tn1 - tn0) / nScrapes), 2)],
        ['CPU % of one core', fmt((agentCpu / (win * 1000)) * 100, 2), fmt((neCpu / (win * 1000)) * 100, 2), ''],
        ['RSS median (MB)', fmt(aMed), fmt(nMed), fmt(aMed / nMed, 2)],
        ['RSS max (MB)', fmt(aMax), fmt(nMax), fmt(aMax / nMax, 2)],
        ['RSS anon / file median (MB)', `${fmt(median(rss.agentAnon))} / ${fmt(median(rss.agentFile))}`, '', ''],
      ]),
    );
    console.log(
      `(CPU from /proc/<pid>/stat utime+stime+cutime+cstime at ${CLK_TCK} ticks/s, resolution ${fmt(1000 / CLK_TCK, 0)} ms; ns clock: /proc/<tid>/schedstat of the live threads of the process and its live children; RSS = VmRSS sampled every ${INTERVAL} s, ${rss.agent.length} readings; node_exporter /metrics body ${(neBytes / 1024).toFixed(0)} KiB; scrape errors ${scrapeErrors}; samples stored in total ${totalStored}; load average ${fmt(load0)} → ${fmt(load1)} on ${cpus().length} cores)`,
    );
    if (HTTP_PROBE !== 'off') {
      // The probe really ran: its results are in the stored samples.
      const results = db
        .prepare('SELECT metrics FROM samples WHERE site = ? AND host = ? AND t >= ? AND t < ?')
        .all(SITE, HOST, w0, w1)
        .flatMap((r) => JSON.parse(r.metrics).http ?? []);
      const ok = results.filter((r) => r.ok);
      console.log(
        `HTTP probe (${HTTP_PROBE}) results in the window: ${results.length}, ok ${ok.length}, median total ${fmt(median(ok.map((r) => r.totalMs)), 1)} ms${results.length > ok.length ? `, errors: ${[...new Set(results.filter((r) => !r.ok).map((r) => r.error))].join(', ')}` : ''}`,
      );
    }
    if (PROBE && probes.length) {
      const mb = (k) => fmt(median(probes.map((p) => p[k] / 1048576)));
      const sp = probes.at(-1).spaces;
      console.log(
        `agent process.memoryUsage() medians (MB): rss ${mb('rss')}, heapTotal ${mb('heapTotal')}, heapUsed ${mb('heapUsed')}, external ${mb('external')}, arrayBuffers ${mb('arrayBuffers')}`,
      );
      console.log(
        `agent V8 heap spaces (MB, last): ${Object.entries(sp)
          .map(([k, v]) => `${k} ${fmt(v / 1048576)}`)
          .join(', ')}`,
      );
    }
    const errs = [collector, agent].flatMap((p) =>
      p
        .out()
        .split('\n')
        .filter((l) => /"level":(40|50|60)/.test(l))
        .map((l) => `${p.name}: ${l}`),
    );
    if (errs.length) console.log(`warnings/errors logged (${errs.length}, first 5):\n${errs.slice(0, 5).join('\n')}`);

    const cpuOk = nSamples > 0 && agentPer <= nePer;
    const rssOk = aMed <= RSS_TARGET_MB;
    const pass = cpuOk && rssOk;
    console.log('');
    console.log(
      `HEADLINE agent CPU/sample ${fmt(agentPer, 2)} ms vs node_exporter ${fmt(nePer, 2)} ms/scrape (ratio ${fmt(agentPer / nePer, 2)}, target <= 1.00; ns clock ${fmt((ta1 - ta0) / nSamples, 2)} vs ${fmt((tn1 - tn0) / nScrapes, 2)} ms, ratio ${fmt((ta1 - ta0) / nSamples / ((tn1 - tn0) / nScrapes), 2)}); ` +
        `agent RSS ${fmt(aMed)} MB median, ${fmt(aMax)} max (target <= ${RSS_TARGET_MB} MB): ${pass ? 'PASS' : `FAIL (${[cpuOk ? '' : 'CPU', rssOk ? '' : 'RSS'].filter(Boolean).join(', ')})`}`,
    );
    return pass ? 0 : 1;
  } finally {
    scraping = false;
    await scrapeLoop.catch(() => {});
    db.close();
  }
}

/**
 * The agent's HTTP probe target. `https` (default, as shipped: the national portal over
 * TLS, verified against the system CA store): a stand-in HTTPS portal in this process with
 * a fresh certificate the agent trusts through NODE_EXTRA_CA_CERTS; `http`: the
 * collector's health endpoint; `off`: no probe.
 */
async function portalStandIn(mode, dir, httpUrl) {
  if (mode === 'off') return { CANH_AGENT__HTTP__ENABLED: 'false' };
  if (mode === 'http') return { CANH_AGENT__HTTP__PROBES: JSON.stringify([{ name: 'collector', url: httpUrl }]) };
  const cert = join(dir, 'portal.crt');
  const key = join(dir, 'portal.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  const page = `<html>${'Cổng Dịch vụ công quốc gia '.repeat(2000)}</html>`; // ~60 KB: the probe reads its first 16 KiB
  const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => res.end(page));
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  server.unref();
  return { CANH_AGENT__HTTP__PROBES: JSON.stringify([{ name: 'dichvucong', url: `https://localhost:${port}/` }]), NODE_EXTRA_CA_CERTS: cert };
}

runMain(main);
