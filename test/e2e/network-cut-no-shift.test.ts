import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { createNetnsLab, type NetnsLab } from '../helpers/netns.js';
import { addCredential, startAgentBundle, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 13 item 3: after a network cut, the sample in flight during the cut was re-sent with
 * its first `sent` time, taken for clock skew and stored at the wrong time, leaving a hole at
 * the start of the gap. A real agent in a network namespace, a real cut (iptables drops the
 * broker) longer than the collector's skew tolerance (3 s here, so the cut stays short): with
 * both clocks right, every sample is stored at the agent's own time (t = tAgent), no
 * clock_skew is raised, and the samples of the gap leave no hole.
 */
describe('network cut: no sample moved by a stale send time', () => {
  let lab: NetnsLab;
  let dep: Deployment;
  let agent: CanhProcess;
  let broker: string;
  const host = 'pc-resend';

  beforeAll(async () => {
    lab = createNetnsLab();
    broker = lab.addHostAddress();
    dep = await createDeployment('canh-resend-');
    await dep.startCollector({ CANH_COLLECTOR__BROKER__EMBEDDED__HOST: broker, CANH_COLLECTOR__INGEST__SKEW_TOLERANCE_SECONDS: '3' });
    const cred = addCredential(dep.dataDir, 'xa-cat', host);
    const stateDir = mkdtempSync(join(dep.dataDir, '..', 'agent-resend-'));
    const env = testAgentEnv(`mqtt://${broker}:${dep.mqttPort}`, 'xa-cat', host, cred, stateDir, {
      CANH_AGENT__MQTT__KEEPALIVE_SECONDS: '2',
      CANH_AGENT__MQTT__CONNECT_TIMEOUT_SECONDS: '2',
      CANH_AGENT__MQTT__RECONNECT_MAX_SECONDS: '1',
    });
    agent = startAgentBundle(env, 'agent in netns', lab.prefix);
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= 3, { timeoutMs: 30_000, what: 'samples from the namespace' });
  });
  afterAll(async () => {
    await agent?.stop('SIGTERM', 10_000);
    await dep?.stopAll();
    lab?.destroy();
  });

  it('a cut of ~10 s: every sample at its own time, none missing at the start of the gap', async () => {
    const disconnects = () => agent.logs().filter((l) => String(l.msg).startsWith('disconnected from broker')).length;
    const seen = disconnects();
    const cutAt = Date.now();
    // Packets in flight at the cut are lost; the samples of the cut wait in the outbox.
    lab.drop(broker);
    await waitFor(() => disconnects() > seen, { timeoutMs: 20_000, what: 'agent notices the broker is gone' });
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + 10_000 - Date.now())));
    const healedAt = Date.now();
    lab.heal();

    // Wait until every sample taken up to 3 s after the heal is stored (seq has no hole).
    type Row = { seq: number; boot: string; t: number; t_agent: number; sent: number; received: number; skew_ms: number };
    const rows = () => dep.query<Row>(`SELECT seq, boot, t, t_agent, sent, received, skew_ms FROM samples WHERE host = ? ORDER BY t_agent`, host);
    await waitFor(
      () => {
        const r = rows();
        return r.some((x) => x.t_agent > healedAt + 3000) && r.every((x, i) => i === 0 || x.boot !== r[i - 1]!.boot || x.seq > r[i - 1]!.seq);
      },
      { timeoutMs: 40_000, what: 'samples after the heal stored' },
    );
    // The outbox's later records may still be replaying: wait for the seq run to be whole.
    await waitFor(
      () => {
        const r = rows().filter((x) => x.t_agent <= healedAt + 3000);
        const seqs = r.map((x) => x.seq);
        return seqs.length > 0 && seqs[seqs.length - 1]! - seqs[0]! + 1 >= seqs.length && new Set(seqs).size === seqs.length && isContiguousSamples(r);
      },
      { timeoutMs: 40_000, what: 'the samples of the gap replayed' },
    );

    const all = rows();
    // Some samples of the cut were sent more than the tolerance after they were taken: the
    // case of the issue (a stale `sent` would have shifted them).
    expect(all.filter((x) => x.received - x.t_agent > 3000).length).toBeGreaterThan(3);
    for (const s of all) {
      expect(s.t, `seq ${s.seq}: stored at its own time`).toBe(s.t_agent);
      expect(Math.abs(s.skew_ms), `seq ${s.seq}: skew of a re-send measured from its re-send`).toBeLessThan(3000);
    }
    // No hole, in particular at the start of the gap: 1 s samples, a step of at most 2.5 s.
    const inCut = all.filter((x) => x.t >= cutAt - 5000 && x.t <= healedAt + 3000).map((x) => x.t);
    for (let i = 1; i < inCut.length; i++) expect(inCut[i]! - inCut[i - 1]!, `step before ${new Date(inCut[i]!).toISOString()}`).toBeLessThanOrEqual(2500);
    // The run starts before the cut and ends after the heal: no hole at either end of the gap.
    expect(inCut[0]!).toBeLessThan(cutAt);
    expect(inCut[inCut.length - 1]!).toBeGreaterThanOrEqual(healedAt);
    expect(dep.query(`SELECT 1 FROM events WHERE host = ? AND type = 'clock_skew'`, host)).toHaveLength(0);
  });
});

/** Every step between consecutive sample times (1 s interval) is at most 2.5 s. */
function isContiguousSamples(r: Array<{ t_agent: number }>): boolean {
  for (let i = 1; i < r.length; i++) if (r[i]!.t_agent - r[i - 1]!.t_agent > 2500) return false;
  return true;
}
