/**
 * A collector process plus agent processes, each agent with its own state dir, all on
 * loopback ports chosen at start. For end-to-end tests. The broker is the collector's
 * embedded one, or (`broker: 'mosquitto'`) a real Mosquitto configured as in production:
 * password file and ACL exported by `canh credentials export-mosquitto`, the collector in
 * external-broker mode with its own credential (issue 13: "with the embedded broker AND
 * with Mosquitto").
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { freePort } from './free-port.js';
import { assertMosquittoInstalled, startMosquitto, type RunningMosquitto } from './mosquitto.js';
import { addCollectorCredential, addCredential, createApiToken, runCanhSync, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from './processes.js';
import { waitFor } from './wait.js';

export type BrokerKind = 'embedded' | 'mosquitto';
export const BROKERS: readonly BrokerKind[] = ['embedded', 'mosquitto'];

export interface DeploymentOptions {
  /** Default `embedded`. `mosquitto` needs /usr/sbin/mosquitto (fails with how to install it). */
  broker?: BrokerKind;
}

export interface Deployment {
  broker: BrokerKind;
  dataDir: string;
  /** The port agents connect to: the embedded broker's, or Mosquitto's. */
  mqttPort: number;
  /** The running Mosquitto (`broker: 'mosquitto'`, once the collector was started). */
  mosquitto: RunningMosquitto | undefined;
  httpPort: number;
  collector: CanhProcess | undefined;
  /** `env`: extra collector settings (e.g. the embedded broker's address in a netns test). */
  startCollector(env?: Record<string, string>): Promise<CanhProcess>;
  agentEnv(site: string, host: string, cred: { username: string; password: string }, stateDir: string, extra?: Record<string, string>): Record<string, string>;
  startAgent(
    site: string,
    host: string,
    opts?: { stateDir?: string; cred?: { username: string; password: string }; env?: Record<string, string>; prefix?: string[]; mqttHost?: string },
  ): Promise<{ agent: CanhProcess; stateDir: string; cred: { username: string; password: string } }>;
  /** Read-only view of the collector's SQLite store (WAL: safe while it runs). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  metrics(): Promise<string>;
  /** An admin API token for this deployment (created on first use with `canh tokens create`). */
  apiToken(): string;
  /** GET an API path (e.g. `/api/sites`) with the admin token; parsed JSON, throws on non-2xx. */
  api<T = unknown>(path: string): Promise<T>;
  stopAll(): Promise<void>;
}

export async function createDeployment(prefix = 'canh-e2e-', opts: DeploymentOptions = {}): Promise<Deployment> {
  const broker = opts.broker ?? 'embedded';
  if (broker === 'mosquitto') assertMosquittoInstalled();
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(root, 'data');
  const mosqDir = join(root, 'mosquitto');
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const agents: CanhProcess[] = [];
  let token: string | undefined;
  let collectorCred: { username: string; password: string } | undefined;

  /** Re-export the credential store to Mosquitto and reload it (SIGHUP), as an operator does. */
  const exportToMosquitto = () => {
    const r = runCanhSync(['credentials', 'export-mosquitto', '--data-dir', dataDir, '--dir', mosqDir]);
    if (r.status !== 0) throw new Error(`credentials export-mosquitto failed: ${r.stderr}`);
  };
  const brokerEnv = (): Record<string, string> => {
    if (broker === 'embedded') {
      return { CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1', CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort) };
    }
    return {
      CANH_COLLECTOR__BROKER__MODE: 'external',
      CANH_COLLECTOR__BROKER__EXTERNAL__URL: `mqtt://127.0.0.1:${mqttPort}`,
      CANH_COLLECTOR__BROKER__EXTERNAL__USERNAME: collectorCred!.username,
      CANH_COLLECTOR__BROKER__EXTERNAL__PASSWORD: collectorCred!.password,
    };
  };

  const dep: Deployment = {
    broker,
    dataDir,
    mqttPort,
    httpPort,
    mosquitto: undefined,
    collector: undefined,
    async startCollector(env = {}) {
      if (broker === 'mosquitto' && !dep.mosquitto) {
        collectorCred = addCollectorCredential(dataDir);
        exportToMosquitto();
        dep.mosquitto = await startMosquitto({
          dir: mosqDir,
          passwdFile: join(mosqDir, 'passwd'),
          aclFile: join(mosqDir, 'acl'),
          port: mqttPort,
          persistenceDir: join(mosqDir, 'db'),
        });
      }
      const c = startCanh(
        ['collector'],
        {
          CANH_COLLECTOR__DATA_DIR: dataDir,
          ...brokerEnv(),
          CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
          CANH_COLLECTOR__HTTP__PORT: String(httpPort),
          ...env,
        },
        'collector',
      );
      await c.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
      if (broker === 'mosquitto') await c.waitFor((l) => l.msg === 'connected to external broker', 30_000, 'collector connected to Mosquitto');
      dep.collector = c;
      return c;
    },
    agentEnv(site, host, cred, stateDir, extra = {}) {
      return testAgentEnv(`mqtt://127.0.0.1:${mqttPort}`, site, host, cred, stateDir, extra);
    },
    async startAgent(site, host, opts = {}) {
      const stateDir = opts.stateDir ?? mkdtempSync(join(root, `agent-${host}-`));
      const cred = opts.cred ?? addCredential(dataDir, site, host);
      if (broker === 'mosquitto' && !opts.cred) {
        if (!dep.mosquitto) throw new Error('start the collector (and with it Mosquitto) before the agents');
        exportToMosquitto();
        dep.mosquitto.kill('SIGHUP');
        await waitFor(() => canLogIn(mqttPort, cred), { timeoutMs: 10_000, what: `Mosquitto accepting ${cred.username} after the reload` });
      }
      const env = dep.agentEnv(site, host, cred, stateDir, opts.env);
      if (opts.mqttHost) env.CANH_AGENT__MQTT__URL = `mqtt://${opts.mqttHost}:${mqttPort}`;
      const agent = startAgentBundle(env, `agent ${host}`, opts.prefix);
      agents.push(agent);
      return { agent, stateDir, cred };
    },
    query<T>(sql: string, ...params: unknown[]): T[] {
      return queryStore<T>(dataDir, sql, ...params);
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    },
    apiToken() {
      token ??= createApiToken(dataDir, 'admin', 'e2e').token;
      return token;
    },
    async api<T>(path: string): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${dep.apiToken()}` } });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as T;
    },
    async stopAll() {
      await Promise.all(agents.map((a) => a.stop('SIGTERM', 10_000)));
      await dep.collector?.stop('SIGTERM', 10_000);
      await dep.mosquitto?.stop();
    },
  };
  return dep;
}

/** Read-only query of a collector's SQLite store in `dataDir` (WAL: safe while it runs). */
export function queryStore<T = Record<string, unknown>>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, 'canh.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** One MQTT 5 connection with `cred` (its own client id: no agent session is taken over). */
async function canLogIn(port: number, cred: { username: string; password: string }): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      ...cred,
      clientId: `canh-test-login-${Math.random().toString(36).slice(2, 10)}`,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
