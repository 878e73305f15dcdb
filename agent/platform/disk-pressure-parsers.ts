import type { DiskIoMetrics, PressureMetrics } from '../../contract/schemas.js';
import { procLine } from './linux-proc-parsers.js';

/**
 * Pure adapters for the per-sample disk activity and memory pressure readings (issue 17):
 * Linux /proc/diskstats, /proc/pressure/memory and /proc/vmstat, and the Windows
 * PhysicalDisk / Memory performance counters as the persistent PowerShell returns them.
 * No I/O here: the fixture tests feed recorded text.
 */

/** Cumulative counters of one whole disk from /proc/diskstats. */
export interface DiskIoCounters {
  disk: string;
  /** Field 13: ms the device had I/O in flight. */
  ioMs: number;
  /** Field 14: weighted ms doing I/O (requests in flight × time): its rate is the average queue. */
  weightedMs: number;
}

/**
 * Names that are not physical disks (loop, ram, zram, device-mapper, md, optical, floppy,
 * nbd) and partitions (`sda1`, `nvme0n1p2`, `mmcblk0p1`, `mmcblk0boot0`).
 */
const NOT_A_DISK = /^(loop|ram|zram|dm-|md|sr|fd|nbd)\d*/;
const PARTITION = /^(?:(?:[shv]d[a-z]+|xvd[a-z]+)\d+|(?:nvme\d+n\d+|mmcblk\d+)p\d+|mmcblk\d+(?:boot|rpmb)\d*)$/;

export function isPhysicalDiskName(name: string): boolean {
  return !NOT_A_DISK.test(name) && !PARTITION.test(name);
}

/** /proc/diskstats: whole physical disks only. */
export function parseDiskstats(text: string): DiskIoCounters[] {
  const out: DiskIoCounters[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // major minor name + at least 11 counters (kernels before 4.18 have exactly 11).
    if (f.length < 14) continue;
    const name = f[2]!;
    if (!isPhysicalDiskName(name)) continue;
    const ioMs = Number(f[12]);
    const weightedMs = Number(f[13]);
    if (!Number.isFinite(ioMs) || !Number.isFinite(weightedMs)) continue;
    out.push({ disk: name, ioMs, weightedMs });
  }
  return out;
}

/**
 * Busy % and average queue between two /proc/diskstats readings `elapsedMs` apart. A disk
 * that appears only in `cur` (hot-plugged) or whose counters went backwards (reset) is left
 * out until the next interval.
 */
export function diskIoRates(prev: readonly DiskIoCounters[], cur: readonly DiskIoCounters[], elapsedMs: number): DiskIoMetrics[] {
  if (!(elapsedMs > 0)) return [];
  const before = new Map(prev.map((d) => [d.disk, d]));
  const out: DiskIoMetrics[] = [];
  for (const d of cur) {
    const p = before.get(d.disk);
    if (!p || d.ioMs < p.ioMs || d.weightedMs < p.weightedMs) continue;
    const busyPct = Math.min(100, (100 * (d.ioMs - p.ioMs)) / elapsedMs);
    const queue = (d.weightedMs - p.weightedMs) / elapsedMs;
    out.push({ disk: d.disk, busyPct: round2(busyPct), queue: round2(queue) });
  }
  return out;
}

/**
 * The `some` and `full` lines' avg10. Compiled once: a RegExp built per call is parsed and
 * compiled again on every sample (V8 caches the compiled code per RegExp object).
 */
const PSI_AVG10 = { some: /^some\s.*\bavg10=([\d.]+)/m, full: /^full\s.*\bavg10=([\d.]+)/m } as const;

/** PSI `some`/`full` avg10 from /proc/pressure/memory (`full` is absent on some kernels). */
export function parsePsiMemory(text: string): { some: number | null; full: number | null } {
  const avg10 = (kind: keyof typeof PSI_AVG10): number | null => {
    const m = PSI_AVG10[kind].exec(text);
    const v = m ? Number(m[1]) : NaN;
    return Number.isFinite(v) ? Math.min(100, v) : null;
  };
  const some = avg10('some');
  if (some === null) throw new Error('/proc/pressure/memory has no "some" line');
  return { some, full: avg10('full') };
}

