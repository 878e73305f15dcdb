import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { addCollectorCredential, addCredential, runCanhSync, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { queryStore } from '../helpers/deployment.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 12: the collector loses its own link to Mosquitto while every PC and its network is
 * fine (in the 10,000-agent replay its keepalive timed out while it was busy; here a cut
 * between collector and broker). Real Mosquitto with a small per-client queue (it drops most
 * of what the collector misses), a real collector in external-broker mode behind a TCP proxy
 * (keepalive 2 s), four real agents of one site straight on Mosquitto (1 s samples), outage
 * silence 5 s. The cut lasts 15 s: three silences long. None of it is the PCs' outage: no
 * host outage, no site incident; the collector records the episode (metric, /api/health),
 * and every sample is stored once in the end.
 */
const SITE = 'xa-link';
const HOSTS = ['pc-1', 'pc-2', 'pc-3', 'pc-4'];
const CUT_MS = 15_000;

describe('the collector loses its link to the broker while every PC is fine', { timeout: 180_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'canh-e2e-link-'));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  let mosq: RunningMosquitto;
  let proxy: TcpProxy;
  let collector: CanhProcess;
  let httpPort: number;
  const agents: CanhProcess[] = [];

  const query = <T>(sql: string, ...p: unknown[]): T[] => queryStore<T>(dataDir, sql, ...p);

  beforeAll(async () => {
    const creds = HOSTS.map((h) => addCredential(dataDir, SITE, h));
    const collectorCred = addCollectorCredential(dataDir);
    const exp = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    expect(exp.status, exp.stderr).toBe(0);
    mosq = await startMosquitto({ dir: mosqDir, passwdFile: join(mosqDir, 'passwd'), aclFile: join(mosqDir, 'acl'), conf: { maxQueuedMessages: 5 } });
    proxy = await startTcpProxy(mosq.port);
    httpPort = await freePort();
    collector = startCanh(
      ['collector'],
      {
        CANH_COLLECTOR__DATA_DIR: dataDir,
        CANH_COLLECTOR__BROKER__MODE: 'external',
        CANH_COLLECTOR__BROKER__EXTERNAL__URL: `mqtt://127.0.0.1:${proxy.port}`,
        CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred.username,
        CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred.password,
        CANH_COLLECTOR__BROKER__EXTERNAL__KEEPALIVE_SECONDS: '2',
        CANH_COLLECTOR__OUTAGE__SILENCE_SECONDS: '5',
        CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
        CANH_COLLECTOR__HTTP__PORT: String(httpPort),
      },
      'collector',
    );
    await collector.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to mosquitto');
    HOSTS.forEach((h, i) => agents.push(startAgentBundle(testAgentEnv(mosq.url, SITE, h, creds[i]!, mkdtempSync(join(root, `agent-${h}-`))), `agent ${h}`)));
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
    await collector?.stop();
    await proxy?.close();
    await mosq?.stop();
  });

  const online = () => query<{ n: number }>(`SELECT count(*) AS n FROM hosts WHERE site = ? AND state = 'online'`, SITE)[0]!.n;

  it('no host outage and no site incident; the collector records its own link loss; every sample stored once', async () => {
    await waitFor(() => online() === HOSTS.length, { timeoutMs: 60_000, what: 'every agent online' });
    await new Promise((r) => setTimeout(r, 4000));
    const cutAt = Date.now();
    proxy.blackhole();
    await new Promise((r) => setTimeout(r, CUT_MS));
    proxy.restore();
    await collector.waitFor((l) => l.msg === 'connected to external broker' && Date.parse(String(l.time)) > cutAt, 30_000, 'collector connected again');
    // Longer than the silence checks' delay and the grace after the episode.
    await new Promise((r) => setTimeout(r, 25_000));

    expect(query(`SELECT site, host, cause FROM outage_host`), 'host outages').toEqual([]);
    expect(query(`SELECT site, cause FROM outage_incident`), 'site incidents').toEqual([]);
    expect(online()).toBe(HOSTS.length);

    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(Number(/^canh_broker_link_losses_total (\S+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2); // the start, and the cut
    expect(Number(/^canh_broker_link_down_seconds_total (\S+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(CUT_MS / 1000 - 2);
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/api/health`)).json()) as { brokerLink: { count: number; now: boolean; last: { start: number; end: number } } };
    expect(health.brokerLink.now).toBe(false);
    // Dated from when the broker was last heard, not from the keepalive timeout 3 s later.
    expect(health.brokerLink.last.start).toBeLessThanOrEqual(cutAt + 1500);
    expect(health.brokerLink.last.end).toBeGreaterThanOrEqual(cutAt + CUT_MS);

    // Mosquitto dropped most of what the collector missed (queue of 5); the agents sent it again.
    // One seq space per agent boot over every outbox kind (samples, events, inventory).
    const seqs = () => {
      const rows = query<{ host: string; boot: string; seq: number }>(
        `SELECT host, boot, seq FROM samples WHERE site = ?
         UNION ALL SELECT host, boot, seq FROM events WHERE site = ?
         UNION ALL SELECT host, boot, seq FROM inventory_history WHERE site = ?`,
        SITE,
        SITE,
        SITE,
      );
      const by = new Map<string, number[]>();
      for (const r of rows) by.set(`${r.host}/${r.boot}`, [...(by.get(`${r.host}/${r.boot}`) ?? []), r.seq]);
      return [...by.values()].map((l) => ({ n: l.length, distinct: new Set(l).size, max: Math.max(...l) }));
    };
    await waitFor(() => seqs().every((g) => g.distinct === g.max + 1) || undefined, {
      timeoutMs: 90_000,
      what: 'every record of the cut stored (agents re-sent what the broker dropped)',
    });
    const report = seqs();
    expect(report).toHaveLength(HOSTS.length);
    for (const g of report) {
      expect(g.n, 'stored once').toBe(g.distinct);
      expect(g.max + 1).toBeGreaterThanOrEqual((CUT_MS + 20_000) / 1000);
    }
  });
});
