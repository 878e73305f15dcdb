import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, metricValue, type Deployment } from '../helpers/deployment.js';
import { addCredential, runCanhSync } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

describe('end to end through the embedded broker: identities', () => {
  let dep: Deployment;
  beforeAll(async () => {
    dep = await createDeployment('canh-e2e-id-');
    await dep.startCollector();
  });
  afterAll(async () => {
    await dep?.stopAll();
  });
  const samplesOf = (host: string) => dep.query<{ n: number }>(`SELECT count(*) AS n FROM samples WHERE host = ?`, host)[0]!.n;

  it('an agent with its credential falls back to MQTT 3.1.1 and stores samples', async () => {
    const { agent } = await dep.startAgent('xa-e', 'pc-1');
    const c = await agent.waitFor((l) => l.msg === 'connected to broker', 20_000, 'connected');
    expect(c.protocolVersion).toBe(4);
    await waitFor(() => samplesOf('pc-1') >= 2, { timeoutMs: 20_000, what: 'samples' });
  });

  it('a wrong password is refused: nothing stored, failure counted', async () => {
    addCredential(dep.dataDir, 'xa-e', 'pc-2');
    const { agent } = await dep.startAgent('xa-e', 'pc-2', { cred: { username: 'xa-e.pc-2', password: 'wrong-password' } });
    const err = await agent.waitFor((l) => l.msg === 'MQTT error', 20_000, 'MQTT error');
    expect(String(err.err)).toMatch(/Bad username or password/i);
    expect(samplesOf('pc-2')).toBe(0);
    expect(metricValue(await dep.metrics(), 'canh_broker_auth_failures_total')).toBeGreaterThanOrEqual(1);
    await agent.stop();
  });

  it("an agent with another PC's credential is refused at CONNECT (its client id is not that credential's): counted, nothing stored", async () => {
    const cred = addCredential(dep.dataDir, 'xa-e', 'pc-3');
    // pc-3's credential, claiming to be pc-4 (client id xa-e.pc-4). Publishing as another
    // host with an own client id is refused per publish: test/integration/embedded-broker.test.ts.
    const { agent } = await dep.startAgent('xa-e', 'pc-4', { cred });
    await waitFor(async () => metricValue(await dep.metrics(), 'canh_broker_connect_refused_total{reason="client_id"}') >= 1, {
      timeoutMs: 20_000,
      what: 'client id refusal counted',
    });
    expect(samplesOf('pc-4')).toBe(0);
    expect(samplesOf('pc-3')).toBe(0);
    await agent.stop();
  });

  it('a malformed config makes the agent exit non-zero listing every problem', () => {
    const r = runCanhSync(['agent'], { CANH_AGENT__SITE: 'Xã Sai', CANH_AGENT__INTERVAL_SECONDS: '0', CANH_AGENT__MQTT__URL: 'http://nope' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ {2}site: /m);
    expect(r.stderr).toMatch(/^ {2}intervalSeconds: /m);
    expect(r.stderr).toMatch(/^ {2}mqtt\.url: /m);
    expect(r.stderr).toMatch(/^ {2}mqtt\.password: /m);
  });

  it('secrets never reach the logs', async () => {
    const { agent, cred } = await dep.startAgent('xa-e', 'pc-5');
    await waitFor(() => samplesOf('pc-5') >= 1, { timeoutMs: 20_000, what: 'samples' });
    await agent.stop();
    expect(agent.output()).not.toContain(cred.password);
    expect(dep.collector!.output()).not.toContain(cred.password);
  });
});
