import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_FILE, parseHeartbeatSlots } from '../../agent/outages/heartbeat.js';
import { createDeployment, type Deployment } from '../helpers/deployment.js';
import { startAgentBundle, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 3, "Agent, at start": real agent processes (the shipped bundle), each with its own state
 * dir, killed with SIGKILL or stopped with SIGTERM, restarted with a later OS boot time and a
 * System event log injected at the platform edge (CANH_AGENT_PLATFORM_BOOT_TIME,
 * CANH_AGENT_PLATFORM_EVENT_LOG); the collector stores what they report.
 */

interface EventRow {
  type: string;
  boot: string;
  start: number | null;
  end: number | null;
  details: string | null;
}

const SITE = 'xa-outage';

describe('outage at agent start (kill -9, restart with a later boot time)', () => {
  let dep: Deployment;

  beforeAll(async () => {
    dep = await createDeployment('canh-outage-');
    await dep.startCollector();
  });
  afterAll(async () => {
    await dep?.stopAll();
  });

  const events = (host: string, type: string) => dep.query<EventRow>(`SELECT type, boot, start, "end", details FROM events WHERE host = ? AND type = ? ORDER BY id`, host, type);
  const details = (r: EventRow) => JSON.parse(r.details ?? '{}') as Record<string, unknown>;

  async function runUntilSamples(host: string, stateDir?: string, env: Record<string, string> = {}, minSamples = 3) {
    const before = dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length;
    const started = await dep.startAgent(SITE, host, { ...(stateDir ? { stateDir } : {}), env });
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ?`, host).length >= before + minSamples, { timeoutMs: 30_000, what: `${minSamples} samples from ${host}` });
    return started;
  }

  /** Restart on the same state dir and credential. */
  function restart(host: string, stateDir: string, cred: { username: string; password: string }, env: Record<string, string>): CanhProcess {
    return startAgentBundle(dep.agentEnv(SITE, host, cred, stateDir, env), `agent ${host} (restarted)`);
  }

  function heartbeatT(stateDir: string): number {
    // The agent's own reader of its heartbeat slots (agent/outages/heartbeat.ts).
    const hb = parseHeartbeatSlots(readFileSync(join(stateDir, HEARTBEAT_FILE)));
    if (!hb) throw new Error('no valid heartbeat in the state dir');
    return hb.t;
  }

  it('kill -9 then a new OS boot: exactly one power-loss outage from the last heartbeat to the boot; a clean stop then: none', async () => {
    const host = 'pc-power';
    const { agent, stateDir, cred } = await runUntilSamples(host);
    await agent.kill9();
    const killedAt = Date.now();
    const lastBeat = heartbeatT(stateDir);
    // The power came back and the PC booted 1.5 s after the cut.
    const bootTime = killedAt + 1500;
    const eventLog = join(stateDir, '..', `${host}-event-log.json`);
    writeFileSync(
      eventLog,
      JSON.stringify([
        {
          id: 41,
          provider: 'Microsoft-Windows-Kernel-Power',
          time: new Date(bootTime + 5000).toISOString(),
          data: { BugcheckCode: '0', PowerButtonTimestamp: '0', SleepInProgress: '0' },
        },
      ]),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const env = { CANH_AGENT_PLATFORM_BOOT_TIME: String(bootTime), CANH_AGENT_PLATFORM_EVENT_LOG: eventLog };
    const second = restart(host, stateDir, cred, env);
    await waitFor(() => events(host, 'outage').length >= 1, { timeoutMs: 30_000, what: 'outage event stored' });
    const [outage] = events(host, 'outage');
    const d = details(outage!);
    expect(d.cause).toBe('power_loss');
    expect(d.scope).toBe('host');
    expect(d.evidence).toBe('windows_event_log');
    expect(outage!.start).toBe(lastBeat);
    // Within one sampling interval (1 s) of the truth, and stated.
    expect(killedAt - outage!.start!).toBeGreaterThanOrEqual(0);
    expect(killedAt - outage!.start!).toBeLessThanOrEqual(1000 + 250);
    expect(d.uncertaintyMs).toBe(1000);
    expect(outage!.end).toBe(bootTime);
    expect(events(host, 'planned_shutdown')).toHaveLength(0);

    // A clean stop (SIGTERM) and a restart on the same boot: no outage, nothing planned either.
    await waitFor(() => dep.query(`SELECT 1 FROM samples WHERE host = ? AND boot = ?`, host, outage!.boot).length >= 2, { timeoutMs: 20_000, what: 'samples after restart' });
    expect(await second.stop('SIGTERM')).toBe(0);
    const third = restart(host, stateDir, cred, env);
    await third.waitFor((l) => l.msg === 'previous run judged', 20_000, 'judgement');
    expect(third.logs().find((l) => l.msg === 'previous run judged')?.verdict).toBe('clean');
    await waitFor(() => events(host, 'agent_start').length === 3, { timeoutMs: 20_000, what: 'third run started' });
    // An outage event would be stored right after agent_start; give it time to arrive.
    await new Promise((r) => setTimeout(r, 3000));
    expect(events(host, 'outage')).toHaveLength(1);
    expect(events(host, 'planned_shutdown')).toHaveLength(0);
    await third.stop('SIGTERM');
  });

  it('kill -9 and a restart on the same OS boot: an agent crash (scope agent), not a power cut', async () => {
    const host = 'pc-crash';
    const { agent, stateDir, cred } = await runUntilSamples(host);
    await agent.kill9();
    const killedAt = Date.now();
    const lastBeat = heartbeatT(stateDir);
    const second = restart(host, stateDir, cred, {});
    await waitFor(() => events(host, 'outage').length >= 1, { timeoutMs: 30_000, what: 'outage event stored' });
    const [outage] = events(host, 'outage');
    const d = details(outage!);
    expect(d.scope).toBe('agent');
    expect(d.cause).toBe('crash');
    expect(outage!.start).toBe(lastBeat);
    expect(outage!.end!).toBeGreaterThanOrEqual(killedAt);
    await second.stop('SIGTERM');
    expect(events(host, 'outage')).toHaveLength(1);
  });

  it('a planned restart in the event log (1074) after an unclean agent end: planned_shutdown, never an outage', async () => {
    const host = 'pc-planned';
    const { agent, stateDir, cred } = await runUntilSamples(host);
    await agent.kill9();
    const killedAt = Date.now();
    const bootTime = killedAt + 1000;
    const eventLog = join(stateDir, '..', `${host}-event-log.json`);
    writeFileSync(
      eventLog,
      JSON.stringify([
        {
          id: 1074,
          provider: 'User32',
          time: new Date(killedAt - 200).toISOString(),
          data: {
            param1: 'C:\\Windows\\system32\\shutdown.exe (PC-PLANNED)',
            param2: 'PC-PLANNED',
            param3: 'Other (Planned)',
            param4: '0x80000000',
            param5: 'restart',
            param6: '',
            param7: 'PC-PLANNED\\canbo',
          },
        },
      ]),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const second = restart(host, stateDir, cred, { CANH_AGENT_PLATFORM_BOOT_TIME: String(bootTime), CANH_AGENT_PLATFORM_EVENT_LOG: eventLog });
    await waitFor(() => events(host, 'planned_shutdown').length >= 1, { timeoutMs: 30_000, what: 'planned_shutdown stored' });
    const [planned] = events(host, 'planned_shutdown');
    expect(details(planned!).shutdownType).toBe('restart');
    expect(planned!.end).toBe(bootTime);
    await second.stop('SIGTERM');
    expect(events(host, 'outage')).toHaveLength(0);
  });
});
