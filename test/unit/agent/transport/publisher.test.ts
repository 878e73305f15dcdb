import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../../agent/config.js';
import { Outbox } from '../../../../agent/transport/outbox.js';
import { Publisher } from '../../../../agent/transport/publisher.js';
import { withSendTime } from '../../../../agent/transport/record-envelope.js';
import { systemClock, type Clock, type TimerHandle } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { waitFor } from '../../../helpers/wait.js';
import { ackTopic } from '../../../../contract/ack.js';

/**
 * An MQTT client stand-in that records publishes, PUBACKs them at once, and plays the
 * collector: after `ackDelayMs` it publishes the end-to-end ack (issue 12) for each record,
 * unless `ackFilter` says not to.
 */
class RecordingClient extends EventEmitter {
  options: Record<string, unknown> = {};
  published: Array<{ topic: string; payload: string; at: number }> = [];
  connected = false;
  ackFilter: (seq: number) => boolean = () => true;
  constructor(private readonly ackDelayMs: number) {
    super();
  }
  publish(topic: string, payload: string, _opts: unknown, cb: (err?: Error) => void) {
    this.published.push({ topic, payload, at: Date.now() });
    cb(); // PUBACK: the broker has it, which acks nothing by itself
    if (topic.endsWith('/status')) return;
    const { boot, seq } = JSON.parse(payload) as { boot: string; seq: number };
    if (!this.ackFilter(seq)) return; // decided at publish: this copy is lost on its way
    setTimeout(() => {
      if (this.connected) this.emit('message', ackTopic('s1', 'h1'), Buffer.from(JSON.stringify({ v: 1, acks: [{ boot, ranges: [[seq, seq]] }] })));
    }, this.ackDelayMs);
  }
  subscribe(topic: string, opts: { qos: number }, cb: (err: Error | null, granted: Array<{ topic: string; qos: number }>) => void) {
    cb(null, [{ topic, qos: opts.qos }]);
  }
  end(_force?: boolean, _opts?: unknown, cb?: () => void) {
    this.connected = false;
    (cb ?? (typeof _opts === 'function' ? (_opts as () => void) : undefined))?.();
  }
  goOnline() {
    this.connected = true;
    this.emit('connect', { sessionPresent: false });
  }
}

const config = AgentConfigSchema.parse({ site: 's1', host: 'h1', mqtt: { password: 'p', replayPerSecond: 200, inflight: 8 } });
let outbox: Outbox | undefined;
afterEach(async () => {
  await outbox?.close();
});

/** A record body as agent.ts writes it (envelope first); `extra` marks it for the test. */
const rec = (seq: number, extra: Record<string, unknown>) => JSON.stringify({ v: 1, site: 's1', host: 'h1', boot: 'boot-test-1', seq, t: 1, ...extra });

function setup(ackDelayMs = 2, client: RecordingClient = new RecordingClient(ackDelayMs), mqtt: Record<string, unknown> = {}, clock: Clock = systemClock) {
  outbox = new Outbox({
    dir: mkdtempSync(join(tmpdir(), 'canh-pub-')),
    maxBytes: 8 * 1024 * 1024,
    segmentBytes: 1024 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    clock,
    log: silentLogger(),
  });
  const pub = new Publisher({
    config: { ...config, mqtt: { ...config.mqtt, ...mqtt } },
    outbox,
    clock,
    log: silentLogger(),
    status: (state) => ({ topic: 'canh/v1/s1/h1/status', payload: JSON.stringify({ state }) }),
    connect: () => client as unknown as MqttClient,
  });
  return { outbox, client, pub };
}

