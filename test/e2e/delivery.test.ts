import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { addCollectorCredential, addCredential, runCanhSync, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Nothing lost, end to end (issue 12): real agents, real brokers, a real collector. The
 * broker is transport only: Mosquitto is given a per-client queue of 5 messages, far less
 * than what the agents send while the collector is down, so it drops most of them; the
 * agents keep every record in their outboxes until the collector's ack, and re-send.
 *
 * The check: for every agent boot, the sequence numbers stored (samples, events and
 * inventory share one counter per boot) are contiguous from 0 to the highest one, and
 * each is stored once.
 */
const HOSTS = ['pc-1', 'pc-2', 'pc-3', 'pc-4'];
const SITE = 'xa-d';

/** Agents of the test: 1 s samples, a quick ack timeout so re-sends happen within the test. */
const agentExtra = {
  CANH_AGENT__MQTT__ACK_TIMEOUT_SECONDS: '2',
  CANH_AGENT__MQTT__ACK_TIMEOUT_MAX_SECONDS: '4',
};

function openQuery(dataDir: string) {
  return <T>(sql: string, ...p: unknown[]): T[] => {
    const db = new Database(join(dataDir, 'canh.db'), { readonly: true });
    try {
      return db.prepare(sql).all(...p) as T[];
    } finally {
      db.close();
    }
  };
}

/** Per (host, boot): stored seqs with holes and duplicates, over every outbox message kind. */
function sequenceReport(query: ReturnType<typeof openQuery>) {
  const rows = query<{ host: string; boot: string; seq: number }>(
    `SELECT host, boot, seq FROM samples WHERE site = ?
     UNION ALL SELECT host, boot, seq FROM events WHERE site = ?
     UNION ALL SELECT host, boot, seq FROM inventory_history WHERE site = ?`,
    SITE,
    SITE,
    SITE,
  );
  const byBoot = new Map<string, number[]>();
  for (const r of rows) {
    const k = `${r.host} ${r.boot}`;
    const list = byBoot.get(k) ?? [];
    list.push(r.seq);
    byBoot.set(k, list);
  }
  const out: Array<{ key: string; max: number; missing: number[]; duplicates: number }> = [];
  for (const [key, seqs] of byBoot) {
    const set = new Set(seqs);
    const max = Math.max(...seqs);
    const missing: number[] = [];
    for (let s = 0; s <= max; s++) if (!set.has(s)) missing.push(s);
    out.push({ key, max, missing, duplicates: seqs.length - set.size });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

function samplesIn(query: ReturnType<typeof openQuery>, host: string, from: number, to: number): number {
  return query<{ n: number }>(`SELECT count(*) AS n FROM samples WHERE site = ? AND host = ? AND t BETWEEN ? AND ?`, SITE, host, from, to)[0]!.n;
}

describe('nothing lost end to end: real Mosquitto that drops (max_queued_messages 5)', () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-delivery-mosq-'));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  const query = openQuery(dataDir);
  let mosq: RunningMosquitto;
  let collector: CanhProcess;
  let httpPort: number;
  let collectorCred: { username: string; password: string };
  const agents: CanhProcess[] = [];

  const startCollector = async () => {
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        CANH_COLLECTOR__BROKER__MODE: 'external',
        CANH_COLLECTOR__BROKER__EXTERNAL__URL: mosq.url,
        CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred.username,
        CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred.password,
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      },
      'collector',
    );
    await collector.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to mosquitto');
  };

  beforeAll(async () => {
    const creds = HOSTS.map((h) => addCredential(dataDir, SITE, h));
    collectorCred = addCollectorCredential(dataDir);
    const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    expect(exp.status, exp.stderr).toBe(0);
    mosq = await startMosquitto({
      dir: mosqDir,
      passwdFile: join(mosqDir, 'passwd'),
      aclFile: join(mosqDir, 'acl'),
      persistenceDir: join(mosqDir, 'db'),
      conf: { maxQueuedMessages: 5 },
    });
    httpPort = await freePort();
    await startCollector();
    HOSTS.forEach((h, i) => agents.push(startAgentBundle(testAgentEnv(mosq.url, SITE, h, creds[i]!, mkdtempSync(join(root, `agent-${h}-`)), agentExtra), `agent ${h}`)));
    await waitFor(() => HOSTS.every((h) => samplesIn(query, h, 0, Date.now()) >= 2), { timeoutMs: 30_000, what: 'first samples of every agent' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
    await collector?.stop();
    await mosq?.stop();
  });

  it('collector down 25 s, longer than the broker queue holds: every seq of every agent stored once', async () => {
    await collector.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 25_000));
    const upAt = Date.now();
    await startCollector();
    // Drained: every agent's samples of the outage are back, and live ones flow again.
    await waitFor(() => HOSTS.every((h) => samplesIn(query, h, downAt + 1000, upAt - 1000) >= 20 && samplesIn(query, h, upAt + 3000, Date.now()) >= 1), {
      timeoutMs: 90_000,
      what: 'the outage backlog of every agent',
    });
    await waitFor(() => sequenceReport(query).every((r) => r.missing.length === 0), { timeoutMs: 30_000, what: 'no holes in any agent sequence' });
    const report = sequenceReport(query);
    expect(report.map((r) => r.key.split(' ')[0])).toEqual(HOSTS);
    for (const r of report) {
      expect(r.missing, r.key).toEqual([]);
      expect(r.duplicates, r.key).toBe(0);
      expect(r.max).toBeGreaterThan(30);
    }
  }, 180_000);

  it('kill -9 of the collector while it replays a backlog: nothing lost, nothing stored twice', async () => {
    await collector.stop();
    await new Promise((r) => setTimeout(r, 12_000));
    await startCollector();
    // Killed while the agents' backlog comes in (group commits in flight).
    await waitFor(() => collector.logs().length > 0, { timeoutMs: 5000, what: 'collector running' });
    await new Promise((r) => setTimeout(r, 300));
    await collector.kill9();
    await new Promise((r) => setTimeout(r, 3000));
    const restartAt = Date.now();
    await startCollector();
    await waitFor(() => HOSTS.every((h) => samplesIn(query, h, restartAt + 2000, Date.now()) >= 1), { timeoutMs: 60_000, what: 'live samples after the crash' });
    await waitFor(() => sequenceReport(query).every((r) => r.missing.length === 0), { timeoutMs: 60_000, what: 'no holes after the crash' });
    for (const r of sequenceReport(query)) {
      expect(r.missing, r.key).toEqual([]);
      expect(r.duplicates, r.key).toBe(0);
    }
  }, 180_000);
});

