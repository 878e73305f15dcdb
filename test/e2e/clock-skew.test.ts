import { uptime } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import type { CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const SKEWED_CLOCK = fileURLToPath(new URL('../helpers/skewed-clock.mjs', import.meta.url));
const HOUR = 3_600_000;
/** Transit, sampling and the test's own polling: well under the 60 s tolerance. */
const SLACK = 5000;

/**
 * Issue 13 item 4: a real agent whose wall clock is 3 hours behind (a flat CMOS battery after a
 * power cut; shifted by a preload, test/helpers/skewed-clock.mjs) → the collector raises ONE
 * `clock_skew` host event, stores every time on its own clock (samples, events, the status's
 * OS boot, the samples' uptime.bootTime) and shows the skew in /api/hosts.
 */
describe('clock skew: a real agent with its clock 3 h behind', () => {
  let dep: Deployment;
  let agent: CanhProcess;
  const host = 'pc-cmos';

  beforeAll(async () => {
    dep = await createDeployment('canh-skew-');
    await dep.startCollector();
    ({ agent } = await dep.startAgent('xa-gio', host, { env: { NODE_OPTIONS: `--import=${SKEWED_CLOCK}`, CANH_TEST_CLOCK_OFFSET_MS: String(-3 * HOUR) } }));
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= 6, { timeoutMs: 30_000, what: 'six samples from the skewed agent' });
  });
  afterAll(async () => {
    await agent?.stop('SIGTERM', 10_000);
    await dep?.stopAll();
  });

  it('raises one clock_skew event with the skew, not one per message', async () => {
    const events = () =>
      dep.query<{ t: number; received: number; boot: string; details: string }>(`SELECT t, received, boot, details FROM events WHERE host = ? AND type = 'clock_skew'`, host);
    await waitFor(() => events().length >= 1, { timeoutMs: 10_000, what: 'a clock_skew event' });
    // More samples arrive: still one event.
    const n = dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length;
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= n + 3, { timeoutMs: 15_000, what: 'three more samples' });
    const all = events();
    expect(all).toHaveLength(1);
    const ev = all[0]!;
    expect(ev.boot.startsWith('collector:')).toBe(true);
    const d = JSON.parse(ev.details) as { change: string; skewMs: number; afterBoot?: boolean };
    expect(d.change).toBe('entered');
    expect(Math.abs(d.skewMs - 3 * HOUR)).toBeLessThan(SLACK);
    expect(Math.abs(ev.t - Date.now())).toBeLessThan(60_000);
  });

  it('stores every time on the collector clock: samples, events, OS boot', () => {
    const samples = dep.query<{ t: number; t_agent: number; received: number; metrics: string }>(`SELECT t, t_agent, received, metrics FROM samples WHERE host = ?`, host);
    const realBoot = Date.now() - uptime() * 1000;
    for (const s of samples) {
      expect(Math.abs(s.t - s.t_agent - 3 * HOUR)).toBeLessThan(SLACK);
      expect(Math.abs(s.received - s.t)).toBeLessThan(SLACK);
      const up = (JSON.parse(s.metrics) as { uptime?: { bootTime: number } }).uptime;
      if (up) expect(Math.abs(up.bootTime - realBoot)).toBeLessThan(SLACK);
    }
    const agentEvents = dep.query<{ t: number; received: number; type: string }>(`SELECT t, received, type FROM events WHERE host = ? AND type != 'clock_skew'`, host);
    expect(agentEvents.length).toBeGreaterThan(0);
    for (const e of agentEvents) expect(Math.abs(e.received - e.t), e.type).toBeLessThan(SLACK);
    const [h] = dep.query<{ os_boot: number }>(`SELECT os_boot FROM hosts WHERE host = ?`, host);
    expect(Math.abs(h!.os_boot - realBoot)).toBeLessThan(SLACK);
  });

  it('/api/hosts shows the skew, and osBoot on the collector clock', async () => {
    const { hosts } = await dep.api<{ hosts: Array<{ host: string; clockSkewMs: number | null; clockSkewSince: number | null; osBoot: number | null }> }>('/api/hosts');
    const h = hosts.find((x) => x.host === host)!;
    expect(Math.abs(h.clockSkewMs! - 3 * HOUR)).toBeLessThan(SLACK);
    expect(h.clockSkewSince).not.toBeNull();
    expect(Math.abs(h.osBoot! - (Date.now() - uptime() * 1000))).toBeLessThan(SLACK);
    const site = await dep.api<{ hosts: Array<{ host: string; clockSkewMs: number | null }> }>('/api/sites/xa-gio');
    expect(site.hosts.find((x) => x.host === host)!.clockSkewMs).toBe(h.clockSkewMs);
  });
});
