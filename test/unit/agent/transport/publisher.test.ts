import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../../../agent/config.js';
import { Outbox } from '../../../../agent/transport/outbox.js';
import { Publisher, withSendTime } from '../../../../agent/transport/publisher.js';
import { systemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { waitFor } from '../../../helpers/wait.js';

/** An MQTT client stand-in that records publishes and acks them after `ackDelayMs`. */
class RecordingClient extends EventEmitter {
  options: Record<string, unknown> = {};
  published: Array<{ topic: string; payload: string; at: number }> = [];
  connected = false;
  constructor(private readonly ackDelayMs: number) {
    super();
  }
  publish(topic: string, payload: string, _opts: unknown, cb: (err?: Error) => void) {
    this.published.push({ topic, payload, at: Date.now() });
    setTimeout(() => cb(), this.ackDelayMs);
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

/** A broker that answers PUBACK 0x10 "no matching subscribers" to the first `n` publishes. */
class NoSubscriberClient extends RecordingClient {
  private nextId = 1;
  constructor(private remaining: number) {
    super(2);
  }
  override publish(topic: string, payload: string, _opts: unknown, cb: (err?: Error, packet?: { messageId: number }) => void) {
    const messageId = this.nextId++;
    this.published.push({ topic, payload, at: Date.now() });
    setTimeout(() => {
      if (this.remaining > 0 && topic.endsWith('samples')) {
        this.remaining--;
        this.emit('packetreceive', { cmd: 'puback', messageId, reasonCode: 0x10 });
      }
      cb(undefined, { messageId });
    }, 2);
  }
}

function setup(ackDelayMs = 2, client: RecordingClient = new RecordingClient(ackDelayMs)) {
  outbox = new Outbox({
    dir: mkdtempSync(join(tmpdir(), 'canh-pub-')),
    maxBytes: 8 * 1024 * 1024,
    segmentBytes: 1024 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    clock: systemClock,
    log: silentLogger(),
  });
  const pub = new Publisher({
    noSubscriberRetryMs: 200,
    config,
    outbox,
    clock: systemClock,
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
    for (let i = 0; i < 400; i++) await pub.enqueue('canh/v1/s1/h1/samples', JSON.stringify({ backlog: i }));
    expect(client.published).toHaveLength(0);
    client.goOnline();
    await waitFor(() => client.published.filter((p) => p.payload.includes('backlog')).length >= 50);
    // A live sample now: it must not wait behind the remaining ~350 backlog records (≈1.7 s at 200/s).
    const liveAt = Date.now();
    await pub.enqueue('canh/v1/s1/h1/samples', JSON.stringify({ live: 1 }));
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
    // Every send carries `sent`, and everything was acked into the outbox.
    expect(client.published.every((p) => p.topic.endsWith('status') || typeof (JSON.parse(p.payload) as { sent?: number }).sent === 'number')).toBe(true);
    await waitFor(() => outbox.stats().records === 0);
    await pub.stop(500);
  });

  it('keeps a message the broker had no subscriber for (PUBACK 0x10) and sends it again', async () => {
    const client = new NoSubscriberClient(3);
    const { outbox, pub } = setup(2, client);
    await outbox.open();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 3; i++) await pub.enqueue('canh/v1/s1/h1/samples', JSON.stringify({ n: i }));
    await new Promise((r) => setTimeout(r, 50));
    // Answered "no subscribers": not acknowledged in the outbox.
    expect(outbox.stats().records).toBe(3);
    expect(pub.stats().noSubscribers).toBe(3);
    await waitFor(() => outbox.stats().records === 0, { timeoutMs: 5000 });
    const sends = client.published.filter((p) => p.topic.endsWith('samples')).map((p) => (JSON.parse(p.payload) as { n: number }).n);
    expect(sends).toEqual([0, 1, 2, 0, 1, 2]);
    await pub.stop(500);
  });

  it('keeps unacked records for the next connection after a disconnect', async () => {
    const { outbox, client, pub } = setup(50);
    await outbox.open();
    pub.start();
    client.goOnline();
    for (let i = 0; i < 5; i++) await pub.enqueue('canh/v1/s1/h1/samples', JSON.stringify({ n: i }));
    client.connected = false;
    client.emit('close'); // link drops before the acks arrive
    for (let i = 5; i < 10; i++) await pub.enqueue('canh/v1/s1/h1/samples', JSON.stringify({ n: i }));
    const sentBefore = client.published.length;
    client.goOnline();
    await waitFor(() => outbox.stats().records === 0);
    const resent = client.published.slice(sentBefore).map((p) => p.payload).filter((p) => p.includes('"n"'));
    // Records 5..9 were never sent before the reconnect; they are replayed in order.
    const ns = resent.map((p) => (JSON.parse(p) as { n: number }).n);
    expect(ns.filter((n) => n >= 5)).toEqual([5, 6, 7, 8, 9]);
    await pub.stop(500);
  });
});
