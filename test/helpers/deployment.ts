/**
 * A collector process (embedded broker) plus agent processes, each agent with its own
 * state dir, all on loopback ports chosen at start. For end-to-end tests.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from './free-port.js';
import { addCredential, createApiToken, startAgentBundle, startCanh, testAgentEnv, type CanhProcess } from './processes.js';

export interface Deployment {
  dataDir: string;
  mqttPort: number;
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

export async function createDeployment(prefix = 'canh-e2e-'): Promise<Deployment> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = join(root, 'data');
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const agents: CanhProcess[] = [];
  let token: string | undefined;
  const dep: Deployment = {
    dataDir,
    mqttPort,
    httpPort,
    collector: undefined,
    async startCollector(env = {}) {
      const c = startCanh(
        ['collector'],
        {
          CANH_COLLECTOR__DATA_DIR: dataDir,
          CANH_COLLECTOR__BROKER__EMBEDDED__HOST: '127.0.0.1',
          CANH_COLLECTOR__BROKER__EMBEDDED__PORT: String(mqttPort),
          CANH_COLLECTOR__HTTP__HOST: '127.0.0.1',
          CANH_COLLECTOR__HTTP__PORT: String(httpPort),
          ...env,
        },
        'collector',
      );
      await c.waitFor((l) => l.msg === 'collector started', 30_000, 'collector started');
      dep.collector = c;
      return c;
    },
    agentEnv(site, host, cred, stateDir, extra = {}) {
      return testAgentEnv(`mqtt://127.0.0.1:${mqttPort}`, site, host, cred, stateDir, extra);
    },
    async startAgent(site, host, opts = {}) {
      const stateDir = opts.stateDir ?? mkdtempSync(join(root, `agent-${host}-`));
      const cred = opts.cred ?? addCredential(dataDir, site, host);
      const env = dep.agentEnv(site, host, cred, stateDir, opts.env);
      if (opts.mqttHost) env.CANH_AGENT__MQTT__URL = `mqtt://${opts.mqttHost}:${mqttPort}`;
      const agent = startAgentBundle(env, `agent ${host}`, opts.prefix);
      agents.push(agent);
      return { agent, stateDir, cred };
    },
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new Database(join(dataDir, 'canh.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
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
    },
  };
  return dep;
}

export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
