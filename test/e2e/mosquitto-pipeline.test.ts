import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { addCollectorCredential, addCredential, runCanhSync, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { queryStore } from '../helpers/deployment.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Agent → real Mosquitto (password file + ACL exported by `canh credentials`) →
 * collector in external-broker mode, all real processes.
 */
describe('end to end through a real Mosquitto', () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-mosq-e2e-'));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  let mosq: RunningMosquitto;
  let collector: CanhProcess;
  let httpPort: number;
  let collectorCred: { username: string; password: string };
  const agents: CanhProcess[] = [];

  const query = <T>(sql: string, ...p: unknown[]): T[] => queryStore<T>(dataDir, sql, ...p);
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
  const startAgent = (site: string, host: string, cred: { username: string; password: string }) => {
    const a = startAgentBundle(testAgentEnv(mosq.url, site, host, cred, mkdtempSync(join(root, `agent-${host}-`))), `agent ${host}`);
    agents.push(a);
    return a;
  };
  const samplesOf = (host: string) => query<{ n: number }>(`SELECT count(*) AS n FROM samples WHERE host = ?`, host)[0]!.n;

  let pc1: { username: string; password: string };

  beforeAll(async () => {
    pc1 = addCredential(dataDir, 'xa-m', 'pc-1');
    addCredential(dataDir, 'xa-m', 'pc-2');
    collectorCred = addCollectorCredential(dataDir);
    const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    expect(exp.status, exp.stderr).toBe(0);
    mosq = await startMosquitto({ dir: mosqDir, passwdFile: join(mosqDir, 'passwd'), aclFile: join(mosqDir, 'acl'), persistenceDir: join(mosqDir, 'db') });
    httpPort = await freePort();
    await startCollector();
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
    await collector?.stop();
    await mosq?.stop();
  });

  it('an agent with its own credential: samples stored over MQTT 5', async () => {
    const a = startAgent('xa-m', 'pc-1', pc1);
    const connected = await a.waitFor((l) => l.msg === 'connected to broker', 20_000, 'agent connected');
    expect(connected.protocolVersion).toBe(5);
    await waitFor(() => samplesOf('pc-1') >= 3, { timeoutMs: 30_000, what: 'samples from pc-1' });
    expect(query<{ state: string }>(`SELECT state FROM hosts WHERE host = 'pc-1'`)[0]?.state).toBe('online');
  });

  it('a wrong password is refused by Mosquitto: nothing stored', async () => {
    const a = startAgent('xa-m', 'pc-2', { username: 'xa-m.pc-2', password: 'not-the-password' });
    const err = await a.waitFor((l) => l.msg === 'MQTT error', 20_000, 'MQTT error');
    expect(String(err.err)).toMatch(/Not authorized|Bad User Name or Password/i);
    await new Promise((r) => setTimeout(r, 2000));
    expect(samplesOf('pc-2')).toBe(0);
    await a.stop();
  });

  it('publishing as another host is refused by the ACL (PUBACK 0x87): nothing stored for that host', async () => {
    // pc-1's credential, but claiming to be pc-9.
    const a = startAgent('xa-m', 'pc-9', pc1);
    await a.waitFor((l) => l.msg === 'connected to broker', 20_000, 'agent connected');
    const refused = await a.waitFor((l) => l.msg === 'broker refused a message; it will be sent again after the ack timeout', 20_000, 'publish refused');
    expect(String(refused.err)).toMatch(/Not authorized|135/i);
    await new Promise((r) => setTimeout(r, 2000));
    expect(samplesOf('pc-9')).toBe(0);
    await a.stop();
  });

  it('collector down for 15 s: Mosquitto queues for its persistent session; nothing lost, nothing twice', async () => {
    const before = samplesOf('pc-1');
    await collector.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 15_000));
    const upAt = Date.now();
    await startCollector();
    await waitFor(() => query(`SELECT 1 FROM samples WHERE host = 'pc-1' AND t > ?`, upAt + 2000).length >= 1, { timeoutMs: 30_000, what: 'live samples after restart' });
    const rows = query<{ t: number }>(`SELECT t FROM samples WHERE host = 'pc-1' AND t BETWEEN ? AND ? ORDER BY t`, downAt + 1000, upAt - 1000);
    expect(rows.length).toBeGreaterThanOrEqual(11); // one a second through the outage
    expect(samplesOf('pc-1')).toBeGreaterThan(before + 11);
    const dup = query<{ n: number }>(`SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT boot, seq FROM samples WHERE host = 'pc-1')) AS n FROM samples WHERE host = 'pc-1'`);
    expect(dup[0]!.n).toBe(0);
  }, 90_000);

  it('Mosquitto down for 15 s: the agent keeps sampling into its outbox and replays in order', async () => {
    await mosq.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 15_000));
    const upAt = Date.now();
    await mosq.restart();
    await waitFor(() => query(`SELECT 1 FROM samples WHERE host = 'pc-1' AND t > ?`, upAt + 2000).length >= 1, { timeoutMs: 45_000, what: 'samples after broker restart' });
    await waitFor(() => query(`SELECT 1 FROM samples WHERE host = 'pc-1' AND t BETWEEN ? AND ?`, downAt + 1000, upAt - 1000).length >= 12, {
      timeoutMs: 30_000,
      what: 'backlog from the broker outage replayed',
    });
    // A record sent while the collector's subscription was not yet back is re-sent (at once
    // when a later one is acked, at the latest after the ack timeout): every seq arrives, once.
    const seqRows = () =>
      query<{ boot: string; seq: number }>(
        `SELECT boot, seq FROM samples WHERE host = 'pc-1' UNION ALL SELECT boot, seq FROM events WHERE host = 'pc-1' UNION ALL SELECT boot, seq FROM inventory_history WHERE host = 'pc-1' ORDER BY boot, seq`,
      );
    const contiguous = (rows: Array<{ seq: number }>) => rows.every((r, i) => r.seq === i);
    await waitFor(() => contiguous(seqRows()), { timeoutMs: 40_000, what: 'every seq stored without a gap' });
    const rows = seqRows();
    expect(new Set(rows.map((r) => r.boot)).size).toBe(1);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i));
  }, 150_000);
});
