import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { ackTopic, decodeAck } from '../../contract/ack.js';
import { topicFor } from '../../contract/topics.js';

/**
 * Issue 12, the embedded broker's memory under a replay: while the receive queue is full,
 * each message waiting for room is one agent connection's read held in the collector's
 * memory. Past `ingest.waitingBytes` of them, messages are shed (PUBACK, not stored, not
 * acked end to end) and the agents send them again. Here: 60 connections each publish one
 * 64-record batch (~60 KB) at once into a queue of 100 records with 1 MiB allowed to wait,
 * then re-send whatever is not acked, as agents do. Every record is stored exactly once.
 */
const SITE = 'xa-shed';
const CLIENTS = 60;
const RECORDS = 64;
const BOOT = 'shed-boot-0001';

let collector: Collector;
let url: string;
let siteCred: { username: string; password: string };

function record(host: string, seq: number): string {
  const t = Date.now() - (RECORDS - seq) * 1000;
  const disks = Array.from({ length: 6 }, (_, i) => ({ mount: `D${i}:`, fs: 'NTFS', total: 256e9, used: 100e9 + seq, free: 156e9 - seq, usedPct: 39.1 }));
  return JSON.stringify({
    v: 1,
    site: SITE,
    host,
    boot: BOOT,
    seq,
    t,
    sent: Date.now(),
    interval: 1,
    metrics: { cpu: { usage: 10, load1: 0, load5: 0, load15: 0, cores: 4 }, mem: { total: 8e9, used: 4e9, available: 4e9, swapTotal: 0, swapUsed: 0 }, disks },
  });
}

const metric = (name: string) => {
  const line = collector.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
};

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'canh-shed-'));
  const config = CollectorConfigSchema.parse({
    dataDir,
    broker: { embedded: { host: '127.0.0.1', port: 0 } },
    http: { host: '127.0.0.1', port: 0 },
    ingest: { queueMessages: 100, batchMessages: 100, waitingBytes: 1024 * 1024 },
  });
  collector = await Collector.open(config, silentLogger());
  siteCred = collector.credentials.add({ site: SITE, now: Date.now() });
  await collector.start();
  url = `mqtt://127.0.0.1:${collector.broker!.port()}`;
});

afterAll(async () => {
  await collector?.stop();
});

describe('embedded broker: bounded waiting under a replay burst', () => {
  it('sheds past ingest.waitingBytes, and the re-sends store every record exactly once', async () => {
    const clients: Array<{ host: string; c: MqttClient; open: Set<number> }> = [];
    // One at a time: each CONNECT is a password check (bounded concurrency in the broker).
    for (let i = 0; i < CLIENTS; i++) {
      const host = `pc-${String(i).padStart(2, '0')}`;
      const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, clientId: `${SITE}.${host}`, username: siteCred.username, password: siteCred.password });
      const open = new Set(Array.from({ length: RECORDS }, (_, s) => s));
      const topic = ackTopic(SITE, host);
      c.on('message', (t, payload) => {
        const ack = t === topic ? decodeAck(payload) : undefined;
        for (const a of ack?.acks ?? []) if (a.boot === BOOT) for (const [from, to] of a.ranges) for (let s = from; s <= to; s++) open.delete(s);
      });
      await c.subscribeAsync(topic, { qos: 0 });
      clients.push({ host, c, open });
    }
    const send = (x: (typeof clients)[number]) => {
      const recs = [...x.open].map((s) => record(x.host, s));
      if (recs.length) x.c.publish(topicFor(SITE, x.host, 'samples'), `{"v":1,"records":[${recs.join(',')}]}`, { qos: 1 });
    };
    // The burst: every connection's window at once (a replay after a collector outage).
    for (const x of clients) send(x);
    const deadline = Date.now() + 60_000;
    while (clients.some((x) => x.open.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const x of clients) send(x); // what is still unacked: the agent's re-send
    }
    expect(clients.filter((x) => x.open.size > 0).map((x) => x.host)).toEqual([]);
    // The burst did not all fit: some was shed, and the waiting never passed the bound.
    expect(metric('canh_ingest_shed_total')).toBeGreaterThan(0);
    expect(metric('canh_ingest_shed_records_total')).toBeGreaterThanOrEqual(RECORDS);
    expect(metric('canh_ingest_pushback_total')).toBeGreaterThan(0);
    expect(metric('canh_ingest_waiting_bytes')).toBe(0);
    // Every record stored once: the re-sends of what was stored are duplicates, not rows.
    const rows = collector.db
      .prepare('SELECT host, count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi FROM samples WHERE site = ? GROUP BY host')
      .all(SITE) as Array<{
      host: string;
      n: number;
      d: number;
      lo: number;
      hi: number;
    }>;
    expect(rows).toHaveLength(CLIENTS);
    for (const r of rows) expect(r, r.host).toMatchObject({ n: RECORDS, d: RECORDS, lo: 0, hi: RECORDS - 1 });
    await Promise.all(clients.map((x) => x.c.endAsync()));
  }, 120_000);
});
