#!/usr/bin/env node
// The collector's memory with a province's hosts, V8's defaults vs the shipped settings
// (`health.heapGrowingPercent` and the node flags of the shipped launchers,
// collector/health/heap-growth.ts), side by side in one run (two collectors at once, same load).
//
//   npm run bench:collector-memory
//   BENCH_HOSTS=10000 BENCH_SECONDS=60 node bench/collector-memory.mjs   (300 s in all with the power cut)
//   BENCH_COMPARE=0 …   only the shipped settings (one collector: half the load on the machine)
//   BENCH_COMPARE=env:MALLOC_ARENA_MAX=2 …   the shipped settings, without and with these env vars
//   BENCH_COMPARE='flags:--optimize-for-size' …   the shipped settings, without and with more node flags
//   BENCH_COMPARE='config:{"ingest":{"batchMessages":250}}' …   the shipped settings, without and with these config keys
//   BENCH_COMPARE=build:/path/to/other/checkout …   the shipped settings, that checkout's dist
//                                                 (built, node_modules beside it; its own launch
//                                                 environment, COLLECTOR_MALLOC_ENV) vs this one
//   BENCH_COLLECTOR_MALLOC_ENV=0 …   this build without its malloc environment (bench/lib.mjs)
//   BENCH_POWER_S=0 …   no power cut (steady only)
//   BENCH_DIAG=1 …   at the end of each phase: where each collector's anonymous memory is (/proc smaps)
//   BENCH_TRACE=file …   every 5-s reading of every collector, one JSON line each
//
// Each collector (dist, its own process and SQLite file) is fed BENCH_HOSTS hosts in sites
// of 20, one ~1 KB sample per host every 15 s (667/s for 10,000), straight into its group
// commit (store, acks, outage tracker, alert windows, rollups: all but the MQTT sockets, as
// with an external broker, where the collector has one connection). The feed waits while the
// collector pushes back (its queue is full, as a broker connection would): what it could not
// take in time is shown as "behind", a machine too busy to keep up. RSS, heap used/total
// every 5 s after the warm-up; median and max per collector and phase, the peak (VmHWM, reset
// after the warm-up); CPU per sample. The alert windows (11 min) are not yet full in 5 min:
// a collector running for longer holds ~1 KB more per host in them (at 10,000 hosts ~11 MB).
//
// Phases: warm-up (45 s), steady (BENCH_SECONDS, 60), then a power cut as bench:province
// makes it (bench/sim-agent.mjs powerCut/powerRestore): 30 % of the sites (3 of every 10) lose
// power at once, their PCs' Last Wills "offline" arrive together (retained status, the
// session's connect time, contract/schemas.ts), they stay silent BENCH_POWER_S (120), then
// come back in a new agent and OS boot: birth status, the `outage` event of the new boot,
// samples again; measured BENCH_BACK_S (75) after (outages closing, site incidents resolving
// after outage.settleSeconds, notifications and the province digest to a local webhook sink).
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { join } from 'node:path';
import { anonMap, collectorLaunchEnv, collectorNodeFlags, DIST, fmt, max, median, procMem, ROOT, runMain, sleep, startProcess, table, webhookSink } from './lib.mjs';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 45);
const POWER_S = Number(process.env.BENCH_POWER_S ?? 120);
const BACK_S = POWER_S > 0 ? Number(process.env.BENCH_BACK_S ?? 75) : 0;
const POWER_SHARE = 0.3;
/** Phases by time since the child started (s): [name, end]. */
const PHASES = [
  ['warm-up', WARMUP_S],
  ['steady', WARMUP_S + SECONDS],
  ...(POWER_S > 0
    ? [
        ['power off', WARMUP_S + SECONDS + POWER_S],
        ['power back', WARMUP_S + SECONDS + POWER_S + BACK_S],
      ]
    : []),
];
const TOTAL_S = PHASES.at(-1)[1];
const phaseAt = (s) => (PHASES.find(([, end]) => s < end) ?? PHASES.at(-1))[0];
const PER_SITE = 20;
const TARGET_MB = 300;

