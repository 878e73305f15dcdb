import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 3, "Agent, while running": a real agent process stopped with SIGSTOP for 20 s (as a
 * hung PC stops every program) and continued: it reports a freeze of about 20 s, with the
 * processes that ran right after it, and the collector stores it.
 */
describe('freeze detection (SIGSTOP for 20 s, then SIGCONT)', () => {
  let dep: Deployment;

  beforeAll(async () => {
    dep = await createDeployment('canh-freeze-');
    await dep.startCollector();
  });
  afterAll(async () => {
    await dep?.stopAll();
  });

  it('stores one freeze event of about 20 s', async () => {
    const host = 'pc-frozen';
    const { agent } = await dep.startAgent('xa-freeze', host, { env: { CANH_AGENT__FREEZE__TICK_SECONDS: '1' } });
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= 3, { timeoutMs: 30_000, what: 'samples' });
    agent.proc.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    agent.proc.kill('SIGCONT');
    const contAt = Date.now();
    await waitFor(() => dep.query(`SELECT 1 FROM events WHERE host = ? AND type = 'freeze'`, host).length >= 1, { timeoutMs: 60_000, what: 'freeze event stored' });
    const rows = dep.query<{ start: number; end: number; details: string }>(`SELECT start, "end", details FROM events WHERE host = ? AND type = 'freeze'`, host);
    expect(rows).toHaveLength(1);
    const d = JSON.parse(rows[0]!.details) as { durationMs: number; uncertaintyMs: number; topProcesses: string };
    // Stopped for 20 s: the tick was late by 19-20 s (the stop fell between two 1 s ticks).
    expect(d.durationMs).toBeGreaterThanOrEqual(18_500);
    expect(d.durationMs).toBeLessThanOrEqual(21_500);
    expect(Math.abs(rows[0]!.end - contAt)).toBeLessThan(1500);
    expect(Math.abs(rows[0]!.start - stoppedAt)).toBeLessThan(1500);
    // Not mistaken for sleep or a clock jump; and the broker dropping the frozen agent's
    // session (keepalive unanswered) is not reported as a network cut.
    await new Promise((r) => setTimeout(r, 2000));
    expect(dep.query(`SELECT type FROM events WHERE host = ? AND type IN ('sleep', 'clock_jump', 'network_cut')`, host)).toEqual([]);
    // The processes right after it, so the officer sees which program hung the PC.
    expect(d.topProcesses).toMatch(/^[^;]+ \d+: [\d.]+% CPU, \d+ MB(; [^;]+ \d+: [\d.]+% CPU, \d+ MB)+$/);
  });
});
