import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { addCollectorCredential, addCredential, runCanhSync, startCanh, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 12: Last Wills that fall while the collector's ingest is saturated. Mosquitto drops
 * what does not fit its per-client queue for the collector; the agents' records come again
 * (kept until acked), but a will is published once: in the 10,000-agent replay a power cut
 * of 150 sites went unseen (no host offline, no incident). A PC silent with no will heard has
 * its retained status read again (only the silent PCs': reading all 10,000 into the queue that
 * just overflowed made it overflow again). Real Mosquitto (a queue of 5 for the collector), a real
 * collector in external mode with a small receive window, a flood of messages, and three
 * PCs whose sockets die during it.
 */
const SITE = 'xa-bao-hoa';
const HOSTS = ['pc-1', 'pc-2', 'pc-3'];

describe('Last Wills dropped by the broker while the collector is saturated', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-e2e-satwill-'));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  let mosq: RunningMosquitto;
  let collector: CanhProcess;
  let httpPort: number;
  const clients: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  const creds: Record<string, { username: string; password: string }> = {};

  const query = <T>(sql: string, ...p: unknown[]): T[] => {
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    try {
      return db.prepare(sql).all(...p) as T[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    for (const h of [...HOSTS, 'flood']) creds[h] = addCredential(dataDir, SITE, h);
    const collectorCred = addCollectorCredential(dataDir);
    const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    expect(exp.status, exp.stderr).toBe(0);
    mosq = await startMosquitto({ dir: mosqDir, passwdFile: join(mosqDir, 'passwd'), aclFile: join(mosqDir, 'acl'), conf: { maxQueuedMessages: 5 } });
    httpPort = await freePort();
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        CANH_COLLECTOR__BROKER__MODE: 'external',
        CANH_COLLECTOR__BROKER__EXTERNAL__URL: mosq.url,
        CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred.username,
        CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred.password,
        // 100 records per transaction, 200 in flight from the broker, a queue of 100: a flood saturates it.
        CANH_COLLECTOR__INGEST__BATCH_MESSAGES: '100',
        CANH_COLLECTOR__INGEST__QUEUE_MESSAGES: '100',
        CANH_COLLECTOR__OUTAGE__SILENCE_SECONDS: '5',
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      },
      'collector',
    );
    await collector.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to mosquitto');
  });

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await collector?.stop();
    await mosq?.stop();
  });

  const status = (host: string, state: 'online' | 'offline', t: number) =>
    JSON.stringify({ v: 1, site: SITE, host, boot: `boot-${host}-0001`, seq: 0, t, sent: t, state, hostname: host, agentVersion: 'test', keepalive: 10, osBoot: t - 3600_000 });

  /** An agent-like connection: a retained Last Will of its session, a retained birth. */
  async function pc(host: string): Promise<MqttClient> {
    const connectT = Date.now();
    const topic = `canh/v1/${SITE}/${host}/status`;
    const c = await mqtt.connectAsync(mosq.url, {
      ...creds[host]!,
      clientId: `${SITE}.${host}`,
      protocolVersion: 4,
      keepalive: 10,
      reconnectPeriod: 0,
      will: { topic, payload: Buffer.from(status(host, 'offline', connectT)), qos: 1, retain: true },
    });
    c.on('error', () => {});
    clients.push(c);
    await c.publishAsync(topic, status(host, 'online', connectT + 1), { qos: 1, retain: true });
    // A sample a second (the correlator then takes 5 s of silence for a drop).
    let seq = 1;
    timers.push(
      setInterval(() => {
        const t = Date.now();
        const body = {
          v: 1,
          site: SITE,
          host,
          boot: `boot-${host}-0001`,
          seq: seq++,
          t,
          sent: t,
          interval: 1,
          metrics: { cpu: { usage: 1, load1: 0, load5: 0, load15: 0, cores: 1 } },
        };
        if (c.connected) c.publish(`canh/v1/${SITE}/${host}/samples`, JSON.stringify(body), { qos: 1 });
      }, 1000),
    );
    return c;
  }

  const stateOf = () => Object.fromEntries(query<{ host: string; state: string }>(`SELECT host, state FROM hosts WHERE site = ?`, SITE).map((r) => [r.host, r.state]));

  it('the wills are read again once the PCs are silent after the saturation: every PC that dropped is offline', async () => {
    const pcs = await Promise.all(HOSTS.map((h) => pc(h)));
    await waitFor(() => HOSTS.every((h) => stateOf()[h] === 'online') || undefined, { timeoutMs: 15_000, what: 'the PCs online' });
    await new Promise((r) => setTimeout(r, 3000)); // samples tracked
    const flood = await mqtt.connectAsync(mosq.url, { ...creds.flood!, clientId: `${SITE}.flood`, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(flood);
    // The collector stands still (as when it cannot keep up) while 2,000 messages arrive: the
    // broker fills its 200 in flight and its queue of 5, and drops the rest; the three PCs'
    // sockets die then, and their wills are dropped too.
    collector.proc.kill('SIGSTOP');
    try {
      const topic = `canh/v1/${SITE}/flood/samples`;
      const body = Buffer.from('{"not":"a sample"}'.padEnd(400, ' '));
      await Promise.all(Array.from({ length: 2000 }, () => flood.publishAsync(topic, body, { qos: 1 })));
      for (const c of pcs) c.stream.destroy();
      await waitFor(() => /Outgoing messages are being dropped/.test(mosq.output()) || undefined, { timeoutMs: 10_000, what: 'the broker dropping' });
      await new Promise((r) => setTimeout(r, 1000)); // the wills published (and dropped) meanwhile
    } finally {
      collector.proc.kill('SIGCONT');
    }
    await waitFor(
      async () => {
        const m = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
        return Number(/^canh_ingest_saturations_total (\S+)/m.exec(m)?.[1] ?? 0) >= 1 && Number(/^canh_ingest_saturated (\S+)/m.exec(m)?.[1] ?? 1) === 0 ? m : undefined;
      },
      { timeoutMs: 60_000, what: 'a saturation, ended' },
    );
    // Silent once the saturation (and its grace) is over, with no will heard: each PC's status is read again.
    await waitFor(() => HOSTS.every((h) => stateOf()[h] === 'offline') || undefined, { timeoutMs: 60_000, what: 'every PC that dropped offline' });
    const m = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(Number(/^canh_broker_status_rereads_total\{reason="silence"\} (\S+)/m.exec(m)?.[1])).toBeGreaterThanOrEqual(HOSTS.length);
  });
});