async function child() {
  const root = process.env.CHILD_ROOT || ROOT;
  const { Collector } = await import(join(root, 'dist/collector/collector.js'));
  const { CollectorConfigSchema } = await import(join(root, 'dist/collector/config.js'));
  const { silentLogger } = await import(join(root, 'dist/common/log.js'));
  const { sampleBody, statusBody } = await import('./sim-agent.mjs');
  const dataDir = mkdtempSync(join(tmpdir(), 'canh-bench-mem-'));
  // Stopped by the bench (SIGTERM): its database goes with it (~100 MB a run).
  process.once('SIGTERM', () => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
  const growth = Number(process.env.CHILD_GROWTH);
  const config = CollectorConfigSchema.parse({
    dataDir,
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    health: { heapGrowingPercent: growth },
    // As bench:province: one webhook channel to the bench's sink, a rate limit it never meets.
    ...JSON.parse(process.env.CHILD_CONFIG ?? '{}'),
    ...(process.env.CHILD_SINK ? { notify: { channels: [{ type: 'webhook', name: 'sink', url: process.env.CHILD_SINK, rateLimit: { perMinute: 100_000, burst: 10_000 } }] } } : {}),
  });
  const col = await Collector.open(config, silentLogger());
  await col.start();
  const t0 = Date.now();
  const agents = [];
  for (let i = 0; i < HOSTS; i++) {
    const site = `xa-${String(Math.floor(i / PER_SITE)).padStart(4, '0')}`;
    agents.push({ site, host: `pc-${i % PER_SITE}`, boot: `boot-${i}-mem`, osBoot: t0 - 3600_000, seq: 0, connectedAt: t0, off: false, n: 0 });
  }
  const submit = (topic, body) => col.commit.submit(topic, Buffer.from(JSON.stringify(body)), { via: 'external' });
  /** Submit and wait while the collector pushes back (as a broker connection does). */
  const submitWaiting = async (topic, body) => {
    const wait = submit(topic, body);
    if (wait) await wait;
  };
  for (const a of agents) {
    submit(`canh/v1/${a.site}/${a.host}/status`, statusBody(a, 'online', Date.now()));
    if (col.commit.pending() > 2000) await sleep(50);
  }
  let next = 0;
  let fed = 0;
  let sent = 0;
  let waiting = false;
  const tickMs = 100;
  const start = Date.now();
  const due = () => Math.floor(((Date.now() - start) / 15_000) * HOSTS);
  // Paced by the wall clock, not by the timer count: a late timer sends what is due. A full
  // receive queue stops the feed until it has room (a broker connection waits the same way).
  // A PC without power sends nothing (its slot passes).
  setInterval(() => {
    if (waiting) return;
    for (const until = due(); fed < until && !waiting; fed++) {
      const a = agents[next];
      next = (next + 1) % HOSTS;
      if (a.off) continue;
      a.seq++;
      sent++;
      const now = Date.now();
      const wait = submit(`canh/v1/${a.site}/${a.host}/samples`, { ...sampleBody(a, a.boot, a.seq, now, 15), sent: now });
      if (wait instanceof Promise) {
        waiting = true;
        void wait.then(() => (waiting = false));
      }
    }
  }, tickMs);
  const sitesN = Math.ceil(HOSTS / PER_SITE);
  // 3 of every 10 sites, as bench:province.
  const cut = agents.filter((a) => Number(a.site.slice(3)) % 10 < POWER_SHARE * 10);
  if (POWER_S > 0) {
    setTimeout(
      () =>
        void (async () => {
          // The sockets die without DISCONNECT: the broker publishes every cut PC's Last Will.
          for (const a of cut) a.off = true;
          const cutAt = Date.now();
          for (const a of cut) {
            a.cutAt = cutAt;
            await submitWaiting(`canh/v1/${a.site}/${a.host}/status`, statusBody(a, 'offline', a.connectedAt) /* the will: the session's connect time */);
          }
          process.stdout.write(`${JSON.stringify({ note: `power cut: ${cut.length} PCs of ${Math.ceil(cut.length / PER_SITE)} of ${sitesN} sites` })}\n`);
        })(),
      (WARMUP_S + SECONDS) * 1000 - (Date.now() - t0),
    );
    setTimeout(
      () =>
        void (async () => {
          // Power back (sim-agent.mjs powerRestore): a new OS boot ~20 s ago, a new agent boot,
          // its birth, the `outage` event (seq 0 of the new boot), then samples from seq 1.
          for (const a of cut) {
            const now = Date.now();
            const previousRun = a.boot;
            const previousOsBoot = a.osBoot;
            a.osBoot = Math.max(a.cutAt + 1000, now - 20_000);
            a.boot = `${a.boot.split('_')[0]}_${now.toString(36)}`;
            a.seq = 0;
            a.connectedAt = now;
            await submitWaiting(`canh/v1/${a.site}/${a.host}/status`, statusBody(a, 'online', now));
            const end = a.osBoot;
            await submitWaiting(`canh/v1/${a.site}/${a.host}/events`, {
              v: 1,
              site: a.site,
              host: a.host,
              boot: a.boot,
              seq: 0,
              t: now,
              sent: now,
              type: 'outage',
              severity: 'critical',
              message: 'power lost (PC restarted without shutting down)',
              start: a.cutAt,
              end,
              details: {
                evidence: 'none',
                scope: 'host',
                cause: 'power_loss',
                uncertaintyMs: 15_000,
                durationMs: end - a.cutAt,
                previousRun,
                lastHeartbeat: a.cutAt,
                previousOsBoot,
                osBoot: end,
              },
            });
            a.off = false;
          }
          process.stdout.write(`${JSON.stringify({ note: `power back: ${cut.length} PCs` })}\n`);
        })(),
      (WARMUP_S + SECONDS + POWER_S) * 1000 - (Date.now() - t0),
    );
  }
  setInterval(() => {
    const m = process.memoryUsage();
    const c = process.cpuUsage();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name.replace('_space', ''), Math.round(x.space_size / 1048576)]));
    process.stdout.write(
      `${JSON.stringify({
        phase: phaseAt((Date.now() - t0) / 1000),
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
        fed,
        sent,
        behind: due() - fed,
        cpuMs: (c.user + c.system) / 1000,
        pending: col.commit.pending(),
        ...outageCounts(col),
        threads: readdirSync('/proc/self/task').length,
        spaces,
      })}\n`,
    );
  }, 5000);
}