/** The cumulative /proc/vmstat counters memory pressure needs (pages, faults). */
export interface VmstatCounters {
  pswpin: number;
  pswpout: number;
  pgmajfault: number;
}

export function parseVmstat(text: string): VmstatCounters {
  // Three keys of some 180 lines: looked up, not split into a map every sample (procLine).
  const get = (k: string) => {
    const line = procLine(text, `${k} `);
    const n = line === undefined ? undefined : Number(line.split(' ')[1]);
    if (n === undefined || !Number.isFinite(n)) throw new Error(`/proc/vmstat has no ${k}`);
    return n;
  };
  return { pswpin: get('pswpin'), pswpout: get('pswpout'), pgmajfault: get('pgmajfault') };
}

/** Per-second rates between two /proc/vmstat readings; null for a counter that went backwards. */
export function vmstatRates(prev: VmstatCounters, cur: VmstatCounters, elapsedMs: number): Pick<PressureMetrics, 'swapInPs' | 'swapOutPs' | 'hardFaultsPs'> {
  const rate = (a: number, b: number) => (elapsedMs > 0 && b >= a ? round2(((b - a) * 1000) / elapsedMs) : null);
  return { swapInPs: rate(prev.pswpin, cur.pswpin), swapOutPs: rate(prev.pswpout, cur.pswpout), hardFaultsPs: rate(prev.pgmajfault, cur.pgmajfault) };
}

// ---------------------------------------------------------------------------------------
// Windows: formatted performance counters (already per-second rates and percentages).

/** The PowerShell run through the persistent shell each sample: two cheap CIM queries, one JSON. */
export const WINDOWS_PERF_SCRIPT =
  '$d = @(Get-CimInstance Win32_PerfFormattedData_PerfDisk_PhysicalDisk | Select-Object Name,PercentIdleTime,AvgDiskQueueLength); ' +
  '$m = Get-CimInstance Win32_PerfFormattedData_PerfOS_Memory | Select-Object PagesInputPersec,PagesOutputPersec,PageReadsPersec; ' +
  '@{ disks = $d; memory = $m } | ConvertTo-Json -Compress -Depth 3';

interface WinPerf {
  disks?: unknown;
  memory?: { PagesInputPersec?: unknown; PagesOutputPersec?: unknown; PageReadsPersec?: unknown } | null;
}

function num(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

/**
 * The JSON of {@link WINDOWS_PERF_SCRIPT}. PowerShell 5 turns a one-element array into a lone
 * object, so `disks` may be either; the `_Total` instance is dropped. Busy is 100 − % Idle Time
 * (% Disk Time is the queue in disguise and exceeds 100).
 */
export function parseWindowsPerf(json: string): { disks: DiskIoMetrics[]; pressure: PressureMetrics } {
  const raw = JSON.parse(json) as WinPerf;
  const list = Array.isArray(raw.disks) ? raw.disks : raw.disks ? [raw.disks] : [];
  const disks: DiskIoMetrics[] = [];
  for (const d of list as Array<{ Name?: unknown; PercentIdleTime?: unknown; AvgDiskQueueLength?: unknown }>) {
    if (typeof d?.Name !== 'string' || d.Name === '_Total' || d.Name === '') continue;
    const idle = num(d.PercentIdleTime);
    const queue = num(d.AvgDiskQueueLength);
    if (idle === null || queue === null) continue;
    disks.push({ disk: d.Name.slice(0, 256), busyPct: round2(100 - Math.min(100, idle)), queue: round2(queue) });
  }
  const m = raw.memory ?? {};
  return {
    disks,
    pressure: { memSomePct: null, memFullPct: null, swapInPs: num(m.PagesInputPersec), swapOutPs: num(m.PagesOutputPersec), hardFaultsPs: num(m.PageReadsPersec) },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
