import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, metricValue, type Deployment } from '../helpers/deployment.js';
import { type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** Seqs of one agent boot across every outbox message kind (samples, events, inventory). */
function seqsOf(dep: Deployment, host: string, boot: string): number[] {
  return dep
    .query<{ seq: number }>(
      `SELECT seq FROM samples WHERE host = ? AND boot = ? UNION ALL SELECT seq FROM events WHERE host = ? AND boot = ? UNION ALL SELECT seq FROM inventory_history WHERE host = ? AND boot = ?`,
      host,
      boot,
      host,
      boot,
      host,
      boot,
    )
    .map((r) => r.seq)
    .sort((a, b) => a - b);
}

function bootOf(agent: CanhProcess): string {
  const line = agent.logs().find((l) => l.msg === 'agent starting');
  if (!line) throw new Error('agent did not log its start');
  return line.boot as string;
}

describe('end to end: agent and collector processes over the embedded broker', () => {
  let dep: Deployment;

  beforeAll(async () => {
    dep = await createDeployment();
    await dep.startCollector();
  });
  afterAll(async () => {
    await dep?.stopAll();
  });

  it('samples, inventory and host state arrive in the store', async () => {
    const { agent } = await dep.startAgent('xa-thu', 'pc-live');
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = 'pc-live'`).length >= 3, { timeoutMs: 30_000, what: '3 samples stored' });
    const [row] = dep.query<{ metrics: string; t: number; t_agent: number; received: number }>(`SELECT * FROM samples WHERE host = 'pc-live' ORDER BY t DESC LIMIT 1`);
    const m = JSON.parse(row!.metrics) as Record<string, Record<string, unknown> | unknown[]>;
    expect(m.cpu).toHaveProperty('usage');
    expect(m.mem).toHaveProperty('total');
    expect(Array.isArray(m.disks)).toBe(true);
    expect(m.uptime).toHaveProperty('bootTime');
    // Issue 17, from this machine's /proc: per-disk activity and memory pressure in every sample.
    expect(Array.isArray(m.diskio) && (m.diskio as Array<{ disk: string; busyPct: number }>).every((d) => d.disk !== '' && d.busyPct >= 0 && d.busyPct <= 100)).toBe(true);
    expect(m.pressure).toHaveProperty('hardFaultsPs');
    expect(Array.isArray(m.ping) && (m.ping as Array<{ target: string }>)[0]!.target).toBe('127.0.0.1');
    expect(row!.t).toBe(row!.t_agent);
    expect(row!.received - row!.t).toBeLessThan(10_000);
    await waitFor(() => dep.query(`SELECT 1 FROM inventory WHERE host = 'pc-live'`).length === 1, { timeoutMs: 20_000, what: 'inventory stored' });
    const [host] = dep.query<{ state: string; os_boot: number }>(`SELECT * FROM hosts WHERE host = 'pc-live'`);
    expect(host!.state).toBe('online');
    expect(host!.os_boot).toBeGreaterThan(0);
    // The disk health check at start: this machine's disks, or (a VM without smartmontools) unavailable with why.
    await waitFor(() => dep.query(`SELECT 1 FROM events WHERE host = 'pc-live' AND type = 'disk_health'`).length === 1, { timeoutMs: 20_000, what: 'disk_health event stored' });
    const [dh] = dep.query<{ details: string }>(`SELECT details FROM events WHERE host = 'pc-live' AND type = 'disk_health'`);
    const details = JSON.parse(dh!.details) as { disks?: unknown[]; unavailable?: string };
    expect(details.disks !== undefined ? details.disks.length > 0 : /smartctl|disk/.test(details.unavailable ?? '')).toBe(true);
    const health = (await (await fetch(`http://127.0.0.1:${dep.httpPort}/api/health`)).json()) as { status: string; hostsOnline: number; samplesStored: number };
    expect(health.status).toBe('ok');
    expect(health.hostsOnline).toBe(1);
    expect(health.samplesStored).toBeGreaterThanOrEqual(3);
    // A clean stop: "offline" right away, and the agent_stop event delivered.
    expect(await agent.stop()).toBe(0);
    await waitFor(() => dep.query<{ state: string }>(`SELECT state FROM hosts WHERE host = 'pc-live'`)[0]?.state === 'offline', { what: 'host offline' });
    expect(dep.query(`SELECT 1 FROM events WHERE host = 'pc-live' AND type = 'agent_stop'`)).toHaveLength(1);
  });

  it('collector down for 60 s: every sample taken in the gap arrives exactly once, with its original time', async () => {
    const { agent } = await dep.startAgent('xa-thu', 'pc-gap');
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = 'pc-gap'`).length >= 3, { timeoutMs: 30_000, what: 'first samples' });
    const boot = bootOf(agent);
    const downAt = Date.now();
    await dep.collector!.stop();
    await agent.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('disconnected from broker'), 10_000, 'agent notices the outage');
    await new Promise((r) => setTimeout(r, 60_000));
    const upAt = Date.now();
    await dep.startCollector();
    // The agent reconnects and replays its outbox; then live samples continue.
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = 'pc-gap' AND t > ?`, upAt + 3000).length >= 2, { timeoutMs: 60_000, what: 'live samples after the gap' });
    await waitFor(
      () => {
        const s = seqsOf(dep, 'pc-gap', boot);
        return s.length > 0 && s[s.length - 1] === s.length - 1;
      },
      { timeoutMs: 30_000, what: 'backlog fully replayed' },
    );

    const seqs = seqsOf(dep, 'pc-gap', boot);
    // Contiguous 0..n-1 across all kinds: nothing lost, and (unique index + count) nothing twice.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    const rows = dep.query<{ t: number; t_agent: number; received: number }>(`SELECT t, t_agent, received FROM samples WHERE host = 'pc-gap' AND boot = ? ORDER BY t`, boot);
    const inGap = rows.filter((r) => r.t > downAt + 1500 && r.t < upAt - 1500);
    // One sample a second while the collector was away (~57 s of clean gap).
    expect(inGap.length).toBeGreaterThanOrEqual(50);
    for (const r of inGap) {
      expect(r.t).toBe(r.t_agent); // original time kept (no skew on one machine)
      expect(r.received).toBeGreaterThanOrEqual(upAt); // but delivered after the restart
    }
    // No hole in the series larger than two intervals.
    const maxHole = Math.max(...rows.slice(1).map((r, i) => r.t - rows[i]!.t));
    expect(maxHole).toBeLessThan(2500);
    await agent.stop();
  }, 180_000);

  it('kill -9 of the agent mid-run: restart from the same outbox, no loss of appended samples, no duplicates', async () => {
    const first = await dep.startAgent('xa-thu', 'pc-crash');
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = 'pc-crash'`).length >= 5, { timeoutMs: 30_000, what: 'samples before the crash' });
    const boot1 = bootOf(first.agent);
    await first.agent.kill9();
    const before = metricValue(await dep.metrics(), 'canh_ingest_rejected_total{reason="schema"}');
    const second = await dep.startAgent('xa-thu', 'pc-crash', { stateDir: first.stateDir, cred: first.cred });
    const start = await second.agent.waitFor((l) => l.msg === 'agent starting', 20_000, 'agent restart');
    const boot2 = start.boot as string;
    expect(boot2).not.toBe(boot1);
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = 'pc-crash' AND boot = ?`, boot2).length >= 3, { timeoutMs: 30_000, what: 'samples after restart' });
    // Everything the first run appended to its outbox is stored, exactly once.
    const seqs = seqsOf(dep, 'pc-crash', boot1);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    const dupRows = dep.query<{ n: number }>(
      `SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT boot, seq FROM samples WHERE host = 'pc-crash')) AS n FROM samples WHERE host = 'pc-crash'`,
    );
    expect(dupRows[0]!.n).toBe(0);
    // The outbox reopened cleanly: nothing was rejected, no outbox error logged.
    expect(metricValue(await dep.metrics(), 'canh_ingest_rejected_total{reason="schema"}')).toBe(before);
    expect(second.agent.logs().filter((l) => (l.level as number) >= 50)).toEqual([]);
    await second.agent.stop();
  }, 120_000);
});
