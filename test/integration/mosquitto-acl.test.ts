/**
 * The exported passwd/acl files and mosquitto.conf against a REAL Mosquitto 2 broker.
 * Fails (does not skip) when mosquitto is not installed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../collector/broker/credentials.js';
import { exportMosquittoFiles } from '../../collector/broker/mosquitto-config.js';
import { verifyHash } from '../../collector/broker/password-hash.js';
import { MAX_PACKET_BYTES } from '../../contract/limits.js';
import { MOSQUITTO_PASSWD_BIN, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const NOW = Date.UTC(2025, 0, 1);

interface Received {
  topic: string;
  payload: string;
}

describe('Mosquitto with exported credentials and ACL', { timeout: 30_000 }, () => {
  let dir: string;
  let store: CredentialStore;
  let broker: RunningMosquitto;
  let collector: MqttClient;
  const received: Received[] = [];
  const pw: Record<string, string> = {};
  const clients: MqttClient[] = [];

  const connect = async (username: string, password: string, extra: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(broker.url, {
      username,
      password,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: `${username}-${Math.random().toString(16).slice(2, 8)}`,
      ...extra,
    });
    clients.push(c);
    return c;
  };

  /** The first message received that matches `pred`, waited for up to `ms`. */
  const message = (pred: (m: Received) => boolean, ms: number, what: string): Promise<Received> => waitFor(() => received.find(pred), { timeoutMs: ms, what });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canh-mosq-'));
    const db = new Database(':memory:');
    store = new CredentialStore(db); // default iterations: Mosquitto must accept both kinds
    store.init();
    const a1 = store.add({ site: 's1', host: 'a1', now: NOW }); // generated: Mosquitto's own 101 iterations
    pw[a1.username] = a1.password;
    const a2 = store.add({ site: 's1', host: 'a2', now: NOW, password: 'given-by-deployment-tooling-42' }); // given: 20000
    pw[a2.username] = a2.password;
    const s2 = store.add({ site: 's2', now: NOW });
    pw[s2.username] = s2.password;
    const col = store.add({ role: 'collector', now: NOW });
    pw[col.username] = col.password;
    // A second collector (shared subscription) has its own credential: the client id is the username.
    const col2 = store.add({ role: 'collector', username: 'canh-collector-2', now: NOW });
    pw[col2.username] = col2.password;
    const files = await exportMosquittoFiles(store, dir);
    // Named for the CLI's warning: under use_username_as_clientid it connects one PC at a time.
    expect(files.siteCredentials).toEqual(['s2']);
    broker = await startMosquitto({ dir, passwdFile: files.passwordFile, aclFile: files.aclFile });

    collector = await connect('canh-collector', pw['canh-collector']!);
    collector.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
    const granted = await collector.subscribeAsync('canh/v1/#', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exports passwd with mode 0600 and $7$ hashes: 101 iterations for generated passwords, 20000 for given ones', async () => {
    const st = await stat(join(dir, 'passwd'));
    expect(st.mode & 0o777).toBe(0o600);
    const text = await readFile(join(dir, 'passwd'), 'utf8');
    expect(text).toMatch(/^s1\.a1:\$7\$101\$/m);
    expect(text).toMatch(/^s1\.a2:\$7\$20000\$/m);
    expect(text.trimEnd().split('\n')).toHaveLength(5);
  });

  it('(a) refuses a wrong password, an unknown user and anonymous clients', async () => {
    const refused = (p: Promise<MqttClient>) =>
      p.then(
        (c) => {
          clients.push(c);
          return 'connected';
        },
        (e: unknown) => (e as { code?: number }).code,
      );
    // Mosquitto 2.0 answers every authentication failure with "not authorised":
    // MQTT 5 CONNACK reason 0x87 (not 0x86 "bad user name or password"), 3.1.1 code 5.
    expect(await refused(connect('s1.a1', 'wrong-password'))).toBe(0x87);
    expect(await refused(connect('s1.a1', 'wrong-password', { protocolVersion: 4 }))).toBe(5);
    expect(await refused(connect('s9.zz', pw['s1.a1']!))).toBe(0x87);
    expect(await refused(connect('s1.a1', ''))).toBe(0x87);
    expect(await refused(mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 }))).toBe(0x87);
    // The right password does connect (so the refusals above are about the password).
    expect((await connect('s1.a1', pw['s1.a1']!)).connected).toBe(true);
  });

  it('(b) an agent publishes QoS 1 on its own topic and the collector receives it', async () => {
    const a1 = await connect('s1.a1', pw['s1.a1']!);
    await a1.publishAsync('canh/v1/s1/a1/samples', 'b-own', { qos: 1 });
    const got = await message((m) => m.payload === 'b-own', 5000, "b's own message");
    expect(got?.topic).toBe('canh/v1/s1/a1/samples');
  });

  it("(c) publishing on another host's topic is dropped: PUBACK 0x87 on MQTT 5, silent on 3.1.1", async () => {
    const a1v5 = await connect('s1.a1', pw['s1.a1']!);
    const err = await a1v5.publishAsync('canh/v1/s1/a2/samples', 'c-forged-v5', { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(err?.code).toBe(0x87);

    const a1v4 = await connect('s1.a1', pw['s1.a1']!, { protocolVersion: 4 });
    await a1v4.publishAsync('canh/v1/s1/a2/samples', 'c-forged-v4', { qos: 1 }); // PUBACK, no error
    await a1v4.publishAsync('canh/v1/s2/x/samples', 'c-forged-site', { qos: 1 });
    await a1v4.publishAsync('canh/v1/s1/a1/samples', 'c-legit', { qos: 1 });

    expect(await message((m) => m.payload === 'c-legit', 5000, 'message c-legit')).toBeDefined();
    await new Promise((r) => setTimeout(r, 1500));
    expect(received.filter((m) => m.payload.startsWith('c-forged'))).toEqual([]);
    // The forged publishes did not cost the agent its connection.
    expect(a1v4.connected).toBe(true);
  });

  it('a per-site credential covers its hosts only', async () => {
    const s2 = await connect('s2', pw['s2']!);
    await s2.publishAsync('canh/v1/s2/any-host/status', 'site-ok', { qos: 1 });
    const err = await s2.publishAsync('canh/v1/s1/a1/status', 'site-forged', { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(err?.code).toBe(0x87);
    expect(await message((m) => m.payload === 'site-ok', 5000, 'message site-ok')).toBeDefined();
    expect(received.some((m) => m.payload === 'site-forged')).toBe(false);
  });

  it('the collector publishes only acks; each agent reads only its own ack; $share works for the collector', async () => {
    const err = await collector.publishAsync('canh/v1/s1/a1/samples', 'from-collector', { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(err?.code).toBe(0x87);

    // Mosquitto 2.0's acl_file does not refuse SUBSCRIBE (SUBACK grants any filter,
    // even '#'); it checks read access per delivered message instead. So an agent's
    // subscription is accepted but delivers only what it may read: its own ack topic.
    const a2 = await connect('s1.a2', pw['s1.a2']!);
    const agentGot: string[] = [];
    a2.on('message', (topic) => agentGot.push(topic));
    await a2.subscribeAsync(['canh/v1/#', '#'], { qos: 1 });
    const a1 = await connect('s1.a1', pw['s1.a1']!);
    const a1Got: string[] = [];
    a1.on('message', (topic, payload) => a1Got.push(`${topic} ${payload.toString()}`));
    await a1.subscribeAsync('canh/v1/s1/a1/ack', { qos: 0 });
    await a1.publishAsync('canh/v1/s1/a1/events', 'for-collector-only', { qos: 1 });
    expect(await message((m) => m.payload === 'for-collector-only', 5000, 'message for-collector-only')).toBeDefined();
    // An agent may not forge the collector's ack, for itself or for another PC.
    const forged = await a1.publishAsync('canh/v1/s1/a2/ack', 'forged', { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(forged?.code).toBe(0x87);
    // The collector's ack reaches a1 and nobody else.
    const acked = await collector.publishAsync('canh/v1/s1/a1/ack', 'ack-for-a1', { qos: 1 }).then(
      () => 'ok',
      (e: unknown) => (e as Error).message,
    );
    expect(acked).toBe('ok');
    await waitFor(() => a1Got.length > 0, { timeoutMs: 5000, what: 'the ack at a1' });
    expect(a1Got).toEqual(['canh/v1/s1/a1/ack ack-for-a1']);
    await new Promise((r) => setTimeout(r, 300));
    expect(agentGot).toEqual([]);

    const shared = await connect('canh-collector-2', pw['canh-collector-2']!);
    const subShared = await shared.subscribeAsync('$share/collectors/canh/v1/#', { qos: 1 });
    expect(subShared[0]?.qos).toBe(1);
  });

  it.each(['config', 'update'])('remote configuration and update offers: only the collector writes a %s topic (retained); each agent reads only its own', async (kind) => {
    const fake = JSON.stringify({ v: 1, version: 99, hash: 'abc', config: { intervalSeconds: 60 } });
    // An agent may not write any config topic, its own included: PUBACK 0x87 (MQTT 5).
    const a1 = await connect('s1.a1', pw['s1.a1']!);
    for (const topic of [`canh/v1/s1/a1/${kind}`, `canh/v1/s1/a2/${kind}`, `canh/v1/s2/x/${kind}`]) {
      const err = await a1.publishAsync(topic, fake, { qos: 1, retain: true }).then(
        () => undefined,
        (e: unknown) => e as { code?: number },
      );
      expect(err?.code, topic).toBe(0x87);
    }
    const s2 = await connect('s2', pw['s2']!);
    const siteErr = await s2.publishAsync(`canh/v1/s2/any-host/${kind}`, fake, { qos: 1, retain: true }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(siteErr?.code).toBe(0x87);
    // The collector may, retained.
    const real = JSON.stringify({ v: 1, version: 1, hash: 'def', config: { intervalSeconds: 30 } });
    await collector.publishAsync(`canh/v1/s1/a1/${kind}`, real, { qos: 1, retain: true });
    // A later subscriber gets the retained message: a1 on its own topic, a2 nothing (even subscribed to it).
    const a1Got: string[] = [];
    const a1Late = await connect('s1.a1', pw['s1.a1']!);
    a1Late.on('message', (topic, payload) => a1Got.push(`${topic} ${payload.toString()}`));
    await a1Late.subscribeAsync(`canh/v1/s1/a1/${kind}`, { qos: 1 });
    const a2Got: string[] = [];
    const a2 = await connect('s1.a2', pw['s1.a2']!);
    a2.on('message', (topic) => a2Got.push(topic));
    await a2.subscribeAsync([`canh/v1/s1/a1/${kind}`, `canh/v1/+/+/${kind}`, `canh/v1/s1/a2/${kind}`], { qos: 1 });
    await waitFor(() => a1Got.length > 0, { timeoutMs: 5000, what: 'the retained config at a1' });
    await new Promise((r) => setTimeout(r, 500));
    // Only the collector's message was ever kept: none of the agents' attempts.
    expect(a1Got).toEqual([`canh/v1/s1/a1/${kind} ${real}`]);
    expect(a2Got).toEqual([]);
  });

  it('(d) a packet larger than MAX_PACKET_BYTES makes Mosquitto close the connection', async () => {
    const a1 = await connect('s1.a1', pw['s1.a1']!, { protocolVersion: 4 });
    const closed = new Promise<boolean>((resolve) => {
      a1.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    a1.publish('canh/v1/s1/a1/inventory', Buffer.alloc(MAX_PACKET_BYTES + 1, 0x61), { qos: 1 });
    expect(await closed).toBe(true);
    expect(a1.connected).toBe(false);

    // MQTT 5: Mosquitto sends DISCONNECT with reason 0x95 "packet too large" first.
    // (mqtt.js does not enforce the broker's maximum packet size locally, and the
    // QoS 1 publish stays pending: the sender must never emit such a packet.)
    const a1v5 = await connect('s1.a1', pw['s1.a1']!);
    const disconnect = new Promise<number | undefined>((resolve) => {
      a1v5.on('packetreceive', (p) => {
        if (p.cmd === 'disconnect') resolve(p.reasonCode);
      });
      setTimeout(() => resolve(undefined), 5000);
    });
    const closedV5 = new Promise<void>((resolve) => a1v5.once('close', () => resolve()));
    a1v5.publish('canh/v1/s1/a1/inventory', Buffer.alloc(MAX_PACKET_BYTES + 1, 0x61), { qos: 1 });
    expect(await disconnect).toBe(0x95);
    await closedV5;
    expect(a1v5.connected).toBe(false);

    // Just under the limit is accepted (payload + topic + header fit in MAX_PACKET_BYTES).
    const ok = await connect('s1.a1', pw['s1.a1']!, { protocolVersion: 4 });
    const near = MAX_PACKET_BYTES - 100;
    await ok.publishAsync('canh/v1/s1/a1/inventory', Buffer.alloc(near, 0x62), { qos: 1 });
    const got = await message((m) => m.topic === 'canh/v1/s1/a1/inventory' && m.payload.length === near, 5000, 'the near-limit inventory');
    expect(got).toBeDefined();
    expect(received.some((m) => m.payload.length > MAX_PACKET_BYTES)).toBe(false);
  });

  it('(e) hashes are compatible both ways with mosquitto_passwd', async () => {
    const file = join(dir, 'passwd-compat');
    await run(MOSQUITTO_PASSWD_BIN, ['-c', '-b', file, 'compat', 'p@ss word']);
    const line = (await readFile(file, 'utf8')).trim();
    const hash = line.slice('compat:'.length);
    expect(hash).toMatch(/^\$7\$101\$/);
    expect(await verifyHash('p@ss word', hash)).toBe(true);
    expect(await verifyHash('p@ss-word', hash)).toBe(false);
    // Other way: our hashes (101 and 20000 iterations) were accepted by the broker in (b);
    // a fresh connect with the 20000-iteration credential works too.
    const c = await connect('s1.a2', pw['s1.a2']!, { protocolVersion: 4 });
    expect(c.connected).toBe(true);
  });

  it('revoke + re-export + SIGHUP locks the agent out and drops its live session', async () => {
    const live = await connect('s1.a2', pw['s1.a2']!);
    const liveClosed = new Promise<boolean>((resolve) => {
      live.once('close', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    store.revoke('s1.a2', NOW + 1);
    await exportMosquittoFiles(store, dir);
    broker.kill('SIGHUP');
    let code: number | undefined;
    for (let i = 0; i < 50 && code === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = await connect('s1.a2', pw['s1.a2']!).then(
        () => undefined,
        (e: unknown) => (e as { code?: number }).code ?? -1,
      );
    }
    expect([0x86, 0x87]).toContain(code);
    // Mosquitto re-applies security to connected clients on reload.
    expect(await liveClosed).toBe(true);
    // Others are unaffected.
    expect((await connect('s1.a1', pw['s1.a1']!)).connected).toBe(true);
  });
});
