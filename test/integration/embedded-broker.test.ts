import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { MAX_PACKET_BYTES } from '../../contract/limits.js';
import { ackCovers, ackTopic, decodeAck, type AckMessage } from '../../contract/ack.js';
import { topicFor } from '../../contract/topics.js';
import { configTopic } from '../../contract/agent-config.js';
import { updateTopic } from '../../contract/agent-update.js';
import { waitFor } from '../helpers/wait.js';
import { SINGLE_BROKER_HEARTBEAT_MS } from '../../collector/broker/embedded-broker.js';

let collector: Collector;
let url: string;
let hostA: { username: string; password: string };
let hostB: { username: string; password: string };
let siteCred: { username: string; password: string };

function connect(opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    // The client id the broker binds to the credential (an agent's: `<site>.<host>`).
    const clientId = opts.username === undefined || opts.username.includes('.') ? opts.username : `${opts.username}.itest-host`;
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...(clientId ? { clientId } : {}), ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

async function waitUntil(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

const sample = (site: string, host: string, seq: number, over: Record<string, unknown> = {}) => {
  const t = Date.now();
  return JSON.stringify({
    v: 1,
    site,
    host,
    boot: 'itest-boot-1',
    seq,
    t,
    sent: t,
    interval: 15,
    metrics: { cpu: { usage: 10, load1: 0, load5: 0, load15: 0, cores: 1 } },
    ...over,
  });
};

/** Publish and wait for the collector's end-to-end ack of (boot, seq) on the own ack topic. */
async function publishAcked(c: MqttClient, site: string, host: string, kind: 'samples' | 'status', body: string, seq: number): Promise<AckMessage> {
  const topic = ackTopic(site, host);
  await c.subscribeAsync(topic, { qos: 0 });
  const acked = new Promise<AckMessage>((resolve) => {
    const on = (t: string, payload: Buffer) => {
      const ack = t === topic ? decodeAck(payload) : undefined;
      if (ack && ackCovers(ack, 'itest-boot-1', seq)) {
        c.off('message', on);
        resolve(ack);
      }
    };
    c.on('message', on);
  });
  await c.publishAsync(topicFor(site, host, kind), body, { qos: 1 });
  return acked;
}

const metric = (name: string) => {
  const line = collector.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
};

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'canh-embedded-'));
  const config = CollectorConfigSchema.parse({ dataDir, broker: { embedded: { host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0 } });
  collector = await Collector.open(config, silentLogger());
  const now = Date.now();
  hostA = collector.credentials.add({ site: 'xa-a', host: 'pc-1', now });
  hostB = collector.credentials.add({ site: 'xa-a', host: 'pc-2', now });
  siteCred = collector.credentials.add({ site: 'xa-b', now });
  await collector.start();
  url = `mqtt://127.0.0.1:${collector.broker!.port()}`;
});

afterAll(async () => {
  await collector?.stop();
});