/** Host outages and site incidents (all / open), read from the collector's database (for the report). */
function outageCounts(col) {
  try {
    const one = (sql) => col.db.prepare(sql).pluck().get();
    return {
      outages: one('SELECT count(*) FROM outage_host'),
      outagesOpen: one('SELECT count(*) FROM outage_host WHERE "end" IS NULL'),
      incidents: one('SELECT count(*) FROM outage_incident'),
      incidentsOpen: one("SELECT count(*) FROM outage_incident WHERE state = 'open'"),
    };
  } catch {
    return {};
  }
}

/** A local HTTP sink for the collectors' webhook channel: messages per run (path) and kind. */
async function notificationCounts() {
  const got = new Map();
  const sink = await webhookSink((run, body) => {
    let kind = 'unparsable';
    try {
      const j = JSON.parse(body);
      kind = j.province ? `province ${j.province.phase}` : String(j.kind);
    } catch {
      // counted as unparsable
    }
    const m = got.get(run) ?? new Map();
    m.set(kind, (m.get(kind) ?? 0) + 1);
    got.set(run, m);
  });
  return { url: (run) => `${sink.base}/hook/${run}`, got: (run) => got.get(`/hook/${run}`) ?? new Map(), close: sink.close };
}

/** Which two (or one) collectors run: BENCH_COMPARE unset, 0, env:K=V[,K=V], flags:--a --b, config:{json}, build:/checkout. */
async function runSpecs(flags, launchEnv) {
  const compare = process.env.BENCH_COMPARE ?? '1';
  const envNames = Object.keys(launchEnv).length ? `, ${Object.keys(launchEnv).join(' ')}` : '';
  const shipped = { name: `shipped (25, ${flags.join(' ')}${envNames})`, growth: 25, flags, env: launchEnv };
  if (compare === '0') return [shipped];
  if (compare.startsWith('env:')) {
    const env = Object.fromEntries(
      compare
        .slice(4)
        .split(',')
        .map((kv) => kv.split('=')),
    );
    return [shipped, { ...shipped, name: `shipped + ${compare.slice(4)}`, env: { ...launchEnv, ...env } }];
  }
  if (compare.startsWith('config:')) {
    const more = compare.slice(7);
    JSON.parse(more); // a typo fails here, not in the child
    return [shipped, { ...shipped, name: `shipped + ${more}`, env: { ...launchEnv, CHILD_CONFIG: more } }];
  }
  if (compare.startsWith('flags:')) {
    const more = compare.slice(6).split(/\s+/).filter(Boolean);
    return [shipped, { ...shipped, name: `shipped + ${more.join(' ')}`, flags: [...flags, ...more] }];
  }
  if (compare.startsWith('build:')) {
    const other = compare.slice(6);
    // That build's own launch environment (none before it had one).
    const otherEnv = (await import(join(other, DIST.heapGrowth))).COLLECTOR_MALLOC_ENV ?? {};
    return [
      { ...shipped, name: `${other} (shipped)`, env: { ...otherEnv, CHILD_ROOT: other } },
      { ...shipped, name: 'this build (shipped)' },
    ];
  }
  return [{ name: "V8's defaults", growth: 0, flags: [], env: {} }, shipped];
}