describe('Publisher', () => {
  it('stamps the send time into the stored body', () => {
    expect(withSendTime('{"v":1,"seq":3}', 1234)).toBe('{"v":1,"seq":3,"sent":1234}');
    expect(JSON.parse(withSendTime(JSON.stringify({ a: 'é}' }), 5))).toEqual({ a: 'é}', sent: 5 });
  });

  it('replays a backlog in order at the configured pace while live samples go out at once', async () => {
    const { outbox, client, pub } = setup();
    await outbox.open();
    pub.start();
    // 400 samples taken while offline.
    for (let i = 0; i < 400; i++) await pub.enqueue('canh/v1/s1/h1/samples', rec(i, { backlog: i }));
    expect(client.published).toHaveLength(0);
    client.goOnline();
    await waitFor(() => client.published.filter((p) => p.payload.includes('backlog')).length >= 50);
    // A live sample now: it must not wait behind the remaining ~350 backlog records (≈1.7 s at 200/s).
    const liveAt = Date.now();
    await pub.enqueue('canh/v1/s1/h1/samples', rec(400, { live: 1 }));
    await waitFor(() => client.published.some((p) => p.payload.includes('"live"')));
    const live = client.published.find((p) => p.payload.includes('"live"'))!;
    expect(live.at - liveAt).toBeLessThan(300);
    await waitFor(() => client.published.filter((p) => p.payload.includes('backlog')).length === 400);
    const backlogAfterLive = client.published.filter((p) => p.payload.includes('backlog') && p.at >= live.at).length;
    expect(backlogAfterLive).toBeGreaterThan(100); // really interleaved, not queued after the backlog
    const order = client.published.filter((p) => p.payload.includes('backlog')).map((p) => (JSON.parse(p.payload) as { backlog: number }).backlog);
    expect(order).toEqual(Array.from({ length: 400 }, (_, i) => i));
    // Paced: 400 records at 200/s take well over a second.
    const bl = client.published.filter((p) => p.payload.includes('backlog'));
    expect(bl[bl.length - 1]!.at - bl[0]!.at).toBeGreaterThan(1000);
    // Every send carries `sent`, and everything was acked (by the collector) out of the outbox.
    expect(client.published.every((p) => p.topic.endsWith('status') || typeof (JSON.parse(p.payload) as { sent?: number }).sent === 'number')).toBe(true);
    await waitFor(() => outbox.stats().records === 0);
    expect(pub.stats()).toMatchObject({ acked: 401, resent: 0, unacked: 0 });
    await pub.stop(500);
  });

  it('keeps a message the broker PUBACKed but the collector never acked, and sends it again', async () => {
    // Replaces the old PUBACK 0x10 special case: whatever the broker answers, only the
    // collector's ack removes a record.
    const client = new RecordingClient(2);
    let dropped = 0;
    client.ackFilter = (seq) => !(seq < 3 && dropped++ < 3); // the collector never sees the first copies
    const { outbox, pub } = setup(2, client, { ackTimeoutSeconds: 1 });
    await outbox.open();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await pub.enqueue('canh/v1/s1/h1/samples', rec(i, { n: i }));
    await new Promise((r) => setTimeout(r, 50));
    expect(outbox.stats().records).toBe(3);
    await waitFor(() => outbox.stats().records === 0, { timeoutMs: 5000 });
    const sends = client.published.filter((p) => p.topic.endsWith('samples')).map((p) => (JSON.parse(p.payload) as { n: number }).n);
    expect(sends).toEqual([0, 1, 2, 0, 1, 2]);
    expect(pub.stats().resent).toBe(3);
    await pub.stop(500);
  });

  it('keeps unacked records for the next connection after a disconnect', async () => {
    const { outbox, client, pub } = setup(50);
    await outbox.open();
    pub.start();
    client.goOnline();
    client.ackFilter = () => false; // the link drops before any ack arrives
    for (let i = 0; i < 5; i++) await pub.enqueue('canh/v1/s1/h1/samples', rec(i, { n: i }));
    await waitFor(() => client.published.filter((p) => p.payload.includes('"n"')).length === 5);
    client.connected = false;
    client.emit('close');
    client.ackFilter = () => true;
    for (let i = 5; i < 10; i++) await pub.enqueue('canh/v1/s1/h1/samples', rec(i, { n: i }));
    const sentBefore = client.published.length;
    client.goOnline();
    await waitFor(() => outbox.stats().records === 0);
    const resent = client.published
      .slice(sentBefore)
      .map((p) => p.payload)
      .filter((p) => p.includes('"n"'));
    // 0..4 were in flight: sent again; 5..9 were never sent before the reconnect; all in order.
    const ns = resent.map((p) => (JSON.parse(p) as { n: number }).n);
    expect(ns).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await pub.stop(500);
  });

  it('sends a live record and persists the ack cursor without a 0 ms timer (each one was a 1 ms sleep: a wake-up per sample and per ack)', async () => {
    // The system clock, with its timers counted by delay.
    const zeroTimers: number[] = [];
    let soon = 0;
    const counting: Clock = {
      now: () => systemClock.now(),
      monotonic: () => systemClock.monotonic(),
      setTimeout: (fn: () => void, ms: number): TimerHandle => {
        if (ms <= 0) zeroTimers.push(ms);
        return systemClock.setTimeout(fn, ms);
      },
      setInterval: (fn: () => void, ms: number) => systemClock.setInterval(fn, ms),
      clear: (h) => systemClock.clear(h),
      soon: (fn: () => void) => {
        soon++;
        return systemClock.soon!(fn);
      },
      sleep: (ms: number) => systemClock.sleep(ms),
    };
    const { outbox, client, pub } = setup(2, undefined, {}, counting);
    await outbox.open();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 5; i++) {
      await pub.enqueue('canh/v1/s1/h1/samples', rec(i, { n: i }));
      await waitFor(() => pub.stats().acked === i + 1);
      await new Promise((r) => setTimeout(r, 1100)); // past the cursor's persist spacing: each ack persists at once
    }
    await waitFor(() => outbox.stats().records === 0);
    expect(client.published.filter((p) => p.topic.endsWith('samples'))).toHaveLength(5);
    expect(zeroTimers).toEqual([]);
    expect(soon).toBeGreaterThanOrEqual(10); // a pump per enqueue and per ack, a cursor persist per ack
    await pub.stop(500);
  });
});
