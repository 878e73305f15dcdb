/**
 * Issue 12, agent side, through a real broker: the agent's real Publisher and Outbox (temp
 * dir) against aedes in process, and a test "collector" that subscribes to the data topics,
 * records (boot, seq) and publishes acks on `canh/v1/<site>/<host>/ack` only when the test
 * says so. A record leaves the outbox only on that ack, never on the broker's PUBACK, and
 * what the collector missed (no subscriber: the broker drops it after its PUBACK) is re-sent.
 *
 * aedes speaks MQTT 3.1.1 only: an agent configured for 5 is refused (CONNACK 1) and falls
 * back to 4 by itself; both configurations are run.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../../agent/config.js';
import { Outbox } from '../../agent/transport/outbox.js';
import { Publisher } from '../../agent/transport/publisher.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { AckBuilder, ackTopic } from '../../contract/ack.js';
import { topicFor } from '../../contract/topics.js';

const SITE = 'xa-ack';
const HOST = 'pc-1';
const BOOT = 'e2e-ack-boot-1';

interface Broker {
  url: string;
  close(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const aedes = await Aedes.createBroker({ id: 'e2e-ack' });
  const server: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Stands in for the collector: remembers what reached it and acks on demand. */
class TestCollector {
  readonly received: Array<{ boot: string; seq: number; sent: number; at: number }> = [];
  /** Return false to "lose" a copy (not recorded, never acked). */
  accept: (seq: number) => boolean = () => true;
  private constructor(readonly client: MqttClient) {}