describe('embedded broker', () => {
  it('refuses a wrong password and an anonymous client', async () => {
    await expect(connect({ username: hostA.username, password: 'wrong' })).rejects.toMatchObject({ code: 4 });
    await expect(connect({})).rejects.toMatchObject({ code: 4 });
    expect(metric('canh_broker_auth_failures_total')).toBeGreaterThanOrEqual(2);
  });

  it('stores a message an agent publishes as itself and acks it end to end only after the store', async () => {
    const c = await connect({ username: hostA.username, password: hostA.password });
    const ack = await publishAcked(c, 'xa-a', 'pc-1', 'samples', sample('xa-a', 'pc-1', 1), 1);
    // The collector's ack came back: the sample is already in the store.
    expect(collector.store.latestSample('xa-a', 'pc-1')?.seq).toBe(1);
    expect(ack.acks).toEqual([{ boot: 'itest-boot-1', ranges: [[1, 1]] }]);
    // A re-send (lost ack) is acked again and stored once.
    const again = await publishAcked(c, 'xa-a', 'pc-1', 'samples', sample('xa-a', 'pc-1', 1), 1);
    expect(again.acks).toEqual([{ boot: 'itest-boot-1', ranges: [[1, 1]] }]);
    expect(collector.store.samples('xa-a', 'pc-1', { from: 0, to: Date.now() + 1, limit: 10 })).toHaveLength(1);
    await c.endAsync();
  });

  it("an agent cannot read another PC's acks, nor publish acks", async () => {
    const b = await connect({ username: hostB.username, password: hostB.password });
    await expect(b.subscribeAsync(ackTopic('xa-a', 'pc-1'), { qos: 0 })).rejects.toThrow(/Subscribe error/);
    const gone = closed(b);
    b.publish(ackTopic('xa-a', 'pc-2'), JSON.stringify({ v: 1, acks: [] }), { qos: 1 });
    await gone; // refused: connection cut
    b.end(true);
  });

  it.each([
    ['config', configTopic],
    ['update', updateTopic],
  ] as const)('remote configuration and update offers: no agent publishes on a %s topic; the collector does, retained; each agent reads its own only', async (kind, topicOf) => {
    const fake = JSON.stringify({ v: 1, version: 99, hash: 'abc', config: { intervalSeconds: 60 } });
    for (const topic of [topicOf('xa-a', 'pc-1'), topicOf('xa-a', 'pc-2')]) {
      const a = await connect({ username: hostA.username, password: hostA.password });
      const gone = closed(a);
      a.publish(topic, fake, { qos: 1, retain: true });
      await gone; // refused: connection cut
      a.end(true);
    }
    const real = JSON.stringify({ v: 1, version: 1, hash: 'def', config: { intervalSeconds: 30 } });
    expect(collector.broker!.publishConfig(topicOf('xa-a', 'pc-1'), real)).toBe(true);
    const a = await connect({ username: hostA.username, password: hostA.password });
    const aGot: string[] = [];
    a.on('message', (t, p) => aGot.push(`${t} ${p.toString()}`));
    await a.subscribeAsync(topicOf('xa-a', 'pc-1'), { qos: 1 });
    const b = await connect({ username: hostB.username, password: hostB.password });
    const bGot: string[] = [];
    b.on('message', (t) => bGot.push(t));
    await expect(b.subscribeAsync(topicOf('xa-a', 'pc-1'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(b.subscribeAsync(`canh/v1/xa-a/+/${kind}`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await b.subscribeAsync(topicOf('xa-a', 'pc-2'), { qos: 1 });
    await waitFor(() => aGot.length > 0, { timeoutMs: 5000, what: 'the retained config at pc-1' });
    await new Promise((r) => setTimeout(r, 300));
    expect(aGot).toEqual([`${topicOf('xa-a', 'pc-1')} ${real}`]);
    expect(bGot).toEqual([]);
    await a.endAsync();
    await b.endAsync();
  });

  it('refuses a publish as another host: connection cut, counted, nothing stored', async () => {
    const before = metric('canh_ingest_rejected_total{reason="identity_mismatch"}');
    const c = await connect({ username: hostA.username, password: hostA.password });
    const gone = closed(c);
    c.publish(topicFor('xa-a', 'pc-2', 'samples'), sample('xa-a', 'pc-2', 1), { qos: 1 });
    await gone;
    expect(collector.store.latestSample('xa-a', 'pc-2')).toBeUndefined();
    expect(metric('canh_ingest_rejected_total{reason="identity_mismatch"}')).toBe(before + 1);
    c.end(true);
  });

  it('refuses a payload that claims another host on the own topic', async () => {
    const c = await connect({ username: hostB.username, password: hostB.password });
    await c.publishAsync(topicFor('xa-a', 'pc-2', 'samples'), sample('xa-a', 'pc-1', 99), { qos: 1 });
    await publishAcked(c, 'xa-a', 'pc-2', 'samples', sample('xa-a', 'pc-2', 100), 100); // the bad one was handled before
    expect(collector.store.latestSample('xa-a', 'pc-1')?.seq).toBe(1);
    await c.endAsync();
  });

  it('a per-site credential may publish for any host of its site only', async () => {
    const c = await connect({ username: siteCred.username, password: siteCred.password });
    await publishAcked(c, 'xa-b', 'pc-9', 'samples', sample('xa-b', 'pc-9', 1), 1);
    expect(collector.store.latestSample('xa-b', 'pc-9')?.seq).toBe(1);
    const gone = closed(c);
    c.publish(topicFor('xa-a', 'pc-9', 'samples'), sample('xa-a', 'pc-9', 1), { qos: 1 });
    await gone;
    expect(collector.store.latestSample('xa-a', 'pc-9')).toBeUndefined();
    c.end(true);
  });

  it('agents may not subscribe (SUBACK refused)', async () => {
    const c = await connect({ username: hostA.username, password: hostA.password });
    // mqtt.js turns a SUBACK with return code 0x80 into an error.
    await expect(c.subscribeAsync('canh/v1/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await c.endAsync();
  });

  it('cuts a connection that announces a packet over the limit, before buffering it', async () => {
    const before = metric('canh_broker_oversize_packets_total');
    const c = await connect({ username: hostA.username, password: hostA.password });
    const gone = closed(c);
    c.publish(topicFor('xa-a', 'pc-1', 'samples'), Buffer.alloc(MAX_PACKET_BYTES + 1024, 0x20), { qos: 0 });
    await gone;
    expect(metric('canh_broker_oversize_packets_total')).toBe(before + 1);
    c.end(true);
  });

  it('the Last Will marks the host offline when the agent drops', async () => {
    const t = Date.now();
    const status = (state: string) => JSON.stringify({ v: 1, site: 'xa-a', host: 'pc-1', boot: 'itest-boot-1', seq: 5, t, sent: t, state, hostname: 'PC 1', agentVersion: 't' });
    const c = await connect({
      username: hostA.username,
      password: hostA.password,
      keepalive: 2,
      will: { topic: topicFor('xa-a', 'pc-1', 'status'), payload: Buffer.from(status('offline')), qos: 1, retain: true },
    });
    await c.publishAsync(topicFor('xa-a', 'pc-1', 'status'), status('online'), { qos: 1, retain: true });
    // Status is not an outbox record, so it has no ack: it is stored with the next commit.
    await waitUntil(() => collector.store.getHost('xa-a', 'pc-1')?.state === 'online');
    expect(collector.store.getHost('xa-a', 'pc-1')?.state).toBe('online');
    // Simulate the PC vanishing: destroy the socket without DISCONNECT.
    (c as unknown as { stream: { destroy(): void } }).stream.destroy();
    await waitFor(() => collector.store.getHost('xa-a', 'pc-1')?.state === 'offline', { what: 'pc-1 offline after its socket died' });
    expect(collector.store.getHost('xa-a', 'pc-1')?.state).toBe('offline');
    c.end(true);
  });

  it("survives an error aedes reports on its own (counted, logged), and keeps serving; aedes' will sweep for dead cluster peers is off", async () => {
    const aedes = (collector.broker as unknown as { aedes: { emit(e: string, err: Error): boolean; opts: { heartbeatInterval: number } } }).aedes;
    const before = metric('canh_broker_errors_total');
    // As aedes' will sweeper does when a will it publishes is refused (the collector's end in the province run).
    expect(aedes.emit('error', new Error('not authorised to publish on this topic'))).toBe(true);
    expect(metric('canh_broker_errors_total')).toBe(before + 1);
    const c = await connect({ username: hostA.username, password: hostA.password });
    const ack = await publishAcked(c, 'xa-a', 'pc-1', 'samples', sample('xa-a', 'pc-1', 40), 40);
    expect(ack.acks).toEqual([{ boot: 'itest-boot-1', ranges: [[40, 40]] }]);
    await c.endAsync();
    // A day between heartbeats: the sweep (every 4) never finds this broker's own heartbeat 3 old.
    expect(aedes.opts.heartbeatInterval).toBe(SINGLE_BROKER_HEARTBEAT_MS);
    expect(SINGLE_BROKER_HEARTBEAT_MS * 4).toBeLessThan(2 ** 31);
    expect(SINGLE_BROKER_HEARTBEAT_MS * 3).toBeGreaterThan(2 * 24 * 3600_000);
  });

  it("keeps a PC's retained status and Last Will in bytes of their own, not as views into the connection's read (issue 12: 10,000 replays held ~325 MB)", async () => {
    const cred = collector.credentials.add({ site: 'xa-a', host: 'pc-9', now: Date.now() });
    const statusTopic = topicFor('xa-a', 'pc-9', 'status');
    const t = Date.now();
    const birth = JSON.stringify({
      v: 1,
      site: 'xa-a',
      host: 'pc-9',
      boot: 'itest-boot-9',
      seq: 0,
      t,
      sent: t,
      state: 'online',
      hostname: 'PC-9',
      agentVersion: 'itest',
      keepalive: 30,
    });
    const will = birth.replace('"online"', '"offline"');
    // MQTT 3.1.1 by hand: CONNECT (with a retained QoS 1 will), the retained birth and a
    // 60-record batch, in one write, as an agent's first flight after a reconnect.
    const str = (x: string | Buffer) => {
      const b = typeof x === 'string' ? Buffer.from(x) : x;
      return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]);
    };
    const packet = (head: number, body: Buffer) => {
      const len: number[] = [];
      let n = body.length;
      do {
        let d = n % 128;
        n = Math.floor(n / 128);
        if (n > 0) d |= 128;
        len.push(d);
      } while (n > 0);
      return Buffer.concat([Buffer.from([head, ...len]), body]);
    };
    const connect = packet(
      0x10,
      Buffer.concat([
        str('MQTT'),
        Buffer.from([4, 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02, 0, 30]),
        str('xa-a.pc-9'),
        str(statusTopic),
        str(will),
        str(cred.username),
        str(cred.password),
      ]),
    );
    const records = Array.from({ length: 60 }, (_, i) => sample('xa-a', 'pc-9', i + 1, { boot: 'itest-boot-9' }));
    const publish = (head: number, topic: string, id: number, body: string) => packet(head, Buffer.concat([str(topic), Buffer.from([id >> 8, id & 255]), Buffer.from(body)]));
    const flight = Buffer.concat([
      connect,
      publish(0x33, statusTopic, 1, birth),
      publish(0x32, topicFor('xa-a', 'pc-9', 'samples'), 2, `{"v":1,"records":[${records.join(',')}]}`),
    ]);
    expect(flight.length).toBeGreaterThan(10_000);
    const sock = createConnection(collector.broker!.port(), '127.0.0.1');
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(flight);
    // CONNACK (4 bytes) then a PUBACK (4 bytes) for each publish.
    await waitFor(() => got.length >= 12, { timeoutMs: 10_000, what: 'CONNACK and two PUBACKs' });
    expect([...got.subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
    await waitFor(() => collector.store.latestSample('xa-a', 'pc-9')?.seq === 60, { timeoutMs: 10_000, what: 'the batch stored' });

    const aedes = (
      collector.broker as unknown as {
        aedes: { clients: Record<string, { will?: { payload: Buffer } }>; persistence: { createRetainedStream(p: string): AsyncIterable<{ payload: Buffer }> } };
      }
    ).aedes;
    const retained: Buffer[] = [];
    for await (const p of aedes.persistence.createRetainedStream(statusTopic)) retained.push(p.payload);
    expect(retained.map((b) => b.toString())).toEqual([birth]);
    // Exactly its own size: not the ~15 KB read it arrived in.
    expect(retained[0]!.buffer.byteLength).toBe(Buffer.byteLength(birth));
    const w = aedes.clients['xa-a.pc-9']?.will?.payload;
    expect(w?.toString()).toBe(will);
    expect(w!.buffer.byteLength).toBe(Buffer.byteLength(will));
    sock.destroy();
  });

  it('health reports hosts online and samples stored', async () => {
    const res = await fetch(`http://127.0.0.1:${collector.http.port()}/api/health`);
    const body = (await res.json()) as { status: string; samplesStored: number; hostsOnline: number };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.samplesStored).toBe(collector.store.countSamples());
    expect(body.samplesStored).toBeGreaterThanOrEqual(2);
    expect(typeof body.hostsOnline).toBe('number');
    const metrics = await (await fetch(`http://127.0.0.1:${collector.http.port()}/metrics`)).text();
    expect(metrics).toMatch(/^canh_ingest_accepted_total\{kind="samples"\} \d+$/m);
    expect(metrics).toMatch(/^canh_ingest_rejected_total\{reason="identity_mismatch"\} [1-9]\d*$/m);
  });
});
