import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { createNetnsLab, type NetnsLab } from '../helpers/netns.js';
import { addCredential, startAgentBundle, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 3, gateway vs internet: a real agent in a network namespace; its default gateway is
 * the host end of the link, the collector's broker and an "internet" target sit on host
 * addresses beyond that gateway. iptables in the namespace drops the internet target and the
 * broker (a WAN cut), or the gateway too (a LAN cut). When the link heals the agent reports
 * one `network_cut` with the right scope, and the samples of the gap follow it.
 */
describe('network cut: WAN vs LAN, from inside a network namespace', () => {
  let lab: NetnsLab;
  let dep: Deployment;
  let agent: CanhProcess;
  let broker: string;
  let internet: string;
  const host = 'pc-netns';

  beforeAll(async () => {
    lab = createNetnsLab();
    broker = lab.addHostAddress();
    internet = lab.addHostAddress();
    dep = await createDeployment('canh-netcut-');
    await dep.startCollector({ CANH_COLLECTOR__BROKER__EMBEDDED__HOST: broker });
    const cred = addCredential(dep.dataDir, 'xa-mang', host);
    const stateDir = mkdtempSync(join(dep.dataDir, '..', 'agent-netns-'));
    const env = testAgentEnv(`mqtt://${broker}:${dep.mqttPort}`, 'xa-mang', host, cred, stateDir, {
      CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '2',
      CANH_AGENT__MQTT__CONNECT_TIMEOUT_SECONDS: '2',
      CANH_AGENT__MQTT__RECONNECT_MAX_SECONDS: '1',
      CANH_AGENT__NETWORK__INTERNET_TARGETS: JSON.stringify([`${internet}:443`]),
      CANH_AGENT__NETWORK__PROBE_SECONDS: '1',
      CANH_AGENT__NETWORK__PROBE_TIMEOUT_SECONDS: '0.8',
      CANH_AGENT__NETWORK__MIN_CUT_SECONDS: '1',
    });
    agent = startAgentBundle(env, 'agent in netns', lab.prefix);
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= 3, { timeoutMs: 30_000, what: 'samples from the namespace' });
  });
  afterAll(async () => {
    await agent?.stop('SIGTERM', 10_000);
    await dep?.stopAll();
    lab?.destroy();
  });

  const cuts = () =>
    dep
      .query<{ start: number; end: number; details: string }>(`SELECT start, "end", details FROM events WHERE host = ? AND type = 'network_cut' ORDER BY id`, host)
      .map((r) => ({ ...r, d: JSON.parse(r.details) as { scope: string; probesLan: number; probesWan: number; probesBroker: number; gateway: string } }));

  async function cutAndHeal(dropped: string[]): Promise<{ cutAt: number; cutDoneAt: number; healedAt: number }> {
    const seen = agent.logs().filter((l) => String(l.msg).startsWith('disconnected from broker')).length;
    const cutAt = Date.now();
    for (const ip of dropped) lab.drop(ip);
    // The cut is complete once the last iptables rule is in (each is a process: slow under load).
    const cutDoneAt = Date.now();
    await waitFor(() => agent.logs().filter((l) => String(l.msg).startsWith('disconnected from broker')).length > seen, {
      timeoutMs: 20_000,
      what: 'agent notices the broker is gone',
    }).catch((err: Error) => {
      throw new Error(
        `${err.message}; agent output:\n${agent
          .output()
          .split('\n')
          .filter((l) => !l.includes('"level":20'))
          .slice(-15)
          .join('\n')}`,
      );
    });
    // A few probe rounds while cut.
    await new Promise((r) => setTimeout(r, 4000));
    const healedAt = Date.now();
    lab.heal();
    return { cutAt, cutDoneAt, healedAt };
  }

  async function expectCut(n: number, scope: string, t: { cutAt: number; cutDoneAt: number; healedAt: number }) {
    await waitFor(() => cuts().length >= n, { timeoutMs: 30_000, what: `network_cut #${n} stored` });
    const cut = cuts()[n - 1]!;
    expect(cut.d.scope).toBe(scope);
    expect(cut.d.gateway).toBe(lab.gateway);
    // Start: the last packet from the broker (a PUBACK, a collector ack), at most one 1 s
    // sample interval before the cut began, and not after it was complete.
    expect(cut.start).toBeGreaterThanOrEqual(t.cutAt - 1500);
    expect(cut.start).toBeLessThanOrEqual(t.cutDoneAt + 100);
    // End: the first probe that reached the broker again (1 s probes), else the reconnection.
    expect(cut.end).toBeGreaterThanOrEqual(t.healedAt - 100);
    expect(cut.end).toBeLessThanOrEqual(t.healedAt + 4000);
    // Every sample of the gap was buffered and arrives (1 s interval).
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ? AND t BETWEEN ? AND ?`, host, cut.start, cut.end).length >= Math.floor((cut.end - cut.start) / 1000) - 1, {
      timeoutMs: 30_000,
      what: 'samples of the gap stored',
    });
    return cut;
  }

  it('WAN cut: the gateway answers, the internet and the broker do not', async () => {
    const t = await cutAndHeal([internet, broker]);
    const cut = await expectCut(1, 'wan', t);
    expect(cut.d.probesWan).toBeGreaterThanOrEqual(2);
    expect(cut.d.probesLan).toBe(0);
  });

  it('LAN cut: the gateway does not answer either', async () => {
    const t = await cutAndHeal([lab.gateway, internet, broker]);
    const cut = await expectCut(2, 'lan', t);
    expect(cut.d.probesLan).toBeGreaterThanOrEqual(2);
    expect(cut.d.probesWan).toBe(0);
  });

  it('only the broker away: scope broker', async () => {
    const t = await cutAndHeal([broker]);
    const cut = await expectCut(3, 'broker', t);
    expect(cut.d.probesBroker).toBeGreaterThanOrEqual(2);
  });
});