describe('nothing lost end to end: embedded broker', () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-delivery-emb-'));
  const dataDir = join(root, 'data');
  const query = openQuery(dataDir);
  let collector: CanhProcess;
  let httpPort: number;
  let mqttPort: number;
  const agents: CanhProcess[] = [];

  const startCollector = async () => {
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
        CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort),
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      },
      'collector',
    );
    await collector.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
  };

  beforeAll(async () => {
    const creds = HOSTS.map((h) => addCredential(dataDir, SITE, h));
    httpPort = await freePort();
    mqttPort = await freePort();
    await startCollector();
    HOSTS.forEach((h, i) =>
      agents.push(startAgentBundle(testAgentEnv(`mqtt://127.0.0.1:${mqttPort}`, SITE, h, creds[i]!, mkdtempSync(join(root, `agent-${h}-`)), agentExtra), `agent ${h}`)),
    );
    await waitFor(() => HOSTS.every((h) => samplesIn(query, h, 0, Date.now()) >= 2), { timeoutMs: 30_000, what: 'first samples of every agent' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
    await collector?.stop();
  });

  it('collector (and its broker) down 20 s, then killed -9 during the replay: every seq stored once', async () => {
    await collector.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const upAt = Date.now();
    await startCollector();
    await new Promise((r) => setTimeout(r, 500));
    await collector.kill9();
    await new Promise((r) => setTimeout(r, 2000));
    await startCollector();
    await waitFor(() => HOSTS.every((h) => samplesIn(query, h, downAt + 1000, upAt - 1000) >= 16), { timeoutMs: 90_000, what: 'the outage backlog of every agent' });
    await waitFor(() => sequenceReport(query).every((r) => r.missing.length === 0), { timeoutMs: 30_000, what: 'no holes in any agent sequence' });
    const report = sequenceReport(query);
    expect(report.map((r) => r.key.split(' ')[0])).toEqual(HOSTS);
    for (const r of report) {
      expect(r.missing, r.key).toEqual([]);
      expect(r.duplicates, r.key).toBe(0);
    }
  }, 180_000);
});