/**
 * The same loss without a saturation: at the province's power cut (3,000 wills at once, on
 * top of the samples) Mosquitto's queue for the collector overflowed while the collector's
 * own ingest queue never filled, so no saturation ended and nothing was read again: 92 of
 * 150 cut sites were seen only as silences, 72 got no message and no province digest came.
 * A PC that falls silent with no will heard now makes the collector read the retained
 * statuses again: its will is there. The collector here pauses 1.5 s (below its stall
 * threshold: slow, not stalled) while the burst and the wills arrive.
 */
describe('Last Wills dropped in a burst that did not saturate ingest', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-e2e-burstwill-'));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  let mosq: RunningMosquitto;
  let collector: CanhProcess;
  let httpPort: number;
  const clients: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  const creds: Record<string, { username: string; password: string }> = {};
  const BOOT = (host: string) => `boot-${host}-0002`;

  const query = <T>(sql: string, ...p: unknown[]): T[] => {
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    try {
      return db.prepare(sql).all(...p) as T[];
    } finally {
      db.close();
    }
  };
  const metrics = async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

  beforeAll(async () => {
    for (const h of [...HOSTS, 'flood']) creds[h] = addCredential(dataDir, SITE, h);
    const collectorCred = addCollectorCredential(dataDir);
    const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    expect(exp.status, exp.stderr).toBe(0);
    mosq = await startMosquitto({ dir: mosqDir, passwdFile: join(mosqDir, 'passwd'), aclFile: join(mosqDir, 'acl'), conf: { maxQueuedMessages: 5 } });
    httpPort = await freePort();
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        CANH_COLLECTOR__BROKER__MODE: 'external',
        CANH_COLLECTOR__BROKER__EXTERNAL__URL: mosq.url,
        CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred.username,
        CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred.password,
        // 200 in flight from the broker, a receive queue of 4,000 records (the default): never full.
        CANH_COLLECTOR__INGEST__BATCH_MESSAGES: '100',
        CANH_COLLECTOR__HEALTH__STALL_THRESHOLD_SECONDS: '30',
        CANH_COLLECTOR__OUTAGE__SILENCE_SECONDS: '5',
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      },
      'collector',
    );
    await collector.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to mosquitto');
  });

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await collector?.stop();
    await mosq?.stop();
  });

  const status = (host: string, state: 'online' | 'offline', t: number) =>
    JSON.stringify({ v: 1, site: SITE, host, boot: BOOT(host), seq: 0, t, sent: t, state, hostname: host, agentVersion: 'test', keepalive: 10, osBoot: t - 3600_000 });
  const sample = (host: string, seq: number) => {
    const t = Date.now();
    return JSON.stringify({ v: 1, site: SITE, host, boot: BOOT(host), seq, t, sent: t, interval: 1, metrics: { cpu: { usage: 1, load1: 0, load5: 0, load15: 0, cores: 1 } } });
  };

  /** An agent-like connection: a retained Last Will, a retained birth, then a sample a second. */
  async function pc(host: string): Promise<MqttClient> {
    const connectT = Date.now();
    const topic = `canh/v1/${SITE}/${host}/status`;
    const c = await mqtt.connectAsync(mosq.url, {
      ...creds[host]!,
      clientId: `${SITE}.${host}`,
      protocolVersion: 4,
      keepalive: 10,
      reconnectPeriod: 0,
      will: { topic, payload: Buffer.from(status(host, 'offline', connectT)), qos: 1, retain: true },
    });
    c.on('error', () => {});
    clients.push(c);
    await c.publishAsync(topic, status(host, 'online', connectT + 1), { qos: 1, retain: true });
    let seq = 1;
    const timer = setInterval(() => {
      if (c.connected) c.publish(`canh/v1/${SITE}/${host}/samples`, sample(host, seq++), { qos: 1 });
    }, 1000);
    timers.push(timer);
    return c;
  }

  const stateOf = () => Object.fromEntries(query<{ host: string; state: string }>(`SELECT host, state FROM hosts WHERE site = ?`, SITE).map((r) => [r.host, r.state]));

  it('a PC silent with no will heard makes the collector read the statuses again: every PC that dropped is offline', async () => {
    const pcs = await Promise.all(HOSTS.map((h) => pc(h)));
    await waitFor(() => HOSTS.every((h) => stateOf()[h] === 'online') || undefined, { timeoutMs: 15_000, what: 'the PCs online' });
    // Samples tracked: the correlator knows each PC's interval (1 s) and when it was last heard.
    await new Promise((r) => setTimeout(r, 3000));
    const flood = await mqtt.connectAsync(mosq.url, { ...creds.flood!, clientId: `${SITE}.flood`, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(flood);
    collector.proc.kill('SIGSTOP');
    try {
      const topic = `canh/v1/${SITE}/flood/samples`;
      const body = Buffer.from('{"not":"a sample"}'.padEnd(400, ' '));
      await Promise.all(Array.from({ length: 1000 }, () => flood.publishAsync(topic, body, { qos: 1 })));
      for (const c of pcs) c.stream.destroy();
      await waitFor(() => /Outgoing messages are being dropped/.test(mosq.output()) || undefined, { timeoutMs: 10_000, what: 'the broker dropping' });
      await new Promise((r) => setTimeout(r, 500)); // the wills published (and dropped) meanwhile
    } finally {
      collector.proc.kill('SIGCONT');
    }
    await waitFor(() => HOSTS.every((h) => stateOf()[h] === 'offline') || undefined, { timeoutMs: 45_000, what: 'every PC that dropped offline' });
    const m = await metrics();
    // Read again because of the silence; no saturation (the queue never filled), no stall.
    expect(metric(m, /^canh_broker_status_rereads_total\{reason="silence"\} (\S+)/m)).toBeGreaterThanOrEqual(HOSTS.length);
    expect(metric(m, /^canh_ingest_saturations_total (\S+)/m)).toBe(0);
    expect(metric(m, /^canh_collector_stalls_total (\S+)/m)).toBe(0);
    // The wills confirmed the silences: real host outages, not discarded as unheard.
    const outages = query<{ host: string }>(`SELECT host FROM outage_host WHERE site = ?`, SITE);
    expect(new Set(outages.map((o) => o.host))).toEqual(new Set(HOSTS));
  });
});