async function main() {
  const flags = await collectorNodeFlags();
  const specs = await runSpecs(flags, await collectorLaunchEnv());
  const compare = specs.length > 1;
  console.log(
    `bench:collector-memory  ${HOSTS} hosts (${PER_SITE} per site) at 15 s (${Math.round(HOSTS / 15)} samples/s); phases ${PHASES.map(([n, e]) => `${n} to ${e} s`).join(', ')}; ${compare ? 'two collectors at once' : 'one collector'}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const sink = await notificationCounts();
  const runs = specs.map((r, i) => {
    const p = startProcess(r.name, process.execPath, [...r.flags, join(ROOT, 'bench/collector-memory.mjs')], {
      env: { ...process.env, ...r.env, CHILD_GROWTH: String(r.growth), CHILD_SINK: sink.url(i) },
    });
    return { ...r, i, p, phase: 'warm-up', rss: {}, heapUsed: [], heapTotal: [], external: [], fed: 0, sent: 0, behind: 0, cpu: [], last: {}, diag: {}, hwmReset: false };
  });
  const DIAG = process.env.BENCH_DIAG === '1';
  /** BENCH_TRACE=file: every 5-s reading of every collector, one JSON line each. */
  const TRACE = process.env.BENCH_TRACE;
  const t0 = Date.now();
  // The children count their phases from their own start (a few seconds after ours): a few more seconds.
  while (Date.now() - t0 < (TOTAL_S + 5) * 1000) {
    await sleep(5000);
    for (const r of runs) {
      if (!r.p.alive()) throw new Error(`${r.name} exited:\n${r.p.out().slice(-2000)}`);
      const lines = r.p
        .out()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"phase"'));
      const last = lines.length ? JSON.parse(lines[lines.length - 1]) : undefined;
      const phase = last?.phase ?? 'warm-up';
      if (DIAG && phase !== r.phase) r.diag[r.phase] = anonMap(r.p.pid);
      r.phase = phase;
      if (phase === 'warm-up') continue;
      if (!r.hwmReset) {
        // The peak from here on (the start-up's status storm left out): "5" resets VmHWM.
        try {
          writeFileSync(`/proc/${r.p.pid}/clear_refs`, '5');
        } catch {
          // not permitted: VmHWM then includes the start-up
        }
        r.hwmReset = true;
      }
      const mem = procMem(r.p.pid);
      (r.rss[phase] ??= []).push(mem.rss); // MB
      if (TRACE && last)
        appendFileSync(
          TRACE,
          `${JSON.stringify({ ...last, ...anonMap(r.p.pid), run: r.name, s: Math.round((Date.now() - t0) / 1000), rss: Math.round(mem.rss), anon: Math.round(mem.anon), heapTotal: Math.round(last.heapTotal / 1048576), heapUsed: Math.round(last.heapUsed / 1048576), external: Math.round(last.external / 1048576), arrayBuffers: Math.round(last.arrayBuffers / 1048576) })}\n`,
        );
      if (last) {
        r.heapUsed.push(last.heapUsed / 1048576);
        r.heapTotal.push(last.heapTotal / 1048576);
        r.external.push(last.external / 1048576);
        // CPU per sample over the measured part (the warm-up's start-up and status storm left out).
        r.cpu.push({ phase: last.phase, cpuMs: last.cpuMs, sent: last.sent });
        r.fed = last.fed;
        r.sent = last.sent;
        r.behind = last.behind;
        r.last = last;
      }
    }
  }
  for (const r of runs) {
    r.hwm = procMem(r.p.pid).hwm;
    if (DIAG) r.diag[r.phase] = anonMap(r.p.pid);
  }
  await sleep(1000);
  sink.close();
  const cpuPerSample = (r, phase) => {
    const c = phase ? r.cpu.filter((x) => x.phase === phase) : r.cpu;
    return c.length > 1 ? (c.at(-1).cpuMs - c[0].cpuMs) / Math.max(1, c.at(-1).sent - c[0].sent) : NaN;
  };
  const all = (r) => Object.values(r.rss).flat();
  const row = (label, f) => [label, ...runs.map(f), ...(compare ? [''] : [])];
  const ratio = (f) => (compare ? [fmt(f(runs[1]) / f(runs[0]), 2)] : []);
  const measured = PHASES.slice(1).map(([n]) => n);
  console.log(
    table([
      ['', ...runs.map((r) => r.name), ...(compare ? ['ratio'] : [])],
      ...measured.flatMap((ph) => [
        [`RSS median, ${ph} (MB)`, ...runs.map((r) => fmt(median(r.rss[ph] ?? []))), ...ratio((r) => median(r.rss[ph] ?? []))],
        [`RSS max, ${ph} (MB)`, ...runs.map((r) => fmt(max(r.rss[ph] ?? []))), ...ratio((r) => max(r.rss[ph] ?? []))],
      ]),
      ['RSS median, all measured (MB)', ...runs.map((r) => fmt(median(all(r)))), ...ratio((r) => median(all(r)))],
      ['RSS peak after warm-up (VmHWM, MB)', ...runs.map((r) => fmt(r.hwm)), ...ratio((r) => r.hwm)],
      row('heap total median (MB)', (r) => fmt(median(r.heapTotal))),
      row('heap used median (MB)', (r) => fmt(median(r.heapUsed))),
      row('external median (MB)', (r) => fmt(median(r.external))),
      ['CPU per sample, steady (ms)', ...runs.map((r) => fmt(cpuPerSample(r, 'steady'), 3)), ...ratio((r) => cpuPerSample(r, 'steady'))],
      ['CPU per sample, all measured (ms)', ...runs.map((r) => fmt(cpuPerSample(r), 3)), ...ratio((r) => cpuPerSample(r))],
      row('samples sent', (r) => String(r.sent)),
      row('behind at the end (not taken in time)', (r) => String(r.behind)),
      ...(POWER_S > 0
        ? [
            row('host outages (open) at the end', (r) => `${r.last.outages ?? '?'} (${r.last.outagesOpen ?? '?'})`),
            row('site incidents (open) at the end', (r) => `${r.last.incidents ?? '?'} (${r.last.incidentsOpen ?? '?'})`),
            row('webhook messages by kind', (r) => [...sink.got(r.i)].map(([k, n]) => `${k} ${n}`).join(', ')),
          ]
        : []),
    ]),
  );
  if (DIAG)
    for (const r of runs)
      for (const [ph, d] of Object.entries(r.diag))
        console.log(
          `diag ${r.name}, end of ${ph}: ${Object.entries(d)
            .map(([k, v]) => `${k} ${v}`)
            .join('; ')}`,
        );
  const b = runs.at(-1);
  const peak = Math.max(max(all(b)), b.hwm);
  const ok = all(b).length > 0 && peak <= TARGET_MB;
  console.log(
    `HEADLINE collector with ${HOSTS} hosts${POWER_S > 0 ? ' and a power cut of 30 % of the sites' : ''}: RSS max ${fmt(peak)} MB (${b.name})${compare ? ` vs ${fmt(Math.max(max(all(runs[0])), runs[0].hwm))} MB (${runs[0].name})` : ''} (target <= ${TARGET_MB} MB): ${ok ? 'PASS' : 'FAIL'}${b.behind > HOSTS / 10 ? ` (the collector fell ${b.behind} samples behind: machine too busy, figures not representative)` : ''}`,
  );
}

if (process.env.CHILD_GROWTH !== undefined) await child();
else runMain(main);
