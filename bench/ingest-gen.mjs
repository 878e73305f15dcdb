#!/usr/bin/env node
// Load generator process for bench/ingest.mjs and bench/province.mjs: simulated agents
// (bench/sim-agent.mjs), one MQTT connection each, speaking the end-to-end ack protocol
// of issue 12. A sample counts as delivered only when the collector acked it.
//
// Config as JSON in $BENCH_GEN_CONFIG:
//   { url, protocolVersion, mode: 'rate' | 'interval', agents: [{ site, host, username, password }],
//     rate, seconds,             mode 'rate': `rate` samples/s in total for `seconds`, then drain
//     intervalS,                 mode 'interval': every agent samples each `intervalS` (random phase)
//     inflight, ackTimeoutMs, ackTimeoutMaxMs, outboxMax, replayPerSecond, keepalive,
//     reconnectMs, drainMaxS, connectBatch }
// Commands on stdin (JSON lines, mode 'interval'): {cmd:'power-cut', sites:[…]},
//   {cmd:'power-restore', sites:[…]}, {cmd:'stop'} (stop sampling, drain, report 'done').
// Writes JSON lines on stdout: info, ready, progress (each second), done (with the ledger:
// per (site, host, boot) the number of records offered, seqs 0..n-1).
import { createInterface } from 'node:readline';
import { importDist } from './lib.mjs';
import { SimAgent, newStats, sampleBody } from './sim-agent.mjs';

const cfg = JSON.parse(process.env.BENCH_GEN_CONFIG);
const { decodeMessage, decodeMessages } = await importDist('decode');
const { decodeAck } = await importDist('ack');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const o = {
  url: cfg.url,
  protocolVersion: cfg.protocolVersion ?? 5,
  inflight: cfg.inflight ?? 32,
  ackTimeoutMs: cfg.ackTimeoutMs ?? 30_000,
  ackTimeoutMaxMs: cfg.ackTimeoutMaxMs ?? 300_000,
  outboxMax: cfg.outboxMax ?? 40_320,
  replayPerSecond: cfg.replayPerSecond ?? 200,
  intervalS: cfg.intervalS ?? 15,
  keepalive: cfg.keepalive ?? 10,
  reconnectMs: cfg.reconnectMs ?? 2000,
  decodeAck,
  pubackIsAck: cfg.pubackIsAck === true,
  batchRecords: cfg.batchRecords ?? 64,
  ...(cfg.forceBatch ? { forceBatch: cfg.forceBatch } : {}),
};
const stats = newStats();
const agents = cfg.agents.map((a) => new SimAgent(a, o, stats));

// Self-check: the messages must pass the collector's own decoder.
{
  const a = agents[0];
  const payload = JSON.stringify({ ...sampleBody(a, a.boot, 0, Date.now(), o.intervalS), sent: Date.now() });
  const d = decodeMessage(a.topic, Buffer.from(payload));
  if (!d.ok) throw new Error(`generated sample is invalid: ${d.reason} ${d.detail}`);
  const two = decodeMessages(a.topic, Buffer.from(`{"v":1,"records":[${payload},${payload.replace('"seq":0', '"seq":1')}]}`));
  if (!two.ok || !two.records.every((r) => r.ok)) throw new Error('generated batch is invalid');
  const st = decodeMessage(a.statusTopic, Buffer.from(a.status('online')));
  if (!st.ok) throw new Error(`generated status is invalid: ${st.reason} ${st.detail}`);
  out({ type: 'info', messageBytes: Buffer.byteLength(payload) });
}

// Mode 'interval': one sample per agent per interval, random phase, from its first connect on
// (as a real agent samples from its start): an agent connected early in a long connect phase
// that sent nothing until the last one was connected looked switched off to the collector.
let sampling = cfg.mode !== 'rate';
const next = agents.map(() => Infinity);
const sampler =
  cfg.mode === 'rate'
    ? undefined
    : setInterval(() => {
        if (!sampling) return;
        const now = Date.now();
        for (let i = 0; i < agents.length; i++) {
          if (now >= next[i]) {
            agents[i].sample();
            next[i] += o.intervalS * 1000;
            if (next[i] < now) next[i] = now + o.intervalS * 1000; // fell behind (loaded machine): skip, do not burst
          }
        }
      }, 100);

