#!/usr/bin/env node
// Agent vs prometheus-node-exporter: wake-ups and system calls, which (unlike CPU time) do
// not depend on what else the machine is doing. Same set-up as agent-vs-node-exporter.mjs
// (the real agent bundle, a collector, the HTTPS portal stand-in, node_exporter scraped at
// the agent's interval); then, per process:
//   1. a window without tracing: context switches per thread from /proc/<pid>/task/*/status
//      (voluntary = the thread slept and was woken: a wake-up), children included;
//   2. a window under `strace -f -qq -o FILE -p PID`: system calls per minute by kind and
//      by thread, and epoll_pwait/epoll_wait returns of the main thread (event-loop turns).
//
//   node bench/agent-wakeups.mjs
//   BENCH_SECONDS=60 BENCH_INTERVAL=5 BENCH_AGENT_NODE_FLAGS="--single-threaded-gc" node bench/agent-wakeups.mjs
//   BENCH_KEEP=1 …   (keep the temp dir: agent.strace and ne.strace, with -tt -y, for a closer look)
//   BENCH_AGENT_ENV='{"UV_THREADPOOL_SIZE":"1"}' …   (extra environment for the agent)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AGENT_BUNDLE, CLI, collectorEnv, canh, fmt, freePort, runMain, sleep, startProcess, table, tempDir, waitFor } from './lib.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const INTERVAL = Number(process.env.BENCH_INTERVAL ?? 5);
const NODE_EXPORTER = process.env.BENCH_NODE_EXPORTER ?? '/usr/bin/prometheus-node-exporter';
const AGENT_FLAGS = (process.env.BENCH_AGENT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const AGENT_ENV = JSON.parse(process.env.BENCH_AGENT_ENV ?? '{}');
const SITE = 'bench';
const HOST = 'agent1';

/** Threads of `pid` and of its descendants: tid → { comm, vol, invol, proc }. */
function switches(pid) {
  const out = new Map();
  const walk = (p, label) => {
    let tids;
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${p}/task/${tid}/status`, 'utf8');
        const comm = /^Name:\s*(.*)$/m.exec(s)[1];
        out.set(`${label}/${tid}`, {
          comm,
          proc: label,
          vol: Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(s)[1]),
          invol: Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(s)[1]),
        });
      } catch {
        // thread gone
      }
      try {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) walk(Number(c), `${label}>${c}`);
      } catch {
        // no children file
      }
    }
  };
  walk(pid, String(pid));
  return out;
}

function switchDelta(a, b) {
  const rows = [];
  for (const [k, v1] of b) {
    const v0 = a.get(k) ?? { vol: 0, invol: 0 };
    rows.push({ key: k, comm: v1.comm, proc: v1.proc, vol: v1.vol - v0.vol, invol: v1.invol - v0.invol });
  }
  return rows;
}

function strace(pid, file) {
  return spawn('strace', ['-f', '-qq', '-tt', '-y', '-o', file, '-p', String(pid)], { stdio: 'ignore' });
}

/** Parse `strace -f -o` output: counts by syscall, by tid, epoll waits of the main thread. */
function parseStrace(file, mainPid) {
  const bySys = new Map();
  const byTid = new Map();
  let mainWaits = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(?:[\d:.]+\s+)?(?:<\.\.\. )?([a-z_0-9]+)[( ]/.exec(line);
    if (!m || line.includes('resumed>') || / (\+\+\+|---) /.test(line)) continue;
    const tid = Number(m[1]);
    const sys = m[2];
    bySys.set(sys, (bySys.get(sys) ?? 0) + 1);
    byTid.set(tid, (byTid.get(tid) ?? 0) + 1);
    if (tid === mainPid && /^epoll_(p)?wait$/.test(sys)) mainWaits++;
  }
  return { bySys, byTid, mainWaits, total: [...bySys.values()].reduce((a, b) => a + b, 0) };
}

async function main() {
  if (!existsSync(CLI) || !existsSync(AGENT_BUNDLE)) throw new Error('dist missing: run npm run build');
  const dir = tempDir('canh-bench-wake-');
  const dataDir = join(dir, 'data');
  const cred = JSON.parse(canh(['credentials', 'add', '--data-dir', dataDir, '--site', SITE, '--host', HOST, '--json']));
  const [mqttPort, httpPort, nePort, portalPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  startProcess('collector', process.execPath, [CLI, 'collector'], { logFile: join(dir, 'collector.log'), env: collectorEnv({ dataDir, httpPort, mqttPort }) });
  const base = `http://127.0.0.1:${httpPort}`;
  // The HTTPS portal stand-in, as in agent-vs-node-exporter.mjs.
  const cert = join(dir, 'portal.crt');
  const key = join(dir, 'portal.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  const page = `<html>${'Cổng Dịch vụ công quốc gia '.repeat(2000)}</html>`;
  const portal = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => res.end(page));
  await new Promise((r) => portal.listen(portalPort, '127.0.0.1', r));
  portal.unref();
  await waitFor('collector HTTP', async () => {
    try {
      return (await fetch(`${base}/api/health`)).ok;
    } catch {
      return false;
    }
  });
  console.log(`agent-wakeups: ${SECONDS} s per window, interval ${INTERVAL} s, agent flags [${AGENT_FLAGS.join(' ')}], agent env ${JSON.stringify(AGENT_ENV)}, temp ${dir}`);
  const agent = startProcess('agent', process.execPath, [...AGENT_FLAGS, AGENT_BUNDLE], {
    logFile: join(dir, 'agent.log'),
    env: {
      ...process.env,
      ...AGENT_ENV,
      CANH_AGENT__SITE: SITE,
      CANH_AGENT__HOST: HOST,
      CANH_AGENT__STATE_DIR: join(dir, 'agent-state'),
      CANH_AGENT__INTERVAL_SECONDS: String(INTERVAL),
      CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${mqttPort}`,
      CANH_AGENT__MQTT__USERNAME: cred.username,
      CANH_AGENT__MQTT__PASSWORD: cred.password,
      CANH_AGENT__PING__GATEWAY: 'false',
      CANH_AGENT__PING__TARGETS: '["127.0.0.1"]',
      CANH_AGENT__HTTP__PROBES: JSON.stringify([{ name: 'dichvucong', url: `https://localhost:${portalPort}/` }]),
      NODE_EXTRA_CA_CERTS: cert,
    },
  });
  const ne = startProcess('node_exporter', NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`], { logFile: join(dir, 'node_exporter.log') });
  const neUrl = `http://127.0.0.1:${nePort}/metrics`;
  let scraping = true;
  const scrapeLoop = (async () => {
    let next = Date.now();
    while (scraping) {
      try {
        await (await fetch(neUrl)).arrayBuffer();
      } catch {
        // not up yet
      }
      next += INTERVAL * 1000;
      await sleep(Math.max(0, next - Date.now()));
    }
  })();
  const db = new Database(join(dataDir, 'canh.db'), { readonly: true, fileMustExist: true });
  try {
    await waitFor(
      'first agent sample stored',
      async () => {
        if (!agent.alive()) throw new Error(`agent exited:\n${agent.out()}`);
        return db.prepare('SELECT count(*) AS n FROM samples').get().n > 0;
      },
      60_000,
      200,
    );
    await sleep(2 * INTERVAL * 1000);

    // Window 1: context switches, untraced.
    const a0 = switches(agent.pid);
    const n0 = switches(ne.pid);
    await sleep(SECONDS * 1000);
    const a1 = switches(agent.pid);
    const n1 = switches(ne.pid);
    const perMin = (n) => fmt((n * 60) / SECONDS, 0);
    for (const [name, rows] of [
      ['agent', switchDelta(a0, a1)],
      ['node_exporter', switchDelta(n0, n1)],
    ]) {
      const byComm = new Map();
      for (const r of rows) {
        const k = `${r.proc === String(name === 'agent' ? agent.pid : ne.pid) ? '' : 'child '}${r.comm}`;
        const e = byComm.get(k) ?? { threads: 0, active: 0, vol: 0, invol: 0 };
        e.threads++;
        if (r.vol + r.invol > 0) e.active++;
        e.vol += r.vol;
        e.invol += r.invol;
        byComm.set(k, e);
      }
      const tot = rows.reduce((a, r) => ({ vol: a.vol + r.vol, invol: a.invol + r.invol }), { vol: 0, invol: 0 });
      console.log(`\n${name}: context switches per minute (untraced window), by thread name`);
      console.log(
        table([
          ['thread', 'threads', 'active', 'voluntary/min', 'involuntary/min'],
          ...[...byComm].map(([k, e]) => [k, e.threads, e.active, perMin(e.vol), perMin(e.invol)]),
          ['TOTAL', rows.length, rows.filter((r) => r.vol + r.invol > 0).length, perMin(tot.vol), perMin(tot.invol)],
        ]),
      );
      const top = rows.filter((r) => r.vol + r.invol > 0).sort((a, b) => b.vol - a.vol);
      console.log(
        `by thread (voluntary/min): ${top.map((r) => `${r.key.split('/')[1] === r.key.split('/')[0] ? 'main' : `${r.proc === r.key.split('/')[0] ? '' : 'child '}${r.key.split('/')[1]}`} ${perMin(r.vol)}`).join(', ')}`,
      );
      console.log(`SWITCHES ${name} voluntary/min ${perMin(tot.vol)} involuntary/min ${perMin(tot.invol)}`);
    }

    // Window 2: system calls under strace (both processes at once).
    const af = join(dir, 'agent.strace');
    const nf = join(dir, 'ne.strace');
    const sa = strace(agent.pid, af);
    const sn = strace(ne.pid, nf);
    await sleep(SECONDS * 1000);
    sa.kill('SIGINT');
    sn.kill('SIGINT');
    await Promise.all([sa, sn].map((s) => new Promise((r) => (s.exitCode !== null ? r() : s.once('exit', r)))));
    for (const [name, file, pid] of [
      ['agent', af, agent.pid],
      ['node_exporter', nf, ne.pid],
    ]) {
      const s = parseStrace(file, pid);
      console.log(`\n${name}: system calls per minute under strace -f (${SECONDS} s), top 25; threads making calls: ${s.byTid.size}`);
      console.log(
        table([
          ['syscall', 'per min'],
          ...[...s.bySys]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 25)
            .map(([k, v]) => [k, perMin(v)]),
          ['TOTAL', perMin(s.total)],
        ]),
      );
      console.log(`by thread: ${[...s.byTid].map(([t, n]) => `${t === pid ? 'main' : t} ${perMin(n)}`).join(', ')}`);
      console.log(`SYSCALLS ${name} total/min ${perMin(s.total)} main-thread epoll waits/min ${perMin(s.mainWaits)} threads ${s.byTid.size}`);
    }
    return 0;
  } finally {
    scraping = false;
    await scrapeLoop.catch(() => {});
    db.close();
  }
}

runMain(main);
