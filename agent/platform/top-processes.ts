import { readdir, readFile } from 'node:fs/promises';
import type { Clock } from '../../common/clock.js';
import type { ProcessInfo } from '../../contract/schemas.js';

/**
 * The processes using the most CPU and memory right after a freeze (issue 3: "so the officer
 * sees which program hung the PC"). Read only after a freeze, never per tick.
 * Linux: two /proc/<pid>/stat snapshots a second apart (no child process). Windows/macOS:
 * systeminformation processes().
 */

/** One /proc/<pid>/stat line, the fields used. */
export interface ProcStat {
  pid: number;
  name: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** Resident pages. */
  rssPages: number;
}

/** Parses /proc/<pid>/stat; the name is inside the last parentheses and may contain spaces or ')'. */
export function parseProcPidStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): utime = field 14, stime = 15, rss = 24.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const rss = Number(rest[21]);
  if (!Number.isInteger(pid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid, name: text.slice(open + 1, close) || '?', cpuTicks: utime + stime, rssPages: Number.isFinite(rss) ? rss : 0 };
}

export async function readProcStats(root = '/proc'): Promise<ProcStat[]> {
  const names = await readdir(root);
  const out: ProcStat[] = [];
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        try {
          const s = parseProcPidStat(await readFile(`${root}/${n}/stat`, 'utf8'));
          if (s) out.push(s);
        } catch {
          /* exited in between */
        }
      }),
  );
  return out;
}

/** USER_HZ and page size as on every mainstream Linux build (x86, arm64 4K kernels). */
const USER_HZ = 100;
const PAGE_BYTES = 4096;

/**
 * Two snapshots → CPU % over the gap (of one core, like `top`) and resident memory; the top
 * `n` by CPU plus the top `n` by memory, each process once.
 */
export function topFromSnapshots(before: readonly ProcStat[], after: readonly ProcStat[], gapMs: number, n: number): ProcessInfo[] {
  const prev = new Map(before.map((p) => [p.pid, p.cpuTicks]));
  const rows: ProcessInfo[] = after.map((p) => {
    const d = Math.max(0, p.cpuTicks - (prev.get(p.pid) ?? p.cpuTicks));
    const cpuPct = gapMs > 0 ? Math.round((d / USER_HZ / (gapMs / 1000)) * 1000) / 10 : 0;
    return { name: p.name.slice(0, 256), pid: p.pid, cpuPct: Math.min(cpuPct, 100_000), memBytes: p.rssPages * PAGE_BYTES };
  });
  return pickTop(rows, n);
}

/** Top `n` by CPU then top `n` by memory, each process once, at most 20 (the contract's limit). */
export function pickTop(rows: readonly ProcessInfo[], n: number): ProcessInfo[] {
  if (n <= 0) return [];
  const byCpu = [...rows].sort((a, b) => b.cpuPct - a.cpuPct || b.memBytes - a.memBytes).slice(0, n);
  const byMem = [...rows].sort((a, b) => b.memBytes - a.memBytes).slice(0, n);
  const seen = new Set<number>();
  const out: ProcessInfo[] = [];
  for (const p of [...byCpu, ...byMem]) {
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push(p);
  }
  return out.slice(0, 20);
}

/** Linux: top processes over a `gapMs` window starting now. */
export async function linuxTopProcesses(clock: Clock, n: number, gapMs = 1000): Promise<ProcessInfo[]> {
  const before = await readProcStats();
  const t0 = clock.monotonic();
  await clock.sleep(gapMs);
  const after = await readProcStats();
  return topFromSnapshots(before, after, clock.monotonic() - t0, n);
}

/** The fields of si.processes().list used (memRss in KB, cpu in %). */
export interface SiProcess {
  pid: number;
  name: string;
  cpu: number;
  memRss: number;
}

export function topFromSiProcesses(list: readonly SiProcess[], n: number): ProcessInfo[] {
  return pickTop(
    list
      .filter((p) => p.pid > 0 && p.name)
      .map((p) => ({
        name: p.name.slice(0, 256),
        pid: p.pid,
        cpuPct: Math.max(0, Math.min(100_000, Math.round((p.cpu || 0) * 10) / 10)),
        memBytes: Math.max(0, Math.round((p.memRss || 0) * 1024)),
      })),
    n,
  );
}