  static async connect(url: string): Promise<TestCollector> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'test-collector', reconnectPeriod: 0 });
    const c = new TestCollector(client);
    client.on('message', (topic, payload) => {
      if (!/\/(samples|events|inventory)$/.test(topic)) return;
      const m = JSON.parse(payload.toString()) as { boot: string; seq: number; sent: number };
      if (c.accept(m.seq)) c.received.push({ boot: m.boot, seq: m.seq, sent: m.sent, at: Date.now() });
    });
    await client.subscribeAsync(['canh/v1/+/+/samples', 'canh/v1/+/+/events', 'canh/v1/+/+/inventory'], { qos: 1 });
    return c;
  }

  seqs(): number[] {
    return this.received.map((r) => r.seq);
  }

  /** Publish one ack (QoS 0, as the collector does) for every (boot, seq) received so far. */
  async ackAll(): Promise<void> {
    const b = new AckBuilder();
    for (const r of this.received) b.add(r.boot, r.seq);
    await this.client.publishAsync(ackTopic(SITE, HOST), JSON.stringify(b.build()), { qos: 0 });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

const body = (seq: number) => JSON.stringify({ v: 1, site: SITE, host: HOST, boot: BOOT, seq, t: Date.now(), interval: 15, metrics: {} });

async function until(pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

async function agentOn(url: string, protocolVersion: 4 | 5) {
  const config = AgentConfigSchema.parse({
    site: SITE,
    host: HOST,
    mqtt: { url, password: 'unused', protocolVersion, ackTimeoutSeconds: 1, ackTimeoutMaxSeconds: 2, inflight: 8, reconnectSeconds: 0.2, reconnectMaxSeconds: 0.5 },
  });
  const outbox = new Outbox({
    dir: mkdtempSync(join(tmpdir(), 'canh-e2e-ack-')),
    maxBytes: 8 * 1024 * 1024,
    segmentBytes: 1024 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    clock: systemClock,
    log: silentLogger(),
  });
  await outbox.open();
  const pub = new Publisher({
    config,
    outbox,
    clock: systemClock,
    log: silentLogger(),
    status: (state) => ({ topic: topicFor(SITE, HOST, 'status'), payload: JSON.stringify({ v: 1, state }) }),
    // The real mqtt.js client; the agent's slim connector (mqtt-connect.ts) loads
    // mqtt/lib/client through Node's CommonJS interop, which vitest's loader does not give.
    connect: (u, opts) => mqtt.connect(u, opts),
  });
  cleanup.push(async () => {
    await pub.stop(200);
    await outbox.close();
  });
  return { pub, outbox };
}

describe.each([4, 5] as const)('agent end-to-end ack through aedes (configured MQTT %i)', (protocolVersion) => {
  it('keeps records until the collector acks them, re-sends what it lost, and empties the outbox after the acks', async () => {
    const broker = await startBroker();
    cleanup.push(() => broker.close());
    const collector = await TestCollector.connect(broker.url);
    cleanup.push(() => collector.close());
    const { pub, outbox } = await agentOn(broker.url, protocolVersion);
    pub.start();
    await until(() => pub.stats().connected && pub.stats().ackSubscribed, 'agent connected and subscribed to its acks');
    expect(pub.stats().protocolVersion).toBe(4); // aedes refused 5: fell back

    // The collector loses the first copy of seq 0 and 1.
    const lost = new Set([0, 1]);
    collector.accept = (seq) => !lost.delete(seq);
    for (let seq = 0; seq < 5; seq++) await pub.enqueue(topicFor(SITE, HOST, 'samples'), body(seq));
    await until(() => collector.received.length === 3, 'three copies received');
    expect(collector.seqs()).toEqual([2, 3, 4]);
    // PUBACKed by the broker, but nothing is acked by the collector yet: all still on disk.
    await new Promise((r) => setTimeout(r, 200));
    expect(outbox.stats().records).toBe(5);
    expect(outbox.stats().firstUnacked).toBe(0);
    expect(pub.stats()).toMatchObject({ acked: 0, unacked: 5 });

    await collector.ackAll(); // 2..4
    await until(() => outbox.stats().records === 2, 'acked records removed');
    expect(outbox.stats().firstUnacked).toBe(0);

    // After the ack timeout (1 s) the lost ones come again, with a fresh `sent`: one at a time
    // (the timeout cut the congestion window to one record), the next once the collector
    // acks the first, as it does what it stores.
    await until(() => {
      if (collector.seqs().includes(0)) void collector.ackAll();
      return collector.seqs().includes(0) && collector.seqs().includes(1);
    }, 're-sent lost copies');
    const firstSent = collector.received.find((r) => r.seq === 2)!.sent;
    for (const r of collector.received.filter((x) => x.seq < 2)) expect(r.sent - firstSent).toBeGreaterThanOrEqual(900);
    await collector.ackAll();
    await until(() => outbox.stats().records === 0, 'outbox empty after the acks');
    expect(outbox.stats().firstUnacked).toBeUndefined();
    expect(pub.stats()).toMatchObject({ unacked: 0, acked: 5, badAcks: 0 });
    expect(pub.stats().resent).toBeGreaterThanOrEqual(2);
  });

  it('with no collector subscribed (the broker drops the messages after its PUBACK) nothing is lost', async () => {
    const broker = await startBroker();
    cleanup.push(() => broker.close());
    const { pub, outbox } = await agentOn(broker.url, protocolVersion);
    pub.start();
    await until(() => pub.stats().connected && pub.stats().ackSubscribed, 'agent connected');
    for (let seq = 0; seq < 20; seq++) await pub.enqueue(topicFor(SITE, HOST, 'samples'), body(seq));
    await new Promise((r) => setTimeout(r, 1500));
    expect(outbox.stats().records).toBe(20);
    expect(pub.stats().unacked).toBeLessThanOrEqual(8); // the window: the rest waits on disk
    expect(pub.stats().resent).toBeGreaterThan(0); // timed out, sent again (to nobody)

    const collector = await TestCollector.connect(broker.url);
    cleanup.push(() => collector.close());
    // Ack whatever arrives until the outbox is empty: the window refills as acks come.
    await until(
      () => {
        if (collector.received.length) void collector.ackAll();
        return outbox.stats().records === 0;
      },
      'all 20 delivered and acked',
      30_000,
    );
    expect(new Set(collector.seqs())).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
  });

  it('records in flight over a broker restart are re-sent on the next connection', async () => {
    let broker = await startBroker();
    const port = new URL(broker.url).port;
    const { pub, outbox } = await agentOn(broker.url, protocolVersion);
    pub.start();
    await until(() => pub.stats().connected, 'agent connected');
    let collector = await TestCollector.connect(broker.url);
    for (let seq = 0; seq < 3; seq++) await pub.enqueue(topicFor(SITE, HOST, 'samples'), body(seq));
    await until(() => collector.received.length === 3, 'first copies received');
    // The broker goes away before the collector acks (a restart without persistence).
    await collector.close().catch(() => undefined);
    await broker.close();
    await until(() => !pub.stats().connected, 'agent saw the cut');
    const cutAt = Date.now();
    expect(pub.stats().unacked).toBe(3);
    // Same port again.
    const aedes = await Aedes.createBroker({ id: 'e2e-ack-2' });
    const server = createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
    broker = {
      url: `mqtt://127.0.0.1:${port}`,
      close: async () => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    cleanup.push(() => broker.close());
    collector = await TestCollector.connect(broker.url);
    cleanup.push(() => collector.close());
    await until(() => collector.received.length >= 3, 're-sent after the reconnect');
    expect(collector.seqs().slice(0, 3)).toEqual([0, 1, 2]);
    // Sent again by the publisher with a fresh stamp, not replayed by mqtt.js with the old one.
    for (const r of collector.received) expect(r.sent).toBeGreaterThanOrEqual(cutAt);
    await collector.ackAll();
    await until(() => outbox.stats().records === 0, 'outbox empty');
  });
});
