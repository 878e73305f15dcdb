import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import ping, { type PingResponse } from 'ping';
import si, { type Systeminformation } from 'systeminformation';
import { SourceUnavailableError } from './sources/source.js';

/**
 * The platform edge: every OS reading the agent takes goes through this port, so the
 * sources are pure arithmetic over readings and tests feed them recorded OS output.
 */

/** Cumulative CPU time since boot, all cores together, in one consistent unit (ticks or ms). */
export interface CpuTimes {
  /** Time spent doing anything but idling (idle and I/O wait are not busy). */
  busy: number;
  /** busy + idle. */
  total: number;
}

/** Memory in bytes. */
export interface MemoryReading {
  total: number;
  /** What can be handed to programs without swapping (Linux MemAvailable; Windows free physical). */
  available: number;
  swapTotal: number;
  swapUsed: number;
}

/** One mounted filesystem (a drive letter on Windows). */
export interface MountEntry {
  /** Block device or source (`/dev/sda1`, `C:`); two entries with one device are one disk. */
  device: string;
  mount: string;
  fsType: string;
}

/** Space on one filesystem, in bytes (statfs). */
export interface FsUsage {
  totalBytes: number;
  /** Free including the root-reserved blocks (statfs `bfree`). */
  freeBytes: number;
  /** Free to unprivileged users (statfs `bavail`); what `df` shows as Available. */
  availableBytes: number;
}

/** Cumulative interface counters since the interface came up (they reset and may wrap). */
export interface NetCounters {
  iface: string;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

/** One ping run: how many echo requests went out and the RTT (ms) of each reply that came back. */
export interface PingReading {
  sent: number;
  times: number[];
}

/** Static CPU facts (the fields of si.cpu() the inventory needs). */
export interface CpuInfo {
  manufacturer: string;
  brand: string;
  cores: number;
  physicalCores: number;
  /** GHz; 0 when the OS does not say (VMs). */
  speed: number;
}

/** One physical disk (the fields of si.diskLayout() the inventory needs). */
export interface DiskLayoutEntry {
  device: string;
  name: string;
  /** si's medium type: `HD`, `SSD`, `NVMe`, `SCM`, `Virtual`, `Unspecified`, `USB`, ''. */
  type: string;
  /** si's bus: `SATA`, `NVMe`, `PCIe`, `USB`, `SCSI`, ''. */
  interfaceType: string;
  size: number;
  /** Linux /sys/block/<dev>/queue/rotational when readable: true for spinning disks. */
  rotational?: boolean;
}

/** OS identity (the fields of si.osInfo() the inventory needs). */
export interface OsInfo {
  platform: string;
  distro: string;
  release: string;
  arch: string;
  kernel: string;
}

/**
 * Port for raw OS readings. Implementations do no caching and no rate arithmetic:
 * the sources cache static facts (mounts, gateway, core count) and turn cumulative
 * counters into rates, so this stays a thin, swappable edge.
 *
 * Errors: a reading that cannot exist on this machine (missing file, counter or binary)
 * rejects with an error whose `code` is `ENOENT` (or `EACCES`/`EPERM`); see
 * {@link isMissingError}. Sources turn those into {@link SourceUnavailableError}.
 */
export interface SystemInfo {
  readonly platform: NodeJS.Platform;
  /** Acquire long-lived helpers (Windows: the persistent PowerShell); call once before reading. */
  start?(): void | Promise<void>;
  /** Release what {@link start} acquired. */
  stop?(): void | Promise<void>;
  /** Cumulative CPU time; cheap (one /proc/stat read on Linux). */
  cpuTimes(): Promise<CpuTimes>;
  /** Logical CPU count; call once and cache. */
  cpuCount(): Promise<number>;
  /** 1/5/15-minute load averages; null on Windows, which has none. */
  loadAverage(): Promise<readonly [number, number, number] | null>;
  memory(): Promise<MemoryReading>;
  /** Mounted filesystems, unfiltered; costlier on Windows (PowerShell), so cache it. */
  mounts(): Promise<MountEntry[]>;
  /** statfs of one mount point. */
  fsUsage(mount: string): Promise<FsUsage>;
  /**
   * Interface counters. `include` lets an implementation skip interfaces the caller will
   * drop anyway (on Windows each interface costs a PowerShell query).
   */
  netCounters(include?: (iface: string) => boolean): Promise<NetCounters[]>;
  uptimeSeconds(): Promise<number>;
  /** Default gateway IP, or null when there is none; costs a child process, so cache it. */
  defaultGateway(): Promise<string | null>;
  /** Sends `count` echo requests, waiting `timeoutSeconds` for each reply. */
  ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading>;
  cpuInfo(): Promise<CpuInfo>;
  diskLayout(): Promise<DiskLayoutEntry[]>;
  osInfo(): Promise<OsInfo>;
}

/** How often sources re-read static facts (mount list, default gateway). */
export const STATIC_REFRESH_MS = 5 * 60_000;

const MISSING_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTSUP', 'ENOSYS']);

/** True when `err` says the thing read does not exist or may not be read on this machine. */
export function isMissingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && MISSING_CODES.has(code);
}

