/**
 * Issue 14, items 10 and 1 (agent side): the agent as shipped (the bundle, a real process)
 * against the collector's embedded broker. A state directory an earlier version left 0755
 * with 0644 files, and a config file holding the MQTT password readable by everyone, are
 * made private at start (0700/0600), and what the agent writes afterwards is 0600; its
 * client id is the one the broker binds to its credential, so it connects and is stored.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { CollectorConfigSchema } from '../../collector/config.js';
import { silentLogger } from '../../common/log.js';
import { startAgentBundle, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const mode = (p: string) => statSync(p).mode & 0o777;

/** Every file and folder under `dir` (bounded depth), with its mode. */
function modes(dir: string, depth = 3): Array<{ path: string; dir: boolean; mode: number }> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory() && depth > 1) out.push(...modes(p, depth - 1));
  }
  return out;
}

describe.runIf(process.platform !== 'win32')('agent state directory and secret files (item 10)', { timeout: 60_000 }, () => {
  let collector: Collector | undefined;
  let agent: CanhProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGTERM', 10_000);
    await collector?.stop();
  });

  it('an open state directory and config file are made private at start; new files are 0600; the agent connects with its bound client id', async () => {
    const root = mkdtempSync(join(tmpdir(), 'canh-private-'));
    const config = CollectorConfigSchema.parse({ dataDir: join(root, 'collector'), broker: { embedded: { host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0 } });
    collector = await Collector.open(config, silentLogger(), { announce: () => undefined });
    const cred = collector.credentials.add({ site: 'xa-p', host: 'pc-1', now: Date.now() });
    await collector.start();

    // What an earlier version (or a careless copy) left behind.
    const stateDir = join(root, 'state');
    mkdirSync(join(stateDir, 'outbox'), { recursive: true });
    chmodSync(stateDir, 0o755);
    chmodSync(join(stateDir, 'outbox'), 0o755);
    writeFileSync(join(stateDir, 'heartbeat.json'), '{}', { mode: 0o644 });
    chmodSync(join(stateDir, 'heartbeat.json'), 0o644);
    const configFile = join(root, 'agent.json');
    writeFileSync(configFile, JSON.stringify({ site: 'xa-p', host: 'pc-1', mqtt: { password: cred.password } }));
    chmodSync(configFile, 0o644);

    const env = testAgentEnv(`mqtt://127.0.0.1:${collector.broker!.port()}`, 'xa-p', 'pc-1', cred, stateDir, { CANH_AGENT_CONFIG: configFile });
    agent = startAgentBundle(env, 'agent pc-1');
    await agent.waitFor((l) => l.msg === 'connected to broker', 20_000, 'the agent connected');
    await waitFor(() => collector!.store.latestSample('xa-p', 'pc-1'), { timeoutMs: 15_000, what: 'a sample stored' });
    expect(collector.metrics.render()).not.toMatch(/canh_broker_connect_refused_total\{reason="client_id"\}/);

    expect(mode(configFile)).toBe(0o600);
    expect(agent.logs().some((l) => typeof l.msg === 'string' && /config file holds the MQTT password/.test(l.msg))).toBe(true);
    expect(agent.output()).not.toContain(cred.password);
    expect(mode(stateDir)).toBe(0o700);
    const all = modes(stateDir);
    // The outbox segments, its cursor and the heartbeat were written by this run.
    expect(all.filter((e) => !e.dir).length).toBeGreaterThanOrEqual(2);
    for (const e of all) expect({ path: e.path, mode: e.mode }).toEqual({ path: e.path, mode: e.dir ? 0o700 : 0o600 });
  });
});