// Connect in batches (a broker checks a PBKDF2 hash per CONNECT: no thundering herd).
const batch = cfg.connectBatch ?? 100;
const connectDeadline = Date.now() + (cfg.connectTimeoutS ?? 600) * 1000;
for (let i = 0; i < agents.length; i += batch) {
  const mine = agents.slice(i, i + batch);
  for (const a of mine) a.connect();
  while (mine.some((a) => !a.connected)) {
    if (Date.now() > connectDeadline) throw new Error(`connect timeout: ${agents.filter((a) => !a.connected).length} agents not connected`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const now = Date.now();
  for (let j = i; j < Math.min(i + batch, agents.length); j++) next[j] = now + Math.random() * o.intervalS * 1000;
}
out({ type: 'ready', clients: agents.length });

const unacked = () => agents.reduce((n, a) => n + a.outbox.size, 0);
const inflight = () => agents.reduce((n, a) => n + a.inflightN, 0);
const connected = () => agents.reduce((n, a) => n + (a.connected ? 1 : 0), 0);
/** Creation time of the oldest unacked record in any outbox (Map order = append order). */
const oldest = () => agents.reduce((m, a) => (a.outbox.size ? Math.min(m, a.outbox.values().next().value.t) : m), Infinity);
const snapshot = () => {
  const { rtt: _rtt, ...s } = stats;
  const o = oldest();
  return { ...s, at: Date.now(), unacked: unacked(), inflight: inflight(), connected: connected(), oldest: Number.isFinite(o) ? o : null };
};

// Once a second: ack timeouts and replay refill of every agent, and a progress line.
const ticker = setInterval(() => {
  const now = Date.now();
  for (const a of agents) a.tick(now);
  out({ type: 'progress', ...snapshot() });
}, 1000);

const start = Date.now();

if (cfg.mode === 'rate') {
  // Paced offered load, round robin: a sample is offered (into the outbox) whatever the window.
  const endAt = start + cfg.seconds * 1000;
  let rr = 0;
  await new Promise((resolve) => {
    const pace = () => {
      const now = Date.now();
      if (now >= endAt) return resolve();
      const due = Math.floor(((now - start) / 1000) * cfg.rate);
      // Bounded per tick (the loop must serve the sockets too).
      for (let k = 0; stats.offered < due && k < 5000; k++) {
        agents[rr].sample();
        rr = (rr + 1) % agents.length;
      }
      setTimeout(pace, 5);
    };
    pace();
  });
  sampling = false;
} else {
  // The sampler runs since each agent connected (above).
  const bySite = (sites) => {
    const set = new Set(sites);
    return agents.filter((a) => set.has(a.site));
  };
  await new Promise((resolve) => {
    createInterface({ input: process.stdin }).on('line', (line) => {
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        return;
      }
      if (m.cmd === 'power-cut') {
        const hit = bySite(m.sites);
        for (const a of hit) a.powerCut();
        out({ type: 'ack-cmd', cmd: m.cmd, agents: hit.length });
      } else if (m.cmd === 'power-restore') {
        const hit = bySite(m.sites);
        // Staggered like real PCs booting (0-20 s): the first boot event reaches the collector first.
        for (const a of hit) setTimeout(() => a.powerRestore(), Math.random() * 20_000);
        out({ type: 'ack-cmd', cmd: m.cmd, agents: hit.length });
      } else if (m.cmd === 'stop') {
        clearInterval(sampler);
        sampling = false;
        resolve();
      }
    });
  });
}
const pubEnd = Date.now();

// Drain: until the collector acked every record, bounded in time.
const drainDeadline = Date.now() + (cfg.drainMaxS ?? 120) * 1000;
while (unacked() > 0 && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 100));
clearInterval(ticker);
const ledger = [];
for (const a of agents) for (const [boot, n] of a.ledger) ledger.push([a.site, a.host, boot, n]);
out({ type: 'done', ...snapshot(), start, pubEnd, drainedAt: Date.now(), rtt: stats.rtt.counts, ledger });
await Promise.all(agents.map((a) => a.end()));
process.exit(0);
