import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

/**
 * The agent's long-running `ping` children must die with it (issue 13 item 8: an agent
 * killed with `kill -9` left one `ping` per target and crash, re-parented to PID 1).
 *
 * Two layers, because neither is enough alone on Linux:
 * 1. {@link pingCommand}: the child is `setpriv --pdeathsig TERM sh -c '…'`, a shell that
 *    gets SIGTERM when the agent dies (prctl PR_SET_PDEATHSIG) and then ends its ping.
 *    The parent-death signal cannot be put on `ping` itself: the kernel clears it when a
 *    binary with file capabilities is executed, and Debian's ping has `cap_net_raw=ep`.
 * 2. {@link PingChildRecord}: the pids (with their start time, so a reused pid is never
 *    hit) are recorded in the agent's state dir; an agent at start ends the strays a
 *    previous run left (no setpriv, an older util-linux, a shell killed on its own).
 *
 * Windows (ping.exe from the `ping` package, one short-lived run per sample, windowsHide):
 * a job object would tie the children to the agent but is not reachable from Node without
 * a native module; those runs end by themselves after `count` probes. Not tested here.
 */

/** `/proc/<pid>/stat` start time (clock ticks since boot), or null when the process is gone. */
export function procStartTime(pid: number, proc = '/proc'): string | null {
  try {
    const s = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // Fields after the `(comm)`; starttime is field 22 overall, index 19 here.
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function procCmdline(pid: number, proc = '/proc'): string[] {
  try {
    return readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

const isPing = (cmd: string[]) => cmd.some((a) => /(^|\/)ping(\.exe)?$/.test(a));

/** Pids whose parent is `ppid` (a scan of /proc: once per start, a few hundred entries). */
function childrenOf(ppid: number, proc: string): number[] {
  let names: string[];
  try {
    names = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  return names.map(Number).filter((pid) => {
    try {
      const s = readFileSync(`${proc}/${pid}/stat`, 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
    } catch {
      return false;
    }
  });
}

/** The wrapper used when `setpriv --pdeathsig` exists (util-linux ≥ 2.33). */
const SETPRIV = '/usr/bin/setpriv';
/** `$0` is the ping binary, `$@` its arguments; the shell stays as the parent and ends ping when told to. */
const WRAPPER = 'p="$0"; "$p" "$@" & c=$!; trap \'kill $c 2>/dev/null; exit 143\' TERM HUP INT; wait $c; exit $?';

/** The command line for one long-running ping: wrapped on Linux when setpriv exists. */
export function pingCommand(binary: string, args: string[], platform: NodeJS.Platform = process.platform, hasSetpriv = existsSync(SETPRIV)): [string, string[]] {
  if (platform !== 'linux' || !hasSetpriv) return [binary, args];
  return [SETPRIV, ['--pdeathsig', 'TERM', '/bin/sh', '-c', WRAPPER, binary, ...args]];
}

interface Recorded {
  pid: number;
  start: string;
}

/**
 * The pids of the agent's ping children, in `<stateDir>/ping-children.json`, so the
 * next start can end the ones a `kill -9` left. Writes are rare (a child starts or ends).
 */
export class PingChildRecord {
  private children: Recorded[] = [];

  constructor(
    private readonly file: string,
    private readonly log?: Logger,
    private readonly proc = '/proc',
  ) {}

  /**
   * Ends the children a previous run recorded that still run: same pid, same start time
   * (not a reused pid) and a ping (or its wrapper) on the command line. Linux only; returns the pids ended.
   */
  endStrays(): number[] {
    let old: Recorded[];
    try {
      old = (JSON.parse(readFileSync(this.file, 'utf8')) as { children?: Recorded[] }).children ?? [];
    } catch {
      return [];
    }
    const ended: number[] = [];
    const end = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
        ended.push(pid);
      } catch {
        /* gone meanwhile, or not ours */
      }
    };
    for (const r of old) {
      if (!Number.isInteger(r.pid) || r.pid <= 1 || r.pid === process.pid) continue;
      if (procStartTime(r.pid, this.proc) !== r.start) continue;
      if (!isPing(procCmdline(r.pid, this.proc))) continue;
      // The wrapper shell's own ping child first, so it is not left behind re-parented.
      for (const c of childrenOf(r.pid, this.proc)) if (isPing(procCmdline(c, this.proc))) end(c);
      end(r.pid);
    }
    if (ended.length) this.log?.warn({ pids: ended }, 'ended ping processes left running by a previous agent run');
    this.write();
    return ended;
  }

  add(pid: number | undefined): void {
    if (!pid) return;
    const start = procStartTime(pid, this.proc);
    if (start === null) return;
    this.children.push({ pid, start });
    this.write();
  }

  remove(pid: number | undefined): void {
    const before = this.children.length;
    this.children = this.children.filter((c) => c.pid !== pid);
    if (this.children.length !== before) this.write();
  }

  private write(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify({ children: this.children }), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      // Edges fail softly: without the record a stray is only not ended at the next start.
      this.log?.warn({ err: (err as Error).message }, 'cannot record ping children');
    }
  }
}
