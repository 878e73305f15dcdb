#!/usr/bin/env node
// A province's agents reconnecting to Mosquitto at once (a broker restart, the morning power-on)
// with the password hashes Canh writes, side by side in one run: PBKDF2-SHA512 at 20,000
// iterations (what Canh wrote for every credential) and at 101 (what `mosquitto_passwd` writes,
// and what Canh now writes for the 144-bit passwords it generates). Mosquitto checks a password
// on its one thread for every CONNECT, with no cache: while it hashes, it forwards nothing.
//
//   npm run bench:connect-storm
//   BENCH_CLIENTS=3000 BENCH_CONCURRENCY=200 node bench/connect-storm.mjs
//
// For each hash: a fresh Mosquitto (Canh's generated config) with BENCH_CLIENTS users, all
// clients connected with at most BENCH_CONCURRENCY CONNECTs outstanding (no reconnects, a
// 300 s connect timeout: the time to connect them all, not churn); meanwhile a canary client
// publishes a QoS 1 message to itself every 200 ms and its round trip is recorded (what every
// agent's sample and the collector's link suffer during the storm). Broker CPU from /proc.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { fmt, importDist, max, median, procCpu, runMain, startMosquitto, table } from './lib.mjs';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const PASSWORD = 'bench-password-0123456789';
const TARGET_S_PER_1000 = 5;

async function storm(iterations) {
  const { hashPassword } = await importDist('passwordHash');
  const dir = mkdtempSync(join(tmpdir(), `canh-bench-storm-${iterations}-`));
  // One hash for every user: Mosquitto computes PBKDF2 at each CONNECT whatever the line.
  const hash = hashPassword(PASSWORD, iterations);
  const users = ['canary', ...Array.from({ length: CLIENTS }, (_, i) => `pc-${i}`)];
  writeFileSync(join(dir, 'passwd'), users.map((u) => `${u}:${hash}\n`).join(''), { mode: 0o600 });
  writeFileSync(join(dir, 'acl'), 'pattern readwrite bench/%u/#\n', { mode: 0o600 });
  const mq = await startMosquitto({ dir, passwdFile: join(dir, 'passwd'), aclFile: join(dir, 'acl'), fileLimit: CLIENTS + 1000 });
  const opts = (u) => ({ username: u, password: PASSWORD, clientId: u, reconnectPeriod: 0, connectTimeout: 300_000, keepalive: 600 });
  const canary = await mqtt.connectAsync(mq.url, opts('canary'));
  await canary.subscribeAsync('bench/canary/rt', { qos: 1 });
  const rtts = [];
  canary.on('message', (_t, payload) => rtts.push(Date.now() - Number(payload.toString())));
  const ping = () => canary.publish('bench/canary/rt', String(Date.now()), { qos: 1 });
  const cpu0 = procCpu(mq.pid).total;
  const t0 = Date.now();
  const canaryTimer = setInterval(ping, 200);
  const clients = [];
  let next = 0;
  let failed = 0;
  const connectTimes = [];
  const worker = async () => {
    while (next < CLIENTS) {
      const i = next++;
      const start = Date.now();
      try {
        clients.push(await mqtt.connectAsync(mq.url, opts(`pc-${i}`)));
        connectTimes.push(Date.now() - start);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const allS = (Date.now() - t0) / 1000;
  clearInterval(canaryTimer);
  const cpuS = (procCpu(mq.pid).total - cpu0) / 1000;
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await canary.endAsync(true).catch(() => {});
  await mq.stop();
  return { iterations, allS, failed, cpuS, connectP50: median(connectTimes), rttMedian: median(rtts), rttMax: max(rtts), canaryTrips: rtts.length };
}

async function main() {
  console.log(
    `bench:connect-storm ${CLIENTS} clients to Mosquitto, ${CONCURRENCY} CONNECTs outstanding at most; load average ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const runs = [];
  for (const it of [20_000, 101]) {
    runs.push(await storm(it));
    console.log(`  ${it} iterations: all connected in ${fmt(runs.at(-1).allS, 1)} s`);
  }
  const [slow, fast] = runs;
  console.log(
    table([
      ['PBKDF2-SHA512 iterations', ...runs.map((r) => String(r.iterations))],
      ['all connected (s)', ...runs.map((r) => fmt(r.allS, 1))],
      ['CONNECTs failed', ...runs.map((r) => String(r.failed))],
      ['Mosquitto CPU during the storm (s)', ...runs.map((r) => fmt(r.cpuS, 1))],
      ['CONNECT to CONNACK median (ms)', ...runs.map((r) => fmt(r.connectP50, 0))],
      ['canary round trip median / max (ms)', ...runs.map((r) => `${fmt(r.rttMedian, 0)} / ${fmt(r.rttMax, 0)}`)],
      ['canary round trips completed', ...runs.map((r) => String(r.canaryTrips))],
    ]),
  );
  const per1000 = (fast.allS / CLIENTS) * 1000;
  const ok = per1000 <= TARGET_S_PER_1000 && fast.failed === 0;
  console.log(
    `HEADLINE ${CLIENTS} agents reconnecting: ${fmt(fast.allS, 1)} s with generated passwords at 101 iterations vs ${fmt(slow.allS, 1)} s at 20,000 (ratio ${fmt(slow.allS / fast.allS, 1)}); canary max round trip ${fmt(fast.rttMax, 0)} vs ${fmt(slow.rttMax, 0)} ms; ${fmt(per1000, 2)} s per 1,000 agents (target <= ${TARGET_S_PER_1000}): ${ok ? 'PASS' : 'FAIL'}`,
  );
}

runMain(main);
