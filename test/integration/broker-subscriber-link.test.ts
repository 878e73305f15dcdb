/**
 * The collector's link to an external broker (issue 12), against a REAL Mosquitto:
 * - a collector slow to take its messages (back-pressure: the broker's PINGRESP waits behind
 *   them) keeps its link: in the 10,000-agent replay its own keepalive timed out, it heard
 *   nobody, and silent sites were recorded as cut;
 * - every time without a link is an episode the outage correlator treats as the collector's
 *   own deafness (collector/health/broker-link.ts);
 * - end-to-end acks waiting in a socket the broker does not read are bounded (dropped, counted
 *   by the caller; the agent sends again).
 * Fails (does not skip) when mosquitto is not installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerSubscriber } from '../../collector/broker/broker-subscriber.js';
import { CredentialStore } from '../../collector/broker/credentials.js';
import { exportMosquittoFiles } from '../../collector/broker/mosquitto-config.js';
import { BrokerLink } from '../../collector/health/broker-link.js';
import { silentLogger } from '../../common/log.js';
import { MetricsRegistry } from '../../common/metrics-registry.js';
import { systemClock } from '../../common/clock.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';

const NOW = Date.UTC(2025, 0, 1);

describe('the collector link to an external broker', { timeout: 60_000 }, () => {
  let dir: string;
  let broker: RunningMosquitto;
  const pw: Record<string, string> = {};
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canh-link-'));
    const store = new CredentialStore(new Database(':memory:'));
    store.init();
    for (const host of ['a1', 'a2', 'a3']) {
      const agent = store.add({ site: 's1', host, now: NOW });
      pw[agent.username] = agent.password;
    }
    const col = store.add({ role: 'collector', now: NOW });
    pw[col.username] = col.password;
    const files = await exportMosquittoFiles(store, dir);
    broker = await startMosquitto({ dir, passwdFile: files.passwordFile, aclFile: files.aclFile });
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function subscriber(url: string, delayMs: number) {
    const metrics = new MetricsRegistry();
    const link = new BrokerLink({ clock: systemClock, log: silentLogger(), metrics });
    let taken = 0;
    const sub = new BrokerSubscriber({
      url,
      username: 'canh-collector',
      password: pw['canh-collector']!,
      clientId: 'canh-collector',
      // A collector that takes each message only after `delayMs` (its receive queue full).
      commit: {
        submit: () =>
          delayMs > 0
            ? new Promise<void>((resolve) =>
                setTimeout(() => {
                  taken++;
                  resolve();
                }, delayMs),
              )
            : void taken++,
      },
      receiveMaximum: 500,
      keepaliveSeconds: 1,
      clock: systemClock,
      log: silentLogger(),
      metrics,
      link,
    });
    closers.push(() => sub.stop());
    return { sub, link, taken: () => taken };
  }

  async function agent(host = 'a1'): Promise<MqttClient> {
    const c = await mqtt.connectAsync(broker.url, { username: `s1.${host}`, password: pw[`s1.${host}`], clientId: `s1.${host}`, protocolVersion: 5, reconnectPeriod: 0 });
    closers.push(() => c.endAsync());
    return c;
  }

  it('keeps its link while it takes a backlog slowly (a keepalive of 1 s, 8 s of back-pressure)', async () => {
    const { sub, link, taken } = subscriber(broker.url, 20);
    await sub.start();
    await waitFor(() => sub.isConnected() || undefined, { timeoutMs: 10_000, what: 'subscriber connected' });
    expect(link.summary()).toMatchObject({ count: 1, now: false }); // the start, before the first CONNACK
    const pub = await agent();
    const payload = Buffer.alloc(600, 'x');
    // 400 messages at once: 400 × 20 ms = 8 s of work queued in front of every PINGRESP.
    await Promise.all(Array.from({ length: 400 }, () => pub.publishAsync('canh/v1/s1/a1/samples', payload, { qos: 1 })));
    const until = Date.now() + 8000;
    let dropped = false;
    while (Date.now() < until) {
      if (!sub.isConnected()) dropped = true;
      await sleep(100);
    }
    expect(dropped, 'the subscriber timed out its own link while busy').toBe(false);
    expect(link.summary().count).toBe(1);
    expect(taken()).toBeGreaterThan(200);
    await sub.stop();
  });

  it('records each time without a link as an episode, and its length', async () => {
    const { sub, link } = subscriber(broker.url, 0);
    await sub.start();
    await waitFor(() => sub.isConnected() || undefined, { timeoutMs: 10_000, what: 'subscriber connected' });
    await sleep(2500); // episodes closer than 2 s are one: keep this one apart from the start's
    const downAt = Date.now();
    broker.kill('SIGKILL');
    await broker.exited();
    await waitFor(() => link.activeNow() || undefined, { timeoutMs: 5000, what: 'link down noticed' });
    await sleep(1500);
    await broker.restart();
    await waitFor(() => (sub.isConnected() && !link.activeNow()) || undefined, { timeoutMs: 15_000, what: 'link up again' });
    expect(link.summary().count).toBe(2);
    const ms = link.msWithin(downAt, Date.now());
    expect(ms).toBeGreaterThanOrEqual(1500);
    expect(ms).toBeLessThanOrEqual(Date.now() - downAt);
    await sub.stop();
  });

  it('refuses acks beyond its write buffer when the broker stops reading (bounded memory)', async () => {
    // A broker that accepts the connection, answers CONNACK, then reads nothing more.
    const sockets: Socket[] = [];
    const fake: Server = createServer((s) => {
      sockets.push(s);
      s.once('data', () => {
        s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00])); // MQTT 5 CONNACK, success, no properties
        s.pause();
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const closeFake = () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        fake.close(() => r());
      });
    const port = (fake.address() as { port: number }).port;
    const metrics = new MetricsRegistry();
    const sub = new BrokerSubscriber({
      url: `mqtt://127.0.0.1:${port}`,
      username: 'canh-collector',
      password: 'x',
      clientId: 'canh-collector',
      commit: { submit: () => undefined },
      keepaliveSeconds: 60,
      ackBufferBytes: 256 * 1024,
      clock: systemClock,
      log: silentLogger(),
      metrics,
    });
    // The fake broker goes first: the subscriber's DISCONNECT would wait for it to read.
    closers.push(() => sub.stop(), closeFake);
    await sub.start();
    await waitFor(() => sub.isConnected() || undefined, { timeoutMs: 10_000, what: 'connected to the fake broker' });
    const ack = JSON.stringify({ v: 1, acks: [{ boot: 'b'.repeat(16), ranges: [[1, 2]] }], pad: 'p'.repeat(4000) });
    let accepted = 0;
    let refused = 0;
    // Bounded: at most 20,000 acks (~80 MB offered); the kernel's socket buffers take a few MB.
    for (let i = 0; i < 20_000 && refused < 100; i++) {
      if (sub.publishAck('canh/v1/s1/a1/ack', ack)) accepted++;
      else refused++;
      if (i % 500 === 0) await sleep(5); // let the socket flush what the kernel takes
    }
    expect(refused).toBe(100);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted * ack.length).toBeLessThan(64 * 1024 * 1024);
  });
  it('re-reads the retained status of the PCs asked for, and of no other: in chunks, once per interval, flagged retained, the extra subscription gone', async () => {
    const metrics = new MetricsRegistry();
    const got: Array<{ topic: string; payload: string; retained: boolean }> = [];
    const sub = new BrokerSubscriber({
      url: broker.url,
      username: 'canh-collector',
      password: pw['canh-collector']!,
      clientId: 'canh-collector-reread',
      commit: {
        submit: (topic: string, payload: Uint8Array, context?: Record<string, unknown>) => {
          if (topic.endsWith('/status')) got.push({ topic, payload: Buffer.from(payload).toString(), retained: context?.retained === true });
          return undefined;
        },
      },
      clock: systemClock,
      log: silentLogger(),
      metrics,
      statusRereadMinMs: 3000,
      statusRereadChunk: 1,
      statusRereadGapMs: 300,
    });
    closers.push(() => sub.stop());
    // Three PCs' retained statuses (Last Wills, as after a power cut) before the collector subscribes.
    const will = (host: string) => JSON.stringify({ state: 'offline', host, t: NOW });
    for (const host of ['a1', 'a2', 'a3']) {
      const pc = await agent(host);
      await pc.publishAsync(`canh/v1/s1/${host}/status`, will(host), { qos: 1, retain: true });
    }
    await sub.start();
    await waitFor(() => sub.isConnected() || undefined, { timeoutMs: 10_000, what: 'subscriber connected' });
    // (The collector's session of the tests above may hold live statuses too: not flagged retained.)
    await waitFor(() => new Set(got.filter((g) => g.retained).map((g) => g.topic)).size === 3 || undefined, {
      timeoutMs: 5000,
      what: 'the three retained statuses at the subscription',
    });
    await sleep(500);
    got.length = 0;
    // Two PCs asked for (twice each): each one's status once, one SUBSCRIBE per chunk of one; a3's never.
    sub.readStatus('s1', 'a1', 'silence');
    sub.readStatus('s1', 'a2', 'unknown');
    sub.readStatus('s1', 'a1', 'silence');
    await waitFor(() => got.length === 2 || undefined, { timeoutMs: 5000, what: 'the two statuses read again' });
    await sleep(1000);
    expect(got.map((g) => g.topic).sort()).toEqual(['canh/v1/s1/a1/status', 'canh/v1/s1/a2/status']);
    expect(got.every((g) => g.retained)).toBe(true);
    expect(got.find((g) => g.topic.endsWith('a1/status'))!.payload).toBe(will('a1'));
    expect(metrics.render()).toMatch(/canh_broker_status_rereads_total\{reason="silence"\} 1/);
    expect(metrics.render()).toMatch(/canh_broker_status_rereads_total\{reason="unknown"\} 1/);
    // Asked again within the interval: nothing; after it: read again.
    got.length = 0;
    sub.readStatus('s1', 'a1', 'silence');
    await sleep(1000);
    expect(got).toHaveLength(0);
    await sleep(2200);
    sub.readStatus('s1', 'a1', 'silence');
    await waitFor(() => got.length === 1 || undefined, { timeoutMs: 5000, what: 'a1 read again after the interval' });
    // The re-read's own subscription is gone (once the broker answered the UNSUBSCRIBE): a live
    // status arrives once, not flagged retained.
    await sleep(500);
    got.length = 0;
    const pc = await agent('a1');
    await pc.publishAsync('canh/v1/s1/a1/status', JSON.stringify({ state: 'online', t: NOW + 1 }), { qos: 1, retain: true });
    await waitFor(() => got.length === 1 || undefined, { timeoutMs: 5000, what: 'the live status' });
    await sleep(500);
    expect(got).toHaveLength(1);
    expect(got[0]!.retained).toBe(false);
    for (const host of ['a1', 'a2', 'a3']) await (await agent(host)).publishAsync(`canh/v1/s1/${host}/status`, '', { qos: 1, retain: true }); // clear the retained messages
    await sub.stop();
  });
});
