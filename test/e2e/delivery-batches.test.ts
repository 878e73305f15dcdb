import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlainSample } from '../../contract/fast-sample.js';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { addCollectorCredential, addCredential, runCanhSync, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Batches end to end (contract/decode.ts `decodeMessages`, contract/ack.ts `batch`): real
 * agents, real Mosquitto or the embedded broker, a real collector that announces batches in
 * its acks. The collector
 * goes down, the agent's backlog builds on its disk (a small window keeps most of it
 * there), the collector comes back: the replay arrives packed, several records per MQTT
 * message (the collector's own counters of batch messages and their records), and every
 * seq of the agent's boot is stored exactly once.
 */
const HOSTS = ['pc-b1', 'pc-b2'];
const SITE = 'xa-batch';

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

describe.each(['mosquitto', 'embedded'] as const)('batches end to end: real agents, %s broker, collector', (brokerKind) => {
  const root = mkdtempSync(join(tmpdir(), `canh-delivery-batch-${brokerKind}-`));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  const query = openQuery(dataDir);
  let mosq: RunningMosquitto;
  let collector: CanhProcess;
  let httpPort: number;
  let mqttPort: number;
  let collectorCred: { username: string; password: string };
  const agents: CanhProcess[] = [];

  const startCollector = async () => {
    const broker: Record<string, string> =
      brokerKind === 'mosquitto'
        ? {
            CANH_COLLECTOR__BROKER__MODE: 'external',
            CANH_COLLECTOR__BROKER__EXTERNAL__URL: mosq.url,
            CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred.username,
            CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred.password,
          }
        : { CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1', CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort) };
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        ...broker,
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
        CANH_COLLECTOR__INGEST__MAX_RECORDS_PER_MESSAGE: '16',
      },
      'collector',
    );
    if (brokerKind === 'mosquitto') await collector.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to mosquitto');
    else await collector.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  /** Per host and boot: how many seqs stored, the highest, and how many distinct. */
  const sequences = () =>
    query<{ host: string; boot: string; n: number; distinct_n: number; max: number }>(
      `SELECT host, boot, count(*) AS n, count(DISTINCT seq) AS distinct_n, max(seq) AS max FROM (
         SELECT host, boot, seq FROM samples WHERE site = ?
         UNION ALL SELECT host, boot, seq FROM events WHERE site = ?
         UNION ALL SELECT host, boot, seq FROM inventory_history WHERE site = ?)
       GROUP BY host, boot ORDER BY host`,
      SITE,
      SITE,
      SITE,
    );
  const samplesBetween = (host: string, from: number, to: number) =>
    query<{ n: number }>('SELECT count(*) AS n FROM samples WHERE site = ? AND host = ? AND t BETWEEN ? AND ?', SITE, host, from, to)[0]!.n;

  beforeAll(async () => {
    const creds = HOSTS.map((h) => addCredential(dataDir, SITE, h));
    if (brokerKind === 'mosquitto') {
      collectorCred = addCollectorCredential(dataDir);
      const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
      expect(exp.status, exp.stderr).toBe(0);
      mosq = await startMosquitto({ dir: mosqDir, passwdFile: join(mosqDir, 'passwd'), aclFile: join(mosqDir, 'acl'), persistenceDir: join(mosqDir, 'db') });
    }
    httpPort = await freePort();
    mqttPort = await freePort();
    const url = brokerKind === 'mosquitto' ? mosq.url : `mqtt://127.0.0.1:${mqttPort}`;
    await startCollector();
    HOSTS.forEach((h, i) =>
      agents.push(
        startAgentBundle(
          testAgentEnv(url, SITE, h, creds[i]!, mkdtempSync(join(root, `agent-${h}-`)), {
            // A small window: most of the outage's backlog waits on disk, replayed after it.
            CANH_AGENT__MQTT__INFLIGHT: '4',
            CANH_AGENT__MQTT__ACK_TIMEOUT_SECONDS: '2',
            CANH_AGENT__MQTT__ACK_TIMEOUT_MAX_SECONDS: '4',
          }),
          `agent ${h}`,
        ),
      ),
    );
    await waitFor(() => HOSTS.every((h) => samplesBetween(h, 0, Date.now()) >= 2), { timeoutMs: 30_000, what: 'first samples of every agent' });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
    await collector?.stop();
    await mosq?.stop();
  });

  it('collector down 15 s (the embedded broker with it): the replay comes in batches, and every seq is stored once', async () => {
    await collector.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 15_000));
    const upAt = Date.now();
    await startCollector(); // fresh counters
    await waitFor(() => HOSTS.every((h) => samplesBetween(h, downAt + 1000, upAt - 1000) >= 10 && samplesBetween(h, upAt + 3000, Date.now()) >= 1), {
      timeoutMs: 90_000,
      what: 'the outage backlog of every agent',
    });
    await waitFor(() => sequences().every((r) => r.distinct_n === r.max + 1), { timeoutMs: 30_000, what: 'no holes in any agent sequence' });
    const report = sequences();
    expect(report.map((r) => r.host)).toEqual(HOSTS);
    for (const r of report) {
      expect(r.distinct_n, r.host).toBe(r.max + 1); // no hole
      expect(r.n, r.host).toBe(r.distinct_n); // none stored twice
      expect(r.max, r.host).toBeGreaterThan(20);
    }
    // The replay came packed: batch messages, each of several records (the collector's counters).
    const batchMessages = await metric('canh_ingest_batch_messages_total');
    const batchRecords = await metric('canh_ingest_batch_records_total');
    expect(batchMessages).toBeGreaterThan(0);
    expect(batchRecords).toBeGreaterThanOrEqual(2 * batchMessages);
    expect(batchRecords).toBeGreaterThanOrEqual(10); // most of the two backlogs of ~15 records
    expect(await metric('canh_ingest_rejected_total{reason="bad_batch"}')).toBe(0);
    // The WAL is checkpointed by the collector's store worker thread, not in its ingest commits.
    await waitFor(async () => (await metric('canh_store_wal_checkpoints_total')) > 0, { timeoutMs: 10_000, what: 'a checkpoint off the loop' });
    expect(await metric('canh_store_wal_checkpoint_failures_total')).toBe(0);
    // A real agent's samples take the fast check (contract/fast-sample.ts), not zod's slow path.
    const stored = query<{ host: string; boot: string; seq: number; t_agent: number; sent: number; interval: number; metrics: string }>(
      'SELECT host, boot, seq, t_agent, sent, interval, metrics FROM samples WHERE site = ? ORDER BY id DESC LIMIT 20',
      SITE,
    );
    expect(stored.length).toBe(20);
    for (const r of stored) {
      const record = { v: 1, site: SITE, host: r.host, boot: r.boot, seq: r.seq, t: r.t_agent, sent: r.sent, interval: r.interval, metrics: JSON.parse(r.metrics) as unknown };
      expect(isPlainSample(record), r.metrics).toBe(true);
    }
  }, 180_000);
});
