#!/usr/bin/env node
// Load generator for bench/export.mjs (its own process): like bench/ingest-gen.mjs, but
// MQTT 3.1.1, which the collector's embedded broker (aedes) speaks; ingest-gen.mjs uses
// MQTT 5 for Mosquitto. Config as JSON in $BENCH_GEN_CONFIG:
//   { url, rate, seconds, inflight, agents: [{ site, host, username, password }] }
// Prints {type:'ready'} once every client is connected and {type:'done', sent, acked} at the end.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';

const cfg = JSON.parse(process.env.BENCH_GEN_CONFIG);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const rnd = (a, b) => a + Math.random() * (b - a);
const ri = (a, b) => Math.floor(rnd(a, b));
const GB = 1024 ** 3;

/** A sample as a Linux agent sends it: cpu, mem, 2 disks, 2 interfaces, uptime, 2 ping targets (10 points). */
function sample(a, now) {
  const used = ri(2 * GB, 6 * GB);
  const d1u = ri(50 * GB, 200 * GB);
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
      cpu: { usage: Math.round(rnd(1, 95) * 10) / 10, load1: 0.5, load5: 0.4, load15: 0.3, cores: 4 },
      mem: { total: 8 * GB, used, available: 8 * GB - used, swapTotal: 2 * GB, swapUsed: ri(0, 512 * 1024 * 1024) },
      disks: [
        { mount: '/', fs: 'ext4', total: 256 * GB, used: d1u, free: 256 * GB - d1u, usedPct: Math.round((1000 * d1u) / (256 * GB)) / 10 },
        { mount: '/home', fs: 'ext4', total: 1024 * GB, used: 100 * GB, free: 924 * GB, usedPct: 9.8 },
      ],
      net: [
        { iface: 'enp3s0', rxBps: ri(1000, 5e6), txBps: ri(1000, 2e6), rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
        { iface: 'wlp2s0', rxBps: ri(0, 1e5), txBps: ri(0, 5e4), rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
      ],
      uptime: { seconds: 86400, bootTime: now - 86_400_000 },
      ping: [
        { target: '192.168.1.1', role: 'gateway', sent: 4, lossPct: 0, rttMedian: 0.8, rttP95: 1.1, rttMax: 1.5 },
        { target: 'dichvucong.gov.vn', role: 'configured', sent: 4, lossPct: 25, rttMedian: 12, rttP95: 15, rttMax: 19 },
      ],
    },
  };
}

const agents = cfg.agents.map((a) => ({ ...a, boot: randomBytes(12).toString('base64url'), seq: 0, inflight: 0, topic: `canh/v1/${a.site}/${a.host}/samples` }));
let sent = 0;
let acked = 0;
await Promise.all(
  agents.map(
    (a) =>
      new Promise((resolve, reject) => {
        a.client = mqtt.connect(cfg.url, {
          username: a.username,
          password: a.password,
          clientId: `${a.site}.${a.host}`, // the embedded broker binds it to the credential (contract/topics.ts agentClientId)
          protocolVersion: 4,
          clean: true,
          reconnectPeriod: 500,
        });
        const t = setTimeout(() => reject(new Error(`connect timeout ${a.host}`)), 30_000);
        a.client.once('connect', () => {
          clearTimeout(t);
          resolve();
        });
        a.client.on('error', (e) => process.stderr.write(`mqtt error ${a.host}: ${e.message}\n`));
      }),
  ),
);
out({ type: 'ready' });
const start = Date.now();
const endAt = start + cfg.seconds * 1000;
let next = 0;
while (Date.now() < endAt) {
  const due = Math.floor(((Date.now() - start) / 1000) * cfg.rate);
  let tries = 0;
  while (sent < due && tries < agents.length) {
    const a = agents[next];
    next = (next + 1) % agents.length;
    tries++;
    if (a.inflight >= cfg.inflight || !a.client.connected) continue;
    a.inflight++;
    sent++;
    tries = 0;
    a.client.publish(a.topic, JSON.stringify(sample(a, Date.now())), { qos: 1 }, (err) => {
      a.inflight--;
      if (!err) acked++;
    });
  }
  await new Promise((r) => setTimeout(r, 5));
}
await new Promise((r) => setTimeout(r, 2000));
out({ type: 'done', sent, acked });
await Promise.all(agents.map((a) => new Promise((r) => a.client.end(false, {}, r))));
process.exit(0);
