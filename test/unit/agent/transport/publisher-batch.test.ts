/**
 * Batches, agent side (contract/decode.ts `decodeMessages`, contract/ack.ts `batch`): when the
 * collector announced that it takes them and several records are ready (backlog replay,
 * re-sends), the publisher packs them into one message, bounded in records and bytes; the
 * window still counts records; a lone live record goes alone at once; a collector that did
 * not announce batches gets one record per message. A fake MQTT client (PUBACK at once)
 * that decodes what it gets with the collector's own decoder; a real outbox in a temp dir.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../../agent/config.js';
import { Outbox } from '../../../../agent/transport/outbox.js';
import { Publisher } from '../../../../agent/transport/publisher.js';
import { silentLogger } from '../../../../common/log.js';
import { ackTopic } from '../../../../contract/ack.js';
import { decodeMessages } from '../../../../contract/decode.js';
import { MAX_PAYLOAD_BYTES } from '../../../../contract/limits.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const SITE = 's1';
const HOST = 'h1';
const BOOT = 'boot-aaaaaaaa';
const DATA = `canh/v1/${SITE}/${HOST}/samples`;
const ACK = ackTopic(SITE, HOST);
const T0 = Date.UTC(2026, 0, 1);

const FIXTURE = JSON.parse(readFileSync(new URL('../../../fixtures/contract/sample-valid.json', import.meta.url), 'utf8')) as { metrics: { disks: unknown[] } };

/** A valid sample record as agent.ts writes it (envelope first, no `sent`); `disks` copies of the fixture's disk (size). */
const body = (seq: number, disks = 1) =>
  JSON.stringify({
    v: 1,
    site: SITE,
    host: HOST,
    boot: BOOT,
    seq,
    t: T0 + seq,
    interval: 15,
    metrics: { ...FIXTURE.metrics, disks: Array.from({ length: disks }, () => FIXTURE.metrics.disks[0]) },
  });

interface Message {
  payload: string;
  records: Array<{ seq: number; sent: number }>;
  batch: boolean;
}

/** mqtt.js stand-in: PUBACKs at once and keeps every message, decoded as the collector does. */
class FakeMqtt extends EventEmitter {
  options: Record<string, unknown> = {};
  messages: Message[] = [];
  publish(topic: string, payload: string, _opts: unknown, cb?: (err?: Error) => void) {
    if (!topic.endsWith('/status')) {
      const d = decodeMessages(topic, Buffer.from(payload));
      if (!d.ok) throw new Error(`collector would refuse: ${d.reason} ${d.detail}`);
      const records = d.records.map((r) => {
        if (!r.ok) throw new Error(`record refused: ${r.reason} ${r.detail}`);
        const m = r.message as { seq: number; sent: number };
        return { seq: m.seq, sent: m.sent };
      });
      this.messages.push({ payload, records, batch: d.batch });
    }
    cb?.();
    return this;
  }
  subscribe(topic: string, opts: { qos: number }, cb: (err: Error | null, granted?: Array<{ topic: string; qos: number }>) => void) {
    cb(null, [{ topic, qos: opts.qos }]);
    return this;
  }
  removeOutgoingMessage() {
    return this;
  }
  end(_force?: boolean, _opts?: unknown, cb?: () => void) {
    (cb ?? (typeof _opts === 'function' ? (_opts as () => void) : undefined))?.();
    return this;
  }
  /** The collector's ack of these seqs; `batch` as the collector announces it (undefined: an older collector). */
  ack(seqs: number[], batch?: number) {
    const payload = { v: 1, acks: seqs.length ? [{ boot: BOOT, ranges: seqs.map((s) => [s, s]) }] : [], ...(batch ? { batch } : {}) };
    this.emit('message', ACK, Buffer.from(JSON.stringify(payload)), {});
  }
  seqs(): number[] {
    return this.messages.flatMap((m) => m.records.map((r) => r.seq));
  }
}

let outbox: Outbox | undefined;
afterEach(async () => {
  await outbox?.close();
  outbox = undefined;
});

async function setup(mqtt: Record<string, unknown> = {}) {
  const clock = new FakeClock(T0 + 1_000_000);
  const config = AgentConfigSchema.parse({ site: SITE, host: HOST, mqtt: { password: 'p', replayPerSecond: 10_000, inflight: 8, ...mqtt } });
  const ob = new Outbox({
    dir: mkdtempSync(join(tmpdir(), 'canh-pub-batch-')),
    maxBytes: 64 * 1024 * 1024,
    segmentBytes: 4 * 1024 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    clock,
    log: silentLogger(),
  });
  outbox = ob;
  await ob.open();
  const client = new FakeMqtt();
  const pub = new Publisher({
    config,
    outbox: ob,
    clock,
    log: silentLogger(),
    status: (state) => ({ topic: `canh/v1/${SITE}/${HOST}/status`, payload: JSON.stringify({ state }) }),
    connect: () => client as unknown as MqttClient,
  });
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(Math.min(step, ms - t));
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 2));
  };
  /** Ack everything sent so far, announcing `batch`, until the outbox is empty (bounded). */
  const drain = async (batch?: number) => {
    for (let round = 0; round < 200 && ob.stats().records > 0; round++) {
      client.ack([...new Set(client.seqs())], batch);
      await run(100);
      expect(pub.stats().unacked).toBeLessThanOrEqual(config.mqtt.inflight);
    }
    expect(ob.stats().records).toBe(0);
  };
  return { clock, client, pub, run, drain, outbox: ob };
}