/**
 * Runs one reading for a source: a missing file/counter/binary becomes
 * {@link SourceUnavailableError} (`what: message`); anything else is rethrown as is.
 */
export async function readOrUnavailable<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SourceUnavailableError) throw err;
    if (isMissingError(err)) throw new SourceUnavailableError(`${what}: ${(err as Error).message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Pure adapters from raw OS output to readings (exported for the fixture tests).

/** Aggregate `cpu` line of /proc/stat (fields in USER_HZ ticks). */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  // user nice system idle iowait irq softirq steal guest guest_nice. guest and guest_nice
  // are already counted inside user and nice, so adding them would count them twice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const idleAll = idle + iowait;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idleAll };
}

/** Sum of os.cpus() times (ms). */
export function cpuTimesFromOsCpus(cpus: readonly Pick<os.CpuInfo, 'times'>[], platform: NodeJS.Platform): CpuTimes {
  let busy = 0;
  let idle = 0;
  for (const { times } of cpus) {
    // On Windows libuv's `sys` is KernelTime - IdleTime, which already contains interrupt
    // time, so `irq` must not be added again (systeminformation does the same).
    const irq = platform === 'win32' ? 0 : times.irq;
    busy += times.user + times.nice + times.sys + irq;
    idle += times.idle;
  }
  return { busy, total: busy + idle };
}

/** /proc/meminfo (values in kB). */
export function parseMeminfo(text: string): MemoryReading {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal');
  // MemAvailable exists since Linux 3.14; older kernels get the classic approximation.
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  const swapTotal = kb.get('SwapTotal') ?? 0;
  const swapFree = kb.get('SwapFree') ?? 0;
  return { total: total * 1024, available: available * 1024, swapTotal: swapTotal * 1024, swapUsed: Math.max(0, swapTotal - swapFree) * 1024 };
}

/** si.mem() (used on Windows, where it is os.totalmem/freemem plus the page file). */
export function memoryFromSi(m: Pick<Systeminformation.MemData, 'total' | 'available' | 'swaptotal' | 'swapused'>): MemoryReading {
  return { total: m.total, available: m.available, swapTotal: m.swaptotal, swapUsed: m.swapused };
}

/** /proc/self/mounts; paths escape space, tab, newline and backslash as octal (`\040`). */
export function parseProcMounts(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, mount, fsType] = line.split(' ');
    if (device && mount && fsType) entries.push({ device: unescape(device), mount: unescape(mount), fsType });
  }
  return entries;
}

/** si.fsSize() on Windows: one entry per drive letter (`fs` and `mount` are both `C:`). */
export function mountsFromSiFsSize(list: readonly Pick<Systeminformation.FsSizeData, 'fs' | 'type' | 'mount'>[]): MountEntry[] {
  return list.map((d) => ({ device: d.fs, mount: d.mount, fsType: d.type }));
}

/** node:fs statfs result. */
export function fsUsageFromStatfs(s: { bsize: number; blocks: number; bfree: number; bavail: number }): FsUsage {
  return { totalBytes: s.blocks * s.bsize, freeBytes: s.bfree * s.bsize, availableBytes: s.bavail * s.bsize };
}

/** /proc/net/dev. */
export function parseProcNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split('\n')) {
    // Split at the colon, not on whitespace: old kernels glue large counters to the name.
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop ...
    out.push({ iface: line.slice(0, colon).trim(), rxBytes: f[0]!, rxErrors: f[2]!, rxDropped: f[3]!, txBytes: f[8]!, txErrors: f[10]!, txDropped: f[11]! });
  }
  return out;
}

/** si.networkStats() (used on Windows: Get-NetAdapterStatistics through the persistent PowerShell). */
export function netCountersFromSi(
  list: readonly Pick<Systeminformation.NetworkStatsData, 'iface' | 'rx_bytes' | 'tx_bytes' | 'rx_errors' | 'tx_errors' | 'rx_dropped' | 'tx_dropped'>[],
): NetCounters[] {
  const n = (v: number) => (Number.isFinite(v) && v > 0 ? v : 0);
  return list.map((s) => ({
    iface: s.iface,
    rxBytes: n(s.rx_bytes),
    txBytes: n(s.tx_bytes),
    rxErrors: n(s.rx_errors),
    txErrors: n(s.tx_errors),
    rxDropped: n(s.rx_dropped),
    txDropped: n(s.tx_dropped),
  }));
}

/** Reply lines: Linux `time=0.164 ms`, Windows `time=2ms` / `time<1ms`. */
const REPLY_TIME = /\btime[=<]\s*([\d.]+)\s*ms/i;

/**
 * A ping package response → reading. Uses the package's per-reply `times`; if a version
 * lacks them, the reply lines of the raw output. Replies are counted from reply lines, not
 * from the package's `packetLoss`: Windows counts "Destination host unreachable" answers
 * as received (0% loss) although nothing reached the target.
 */
export function pingReadingFromResponse(res: { times?: number[]; output?: string }, sent: number): PingReading {
  let times = Array.isArray(res.times) ? res.times.filter((t) => Number.isFinite(t) && t >= 0) : [];
  if (times.length === 0 && typeof res.output === 'string') {
    times = res.output
      .split('\n')
      .map((line) => REPLY_TIME.exec(line)?.[1])
      .filter((t): t is string => t !== undefined)
      .map(Number);
  }
  // Duplicate replies (Linux "DUP!") must not push received above sent.
  return { sent, times: times.slice(0, sent) };
}

/** statfs on Windows needs the drive root: `C:` alone means "the current directory on C:". */
export function statfsPath(mount: string): string {
  return /^[A-Za-z]:$/.test(mount) ? `${mount}\\` : mount;
}

function missing(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}

// ---------------------------------------------------------------------------------------

/**
 * The real OS. On Linux the per-sample readings are single /proc reads (no child
 * processes), because the agent is benchmarked against node-exporter for CPU per sample.
 * On Windows they go through systeminformation's persistent PowerShell ({@link start}).
 */
export class RealSystemInfo implements SystemInfo {
  readonly platform: NodeJS.Platform;
  private powerShellStarted = false;

  constructor(platform: NodeJS.Platform = process.platform) {
    this.platform = platform;
  }

  /** On Windows keep one PowerShell process for all si calls instead of one per call. */
  start(): void {
    if (this.platform === 'win32' && !this.powerShellStarted) {
      si.powerShellStart();
      this.powerShellStarted = true;
    }
  }

  stop(): void {
    if (this.powerShellStarted) {
      si.powerShellRelease();
      this.powerShellStarted = false;
    }
  }

  private get linux(): boolean {
    return this.platform === 'linux';
  }

  async cpuTimes(): Promise<CpuTimes> {
    // si.currentLoad would spawn `cat /proc/stat | grep cpu` per call on Linux; read it directly.
    if (this.linux) return parseProcStat(await readFile('/proc/stat', 'utf8'));
    return cpuTimesFromOsCpus(os.cpus(), this.platform);
  }

  async cpuCount(): Promise<number> {
    return Math.max(1, os.cpus().length);
  }

  async loadAverage(): Promise<readonly [number, number, number] | null> {
    if (this.platform === 'win32') return null;
    const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
    return [l1, l5, l15];
  }

  async memory(): Promise<MemoryReading> {
    if (this.linux) return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
    return memoryFromSi(await si.mem());
  }

  async mounts(): Promise<MountEntry[]> {
    // /proc/self/mounts rather than si.fsSize, which runs `df` in a child process.
    if (this.linux) return parseProcMounts(await readFile('/proc/self/mounts', 'utf8'));
    return mountsFromSiFsSize(await si.fsSize());
  }

  async fsUsage(mount: string): Promise<FsUsage> {
    return fsUsageFromStatfs(await statfs(statfsPath(mount)));
  }

  async netCounters(include: (iface: string) => boolean = () => true): Promise<NetCounters[]> {
    if (this.linux) return parseProcNetDev(await readFile('/proc/net/dev', 'utf8')).filter((c) => include(c.iface));
    const names = Object.keys(os.networkInterfaces()).filter(include);
    if (names.length === 0) return [];
    return netCountersFromSi(await si.networkStats(names.join(',')));
  }

  async uptimeSeconds(): Promise<number> {
    return os.uptime();
  }

  async defaultGateway(): Promise<string | null> {
    const gw = (await si.networkGatewayDefault()).trim();
    return gw === '' ? null : gw;
  }

  async ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading> {
    let res: PingResponse;
    try {
      // Linux: 0.2 s between probes (the smallest iputils allows without root) so a
      // 4-probe round takes under a second instead of three, and a deadline bounds it.
      const extra = this.linux ? ['-i', '0.2', '-w', String(Math.ceil(count * 0.2 + timeoutSeconds))] : [];
      res = await ping.promise.probe(target, { min_reply: count, timeout: timeoutSeconds, extra });
    } catch (err) {
      // The package swallows the spawn error's code and says this instead.
      if (/error while executing the ping program/i.test(String((err as Error)?.message))) {
        throw missing('ping binary not found');
      }
      throw err;
    }
    return pingReadingFromResponse(res, count);
  }

  async cpuInfo(): Promise<CpuInfo> {
    return si.cpu();
  }

  async diskLayout(): Promise<DiskLayoutEntry[]> {
    const disks: DiskLayoutEntry[] = await si.diskLayout();
    if (!this.linux) return disks;
    // si falls back to "HD" when it cannot tell; the kernel's flag is the authority.
    return Promise.all(
      disks.map(async (d) => {
        const name = d.device.replace(/^\/dev\//, '');
        if (!/^[A-Za-z0-9._-]+$/.test(name)) return d;
        try {
          const flag = (await readFile(`/sys/block/${name}/queue/rotational`, 'utf8')).trim();
          return flag === '1' || flag === '0' ? { ...d, rotational: flag === '1' } : d;
        } catch {
          return d;
        }
      }),
    );
  }

  async osInfo(): Promise<OsInfo> {
    return si.osInfo();
  }
}
