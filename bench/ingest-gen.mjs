#!/usr/bin/env node
// Load generator for bench/ingest.mjs (run as its own process). Config as JSON in
// $BENCH_GEN_CONFIG:
//   { url, rate, seconds, inflight, agents: [{ site, host, username, password }] }
// Publishes realistic ~1 KB sample messages with QoS 1, one MQTT connection per agent,
// paced to `rate` messages/s in total, at most `inflight` unacknowledged per client.
// Writes JSON lines to stdout: {type:'ready'}, {type:'progress', …} each second,
// {type:'done', …} at the end.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ROOT } from './lib.mjs';

const cfg = JSON.parse(process.env.BENCH_GEN_CONFIG);
const { decodeMessage } = await import(join(ROOT, 'dist/contract/decode.js'));
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const rnd = (a, b) => a + Math.random() * (b - a);
const ri = (a, b) => Math.floor(rnd(a, b));
const GB = 1024 ** 3;

function sample(a, now) {
  const memTotal = 8 * GB;
  const used = ri(2 * GB, 6 * GB);
  const d1t = 256 * GB;
  const d1u = ri(50 * GB, 200 * GB);
  const d2t = 1024 * GB;
  const d2u = ri(100 * GB, 900 * GB);
  const rtt = rnd(0.3, 3);
  return {
    v: 1,
    site: a.site,
    host: a.host,
    boot: a.boot,
    seq: a.seq++,
    t: now,
    sent: now,
    interval: 15,
    metrics: {
      cpu: { usage: Math.round(rnd(1, 95) * 10) / 10, load1: Math.round(rnd(0, 4) * 100) / 100, load5: Math.round(rnd(0, 3) * 100) / 100, load15: Math.round(rnd(0, 2) * 100) / 100, cores: 4 },
      mem: { total: memTotal, used, available: memTotal - used, swapTotal: 2 * GB, swapUsed: ri(0, 512 * 1024 * 1024) },
      disks: [
        { mount: '/', fs: 'ext4', total: d1t, used: d1u, free: d1t - d1u, usedPct: Math.round((1000 * d1u) / d1t) / 10 },
        { mount: '/home', fs: 'ext4', total: d2t, used: d2u, free: d2t - d2u, usedPct: Math.round((1000 * d2u) / d2t) / 10 },
      ],
      net: [
        { iface: 'enp3s0', rxBps: ri(1000, 5e6), txBps: ri(1000, 2e6), rxErrors: 0, txErrors: 0, rxDropped: ri(0, 5), txDropped: 0 },
        { iface: 'wlp2s0', rxBps: ri(0, 1e5), txBps: ri(0, 5e4), rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
      ],
      uptime: { seconds: Math.round((now - a.osBoot) / 1000), bootTime: a.osBoot },
      ping: [
        { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: Math.round(rtt * 1000) / 1000, rttP95: Math.round(rtt * 1300) / 1000, rttMax: Math.round(rtt * 1600) / 1000 },
        { target: 'dichvucong.gov.vn', role: 'configured', sent: 4, lossPct: 25, rttMedian: Math.round(rtt * 12000) / 1000, rttP95: Math.round(rtt * 15000) / 1000, rttMax: Math.round(rtt * 19000) / 1000 },
      ],
    },
  };
}

const agents = cfg.agents.map((a) => ({
  ...a,
  boot: randomBytes(12).toString('base64url'),
  seq: 0,
  osBoot: Date.now() - ri(3600e3, 30 * 86400e3),
  topic: `canh/v1/${a.site}/${a.host}/samples`,
  inflight: 0,
  client: undefined,
}));

// Self-check: the message must pass the collector's own decoder.
{
  const probe = { ...agents[0], seq: 0 };
  const payload = Buffer.from(JSON.stringify(sample(probe, Date.now())));
  const d = decodeMessage(agents[0].topic, payload);
  if (!d.ok) throw new Error(`generated message is invalid: ${d.reason} ${d.detail}`);
  out({ type: 'info', messageBytes: payload.byteLength });
}

let sent = 0; // publish() called
let acked = 0; // PUBACK received
let errors = 0;
let deferred = 0; // ticks where the pacer found every client at its in-flight bound

await Promise.all(
  agents.map(
    (a) =>
      new Promise((resolve, reject) => {
        const c = mqtt.connect(cfg.url, {
          username: a.username,
          password: a.password,
          clientId: `bench-${a.site}-${a.host}`,
          protocolVersion: 5,
          clean: true,
          keepalive: 30,
          reconnectPeriod: 1000,
          connectTimeout: 30_000,
        });
        a.client = c;
        const t = setTimeout(() => reject(new Error(`connect timeout for ${a.username}/${a.host}`)), 60_000);
        c.once('connect', () => {
          clearTimeout(t);
          resolve();
        });
        c.on('error', (e) => {
          errors++;
          if (errors < 5) process.stderr.write(`mqtt error ${a.host}: ${e.message}\n`);
        });
      }),
  ),
);
out({ type: 'ready', clients: agents.length });

const start = Date.now();
const progressHandle = setInterval(() => out({ type: 'progress', at: Date.now(), sent, acked, errors }), 1000);
const endAt = start + cfg.seconds * 1000;
let rr = 0;
const n = agents.length;

function publishOne(a) {
  const now = Date.now();
  const payload = JSON.stringify(sample(a, now));
  a.inflight++;
  sent++;
  a.client.publish(a.topic, payload, { qos: 1 }, (err) => {
    a.inflight--;
    if (err) {
      errors++;
      if (errors < 5) process.stderr.write(`publish error: ${err.message}\n`);
    } else acked++;
  });
}

await new Promise((resolve) => {
  const tick = () => {
    const now = Date.now();
    if (now >= endAt) return resolve();
    const due = Math.floor(((now - start) / 1000) * cfg.rate);
    let scanned = 0;
    while (sent < due && scanned < n) {
      const a = agents[rr];
      rr = (rr + 1) % n;
      if (a.inflight < cfg.inflight && a.client.connected) {
        publishOne(a);
        scanned = 0;
      } else scanned++;
    }
    if (sent < due) deferred++;
    setTimeout(tick, 5);
  };
  tick();
});
const pubEnd = Date.now();

// Wait for outstanding PUBACKs (bounded).
const ackDeadline = Date.now() + 60_000;
while (acked + errors < sent && Date.now() < ackDeadline) await new Promise((r) => setTimeout(r, 50));
clearInterval(progressHandle);
out({ type: 'done', sent, acked, errors, deferred, seconds: (pubEnd - start) / 1000, rate: sent / ((pubEnd - start) / 1000), start, pubEnd, ackedAt: Date.now() });
await Promise.all(agents.map((a) => a.client.endAsync().catch(() => {})));
process.exit(0);
