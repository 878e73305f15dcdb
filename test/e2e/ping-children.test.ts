/**
 * Issue 13 item 8, with real processes: an agent killed with `kill -9` leaves no `ping`
 * running (parent-death signal through setpriv, agent/platform/ping-children.ts), and an
 * agent at start ends the pings a previous run recorded in its state dir that still run.
 * Linux only; the Windows path (ping.exe, windowsHide) is not tested here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { procStartTime } from '../../agent/platform/ping-children.js';
import { startAgentBundle, testAgentEnv, type CanhProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  cmd: string[];
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z') continue; // a zombie has ended; it only waits for its parent to reap it
      out.push({ pid: Number(d), ppid: Number(f[1]), pgid: Number(f[2]), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      /* ended during the scan */
    }
  }
  return out;
}

const isPing = (p: Proc) => p.cmd[0] === 'ping' || p.cmd[0]?.endsWith('/ping') === true;
/** The pings of an agent: its descendants (direct or through the wrapper shell), or re-parented ones in its process group. */
function pingsOf(agentPid: number, pgid: number): Proc[] {
  const all = processes();
  const desc = new Set([agentPid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all)
      if (desc.has(p.ppid) && !desc.has(p.pid)) {
        desc.add(p.pid);
        grew = true;
      }
  }
  return all.filter((p) => isPing(p) && (desc.has(p.pid) || (p.pgid === pgid && p.ppid === 1)));
}

const dirs: string[] = [];
const agents: CanhProcess[] = [];
let stray: number | undefined;
afterAll(async () => {
  for (const a of agents) await a.stop();
  if (stray) {
    try {
      process.kill(stray, 'SIGKILL');
    } catch {
      /* ended, as it should be */
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function agentEnv(stateDir: string): Record<string, string> {
  // No broker: the pings start with the first sample whether the agent is connected or not.
  return testAgentEnv('mqtt://127.0.0.1:1', 'xa-ping', 'pc-ping', { username: 'u', password: 'p' }, stateDir, {
    CANH_AGENT__PING__TARGETS: '["127.0.0.1","127.0.0.2"]',
  });
}

describe('ping children of the agent (issue 13 item 8)', () => {
  it('leaves no ping running after kill -9', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'canh-ping-children-'));
    dirs.push(stateDir);
    const agent = startAgentBundle(agentEnv(stateDir), 'agent-1');
    agents.push(agent);
    const pid = agent.proc.pid!;
    const pgid = processes().find((p) => p.pid === pid)!.pgid;
    await waitFor(() => pingsOf(pid, pgid).length === 2, { timeoutMs: 15_000, what: 'one ping per target under the agent' });
    const before = pingsOf(pid, pgid);
    expect(before.map((p) => p.cmd.at(-1)).sort()).toEqual(['127.0.0.1', '127.0.0.2']);
    const recorded = JSON.parse(readFileSync(join(stateDir, 'ping-children.json'), 'utf8')) as { children: Array<{ pid: number }> };
    expect(recorded.children).toHaveLength(2);
    await agent.kill9();
    // The parent-death signal ends them at once; 3 s of slack for a loaded machine.
    await waitFor(() => before.every((p) => !processes().some((q) => q.pid === p.pid)) && pingsOf(pid, pgid).length === 0, {
      timeoutMs: 3_000,
      what: 'no ping of the killed agent left',
    });
  }, 30_000);

  it('ends at start the pings a previous run recorded that still run', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'canh-ping-stray-'));
    dirs.push(stateDir);
    // A stray as a previous run would leave it where the parent-death signal is missing
    // (no setpriv; Windows): a real ping, not our child in any way that matters, recorded in the state dir.
    const p = spawn('ping', ['-n', '-i', '1', '127.0.0.1'], { stdio: 'ignore', detached: true });
    p.unref();
    stray = p.pid!;
    await waitFor(() => procStartTime(stray!) !== null, { what: 'the stray ping running' });
    writeFileSync(join(stateDir, 'ping-children.json'), JSON.stringify({ children: [{ pid: stray, start: procStartTime(stray) }] }));
    // A recorded pid whose start time differs is a reused pid: never touched.
    const bystander = spawn('ping', ['-n', '-i', '1', '127.0.0.1'], { stdio: 'ignore', detached: true });
    bystander.unref();
    try {
      await waitFor(() => procStartTime(bystander.pid!) !== null, { what: 'the bystander ping running' });
      writeFileSync(
        join(stateDir, 'ping-children.json'),
        JSON.stringify({
          children: [
            { pid: stray, start: procStartTime(stray) },
            { pid: bystander.pid, start: '1' },
          ],
        }),
      );
      const agent = startAgentBundle(agentEnv(stateDir), 'agent-2');
      agents.push(agent);
      await agent.waitFor((l) => l.msg === 'ended ping processes left running by a previous agent run', 15_000, 'the stray ended at start');
      await waitFor(() => !processes().some((q) => q.pid === stray), { timeoutMs: 3_000, what: 'the stray ping gone' });
      expect(processes().some((q) => q.pid === bystander.pid)).toBe(true);
      await agent.stop();
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 30_000);
});