describe('Publisher: batches (several records per message)', () => {
  it('sends one record per message to a collector that did not announce batches', async () => {
    const { client, pub, run, drain } = await setup();
    pub.start();
    for (let i = 0; i < 40; i++) await pub.enqueue(DATA, body(i)); // offline: backlog
    client.emit('connect', { sessionPresent: false });
    await run(300);
    expect(client.messages).toHaveLength(8); // the window
    await drain(undefined);
    expect(client.messages.every((m) => !m.batch && m.records.length === 1)).toBe(true);
    expect(client.seqs().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(pub.stats().batches).toBe(0);
    expect(pub.stats().batchMax).toBe(1);
  });

  it('packs the backlog replay into batches once the collector announced them; the window counts records', async () => {
    const { client, pub, run, drain } = await setup({ inflight: 32 });
    pub.start();
    client.emit('connect', { sessionPresent: false });
    await run(100);
    await pub.enqueue(DATA, body(0));
    await run(100);
    expect(client.messages).toHaveLength(1);
    client.ack([0], 10); // the collector takes up to 10 per message
    await run(100);
    expect(pub.stats().batchMax).toBe(10);
    client.emit('close');
    for (let i = 1; i <= 100; i++) await pub.enqueue(DATA, body(i)); // offline: backlog
    client.emit('connect', { sessionPresent: false });
    await run(300);
    // A new link: single records until an ack on it announces batches again.
    expect(pub.stats().batchMax).toBe(1);
    expect(client.messages.slice(1).every((m) => m.records.length === 1)).toBe(true);
    expect(pub.stats().unacked).toBe(32);
    await drain(10);
    const batches = client.messages.filter((m) => m.batch);
    expect(batches.length).toBeGreaterThan(0);
    expect(Math.max(...client.messages.map((m) => m.records.length))).toBe(10);
    expect(new Set(client.seqs())).toEqual(new Set(Array.from({ length: 101 }, (_, i) => i)));
    // Each record of a batch carries its own send stamp, and keeps its order.
    for (const b of batches) {
      expect(b.records.every((r) => typeof r.sent === 'number' && r.sent > T0)).toBe(true);
      expect(b.records.map((r) => r.seq)).toEqual([...b.records.map((r) => r.seq)].sort((x, y) => x - y));
    }
    expect(pub.stats().messages).toBeLessThan(pub.stats().published);
    expect(pub.stats().batches).toBe(batches.length);
  });

  it('keeps a batch within MAX_PAYLOAD_BYTES whatever the announced bound', async () => {
    const { client, pub, run, drain } = await setup({ inflight: 200 });
    pub.start();
    client.emit('connect', { sessionPresent: false });
    await run(100);
    await pub.enqueue(DATA, body(0));
    await run(100);
    client.ack([0], 256);
    await run(100);
    // ~1.7 KB each: 200 of them do not fit in one 64 KiB message.
    for (let i = 1; i <= 200; i++) await pub.enqueue(DATA, body(i, 8));
    await run(500);
    await drain(256);
    const sizes = client.messages.map((m) => Buffer.byteLength(m.payload));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(client.messages.some((m) => m.records.length > 20)).toBe(true);
    expect(new Set(client.seqs()).size).toBe(201);
  });

  it('sends a lone live record alone and at once, even when batches are announced', async () => {
    const { client, pub, run } = await setup();
    pub.start();
    client.emit('connect', { sessionPresent: false });
    await run(100);
    await pub.enqueue(DATA, body(0));
    await run(10, 10);
    client.ack([0], 64);
    await run(10, 10);
    await pub.enqueue(DATA, body(1));
    await run(5, 5);
    const last = client.messages.at(-1)!;
    expect(last.batch).toBe(false);
    expect(last.records.map((r) => r.seq)).toEqual([1]);
    expect(JSON.parse(last.payload).seq).toBe(1);
  });

  it('packs re-sends, and goes back to single records at an ack without the announcement (an older collector)', async () => {
    const { client, pub, run } = await setup({ inflight: 16, ackTimeoutSeconds: 5 });
    pub.start();
    client.emit('connect', { sessionPresent: false });
    await run(100);
    await pub.enqueue(DATA, body(0));
    await run(50);
    client.ack([0], 8);
    await run(50);
    client.emit('close');
    for (let i = 1; i <= 16; i++) await pub.enqueue(DATA, body(i));
    client.emit('connect', { sessionPresent: false });
    await run(100);
    client.ack([], 8); // an ack on the new link (nothing in it) announces batches again
    await run(100);
    const before = client.messages.length;
    await run(6_000); // no ack: the window times out; the congestion window is cut to one record
    // The collector acks what comes again: the window opens (slow start) and the re-sends are packed.
    let acked = 0;
    for (let round = 0; round < 6; round++) {
      const seqs = client.messages.slice(before).flatMap((m) => m.records.map((r) => r.seq));
      client.ack(
        seqs.slice(acked).filter((q) => q !== 16),
        8,
      ); // 16 stays unacked for the end of the test
      acked = seqs.length;
      await run(100);
    }
    const resent = client.messages.slice(before);
    expect(resent.some((m) => m.batch && m.records.length === 8)).toBe(true);
    expect(resent.every((m) => m.records.length <= 8)).toBe(true);
    client.ack([1], undefined); // an older collector took over
    expect(pub.stats().batchMax).toBe(1);
    const mark = client.messages.length;
    await run(20_000);
    expect(client.messages.length).toBeGreaterThan(mark);
    expect(client.messages.slice(mark).every((m) => !m.batch)).toBe(true);
  });
});
