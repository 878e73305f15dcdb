import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { startAgentBundle, type CanhProcess } from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 3, site correlation with real processes: a collector (embedded broker) and five
 * agents of one site (the shipped bundle, each in its own state dir).
 * - Power cut: all five killed with SIGKILL at once and restarted with a later OS boot
 *   (CANH_AGENT_PLATFORM_BOOT_TIME): exactly one site incident "power_cut" with 5 hosts.
 * - Network cut: the broker unreachable for the agents while they keep running (a blackhole
 *   proxy on loopback: no FIN, no RST, only keepalives notice): one incident "network_cut",
 *   and every sample of the gap stored exactly once.
 */

interface IncidentRow {
  id: number;
  site: string;
  state: string;
  cause: string;
  start: number;
  end: number | null;
  hosts: string;
  hosts_out: string;
  evidence: string;
}
interface OutageRow {
  host: string;
  cause: string;
  start: number;
  end: number | null;
  incident_id: number | null;
  evidence: string;
}

const HOSTS = ['pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'];

describe('site incidents with real agents', { timeout: 180_000 }, () => {
  let dep: Deployment;
  const running: CanhProcess[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    dep = await createDeployment('canh-site-incident-');
    await dep.startCollector();
  });
  afterAll(async () => {
    await Promise.all(running.map((a) => a.stop('SIGTERM', 10_000)));
    await Promise.all(proxies.map((p) => p.close()));
    await dep?.stopAll();
  });

  const incidents = (site: string) => dep.query<IncidentRow>(`SELECT * FROM outage_incident WHERE site = ? ORDER BY id`, site);
  const outages = (site: string) => dep.query<OutageRow>(`SELECT * FROM outage_host WHERE site = ? ORDER BY host`, site);
  const samplesOf = (site: string) => dep.query<{ host: string }>(`SELECT host FROM samples WHERE site = ?`, site);

  async function startSite(site: string, env: (host: string) => Record<string, string>) {
    const agents = [];
    for (const host of HOSTS) agents.push({ host, ...(await dep.startAgent(site, host, { env: env(host) })) });
    await waitFor(() => HOSTS.every((h) => samplesOf(site).filter((r) => r.host === h).length >= 3), { timeoutMs: 60_000, what: `samples from every host of ${site}` });
    return agents;
  }

  it('5 agents killed at once and restarted with new OS boots: exactly one site incident, power cut, 5 hosts', async () => {
    const site = 'xa-mat-dien';
    const firstBoot = Date.now() - 3600_000;
    const agents = await startSite(site, () => ({ CANH_AGENT_PLATFORM_BOOT_TIME: String(firstBoot) }));
    await Promise.all(agents.map((a) => a.agent.kill9()));
    const killedAt = Date.now();
    await waitFor(() => incidents(site).length === 1, { timeoutMs: 20_000, what: 'site incident opened' });
    expect(incidents(site)[0]!.state).toBe('open');
    await waitFor(() => (JSON.parse(incidents(site)[0]!.hosts) as string[]).length === 5, { timeoutMs: 20_000, what: 'all five hosts in the incident' });
    // The power returns; the PCs boot 2 s after the cut and the agents start.
    await new Promise((r) => setTimeout(r, 2500));
    const newBoot = killedAt + 2000;
    for (const a of agents) {
      running.push(startAgentBundle(dep.agentEnv(site, a.host, a.cred, a.stateDir, { CANH_AGENT_PLATFORM_BOOT_TIME: String(newBoot) }), `agent ${a.host} (after the cut)`));
    }
    await waitFor(() => incidents(site)[0]?.state === 'resolved', { timeoutMs: 90_000, what: 'incident resolved' });
    const all = incidents(site);
    expect(all).toHaveLength(1);
    const i = all[0]!;
    expect(i.cause).toBe('power_cut');
    expect((JSON.parse(i.hosts) as string[]).sort()).toEqual(HOSTS);
    expect(JSON.parse(i.hosts_out)).toEqual([]);
    // Start: the agents' last heartbeats (before the kill); end: the new OS boot.
    expect(i.start).toBeLessThanOrEqual(killedAt);
    expect(killedAt - i.start).toBeLessThan(3000);
    expect(i.end).toBe(newBoot);
    const outs = outages(site);
    expect(outs).toHaveLength(5);
    for (const o of outs) {
      expect(o.incident_id).toBe(i.id);
      expect(o.end).toBe(newBoot);
      expect(JSON.parse(o.evidence)).toMatchObject({ event: 'outage', eventScope: 'host', newOsBoot: true });
    }
    const ev = JSON.parse(i.evidence) as { hosts: Record<string, { verdict: string }> };
    expect(Object.values(ev.hosts).every((h) => h.verdict === 'power')).toBe(true);
    const metrics = await dep.metrics();
    expect(metrics).toMatch(/canh_outage_incidents_resolved_total\{cause="power_cut"\} 1/);
  });

  it('the collector restarting during an incident: still one incident, resolved when the hosts return', async () => {
    const site = 'xa-khoi-dong-lai';
    const firstBoot = Date.now() - 3600_000;
    const agents = await startSite(site, () => ({ CANH_AGENT_PLATFORM_BOOT_TIME: String(firstBoot) }));
    await Promise.all(agents.map((a) => a.agent.kill9()));
    const killedAt = Date.now();
    await waitFor(() => incidents(site).length === 1 && (JSON.parse(incidents(site)[0]!.hosts) as string[]).length === 5, { timeoutMs: 20_000, what: 'incident with 5 hosts' });
    expect(await dep.collector!.stop('SIGTERM')).toBe(0);
    await dep.startCollector();
    const newBoot = killedAt + 1000;
    for (const a of agents) {
      running.push(startAgentBundle(dep.agentEnv(site, a.host, a.cred, a.stateDir, { CANH_AGENT_PLATFORM_BOOT_TIME: String(newBoot) }), `agent ${a.host} (after the restart)`));
    }
    await waitFor(() => incidents(site)[0]?.state === 'resolved', { timeoutMs: 90_000, what: 'incident resolved after the collector restart' });
    expect(dep.collector!.logs().some((l) => l.msg === 'site incident still open from before the restart' && l.site === site)).toBe(true);
    const all = incidents(site);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ cause: 'power_cut', end: newBoot });
    expect(outages(site)).toHaveLength(5);
  });

  it('the broker unreachable for 5 running agents: one site incident, network cut, every sample of the gap stored once', async () => {
    const site = 'xa-mat-mang';
    const proxy = await startTcpProxy(dep.mqttPort);
    proxies.push(proxy);
    // Keepalive 4 s (the Last Will 6 s after the last packet) keeps the test short; the
    // default 10 s is measured by bench:incident.
    const agents = await startSite(site, () => ({ CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${proxy.port}`, CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '4' }));
    const cutAt = Date.now();
    proxy.blackhole();
    await waitFor(() => incidents(site).length === 1, { timeoutMs: 20_000, what: 'site incident opened' });
    await waitFor(() => (JSON.parse(incidents(site)[0]!.hosts) as string[]).length === 5, { timeoutMs: 20_000, what: 'all five hosts in the incident' });
    // The agents keep running (and sampling) for the rest of a 20 s cut.
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 20_000 - Date.now())));
    proxy.restore();
    const restoredAt = Date.now();
    await waitFor(() => incidents(site)[0]?.state === 'resolved', { timeoutMs: 60_000, what: 'incident resolved' });
    const all = incidents(site);
    expect(all).toHaveLength(1);
    expect(all[0]!.cause).toBe('network_cut');
    expect((JSON.parse(all[0]!.hosts) as string[]).sort()).toEqual(HOSTS);
    for (const o of outages(site)) {
      expect(o.cause).toBe('network');
      expect(JSON.parse(o.evidence)).toMatchObject({ newAgentBoot: false });
    }
    // Every sample of the gap, exactly once: per host one agent boot, no repeated sample
    // time, and no hole longer than two intervals (1 s) from before the cut to after it.
    const lastT = (host: string) => dep.query<{ t: number }>(`SELECT max(t) AS t FROM samples WHERE site = ? AND host = ?`, site, host)[0]?.t ?? 0;
    await waitFor(() => agents.every((a) => lastT(a.host) > restoredAt + 1000), { timeoutMs: 20_000, what: 'live samples after the cut' });
    for (const a of agents) {
      const rows = dep.query<{ boot: string; seq: number; t: number }>(`SELECT boot, seq, t FROM samples WHERE site = ? AND host = ? ORDER BY t`, site, a.host);
      expect(new Set(rows.map((r) => r.boot)).size).toBe(1);
      expect(new Set(rows.map((r) => r.t)).size).toBe(rows.length);
      const gap = rows.filter((r) => r.t > cutAt && r.t < restoredAt);
      expect(gap.length).toBeGreaterThanOrEqual(Math.floor((restoredAt - cutAt) / 1000) - 2);
      for (let k = 1; k < rows.length; k++) expect(rows[k]!.t - rows[k - 1]!.t, `${a.host} sample hole`).toBeLessThanOrEqual(2000);
    }
  });
  it('a cut after the agents reconnected: the Last Wills of their new sessions count, one site incident', async () => {
    const site = 'xa-mat-mang-lan-hai';
    const proxy = await startTcpProxy(dep.mqttPort);
    proxies.push(proxy);
    await startSite(site, () => ({ CANH_AGENT__MQTT__URL: `mqtt://127.0.0.1:${proxy.port}`, CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '4' }));
    // The link drops and is back at once (the proxy drops its connections): every agent
    // reconnects in the same boot, with a new session and a new birth.
    const droppedAt = Date.now();
    proxy.restore();
    const hosts = () => dep.query<{ host: string; state: string; status_t: number }>(`SELECT host, state, status_t FROM hosts WHERE site = ?`, site);
    await waitFor(() => hosts().filter((h) => h.state === 'online' && h.status_t > droppedAt).length === HOSTS.length, { timeoutMs: 20_000, what: 'every agent reconnected' });
    // Whatever the drop made is settled before the real cut.
    await waitFor(() => incidents(site).every((i) => i.state === 'resolved'), { timeoutMs: 90_000, what: 'the drop settled' });
    const before = incidents(site).length;
    await new Promise((r) => setTimeout(r, 2000));
    const cutAt = Date.now();
    proxy.blackhole();
    // The wills come 1.5 x keepalive (6 s) after the last packet: well before the 60 s
    // silence timeout, which would only give an unconfirmed outage and no incident. A will
    // still carrying the FIRST session's connect time reads as an older session's (stale)
    // and was ignored: no incident here.
    await waitFor(() => incidents(site).length === before + 1, { timeoutMs: 25_000, what: 'a site incident for the cut' });
    const inc = incidents(site).at(-1)!;
    expect(inc.start).toBeGreaterThan(cutAt - 6000);
    await waitFor(() => (JSON.parse(incidents(site).at(-1)!.hosts) as string[]).length === HOSTS.length, { timeoutMs: 20_000, what: 'all five hosts in the incident' });
    const outs = dep.query<{ evidence: string }>(`SELECT evidence FROM outage_host WHERE site = ? AND incident_id = ?`, site, inc.id);
    expect(outs).toHaveLength(HOSTS.length);
    for (const o of outs) expect(JSON.parse(o.evidence)).toMatchObject({ detectedBy: 'will' });
    proxy.restore();
  });
});
