import { readdir, readFile, realpath, statfs } from 'node:fs/promises';
import os from 'node:os';
import type { PingResponse } from 'ping';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { ContinuousPing } from './continuous-ping.js';
// Types only (erased at build): the module itself is loaded lazily by loadSi(), and never on Linux.
import type { Systeminformation } from 'systeminformation';
import { SourceUnavailableError } from '../sampling/sources/source.js';
import type { PowerMetrics, ProcessInfo } from '../../contract/schemas.js';
import { BOOT_TIME_OVERRIDE_ENV, bootTimeOverride, readBootClockMs, readLinuxBootId } from './os-boot.js';
import { powerFromSiBattery, powerFromSysfs, readSysPowerSupplies } from './power-supply.js';
import { linuxTopProcesses, topFromSiProcesses } from './top-processes.js';
import { runCommand } from './run-command.js';
import { parseEventLogJson, POWER_TROUBLESHOOTER, sleptMsFromPowerTroubleshooter, windowsEventLogScript } from '../outages/shutdown-evidence/windows-event-log.js';

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
  /** Default gateway IP, or null when there is none; costs a child process on Windows/macOS, so cache it. */
  defaultGateway(): Promise<string | null>;
  /** Sends `count` echo requests, waiting `timeoutSeconds` for each reply. */
  ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading>;
  cpuInfo(): Promise<CpuInfo>;
  diskLayout(): Promise<DiskLayoutEntry[]>;
  osInfo(): Promise<OsInfo>;
  /**
   * This OS boot: its time (epoch ms; the {@link BOOT_TIME_OVERRIDE_ENV} test override where
   * set) and, on Linux, the kernel's boot id. Optional: without it outages are not judged.
   */
  osBoot?(): Promise<{ bootTime: number; bootId: string | null }>;
  /** Ms since boot counting suspend (Linux CLOCK_BOOTTIME, Windows tick count); null when unknown. */
  bootClockMs?(): Promise<number | null>;
  /**
   * Windows: ms the PC slept within [from, to] (wall ms) by the System log, where the monotonic
   * clock counts through sleep; null when unknown. Absent elsewhere (the boot clock tells).
   */
  sleptMsBetween?(from: number, to: number): Promise<number | null>;
  /** Battery/UPS state; `unknown` when the machine reports no supply. */
  powerSupply?(): Promise<PowerMetrics>;
  /** The top `n` processes by CPU and by memory (read after a freeze only). */
  topProcesses?(n: number): Promise<ProcessInfo[]>;
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
// Linux inventory and gateway from /proc, /sys and /etc (no child processes, no systeminformation).

const RTF_GATEWAY = 0x2;

/**
 * /proc/net/route → default IPv4 gateway: rows with Destination 00000000 and the
 * RTF_GATEWAY flag, lowest Metric first. Addresses are the kernel's u32 printed in host
 * byte order, so on little-endian machines `010200C0` is 192.0.2.1.
 */
export function parseProcNetRoute(text: string, endianness: 'LE' | 'BE' = os.endianness()): string | null {
  let best: { gateway: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [, destination, gatewayHex, flagsHex, , , metricText] = f;
    const flags = parseInt(flagsHex!, 16);
    if (destination !== '00000000' || !Number.isFinite(flags) || (flags & RTF_GATEWAY) === 0) continue;
    if (!/^[0-9A-Fa-f]{8}$/.test(gatewayHex!)) continue;
    const metric = Number(metricText);
    const bytes = [0, 2, 4, 6].map((i) => parseInt(gatewayHex!.slice(i, i + 2), 16));
    if (endianness === 'LE') bytes.reverse();
    const gateway = bytes.join('.');
    if (gateway === '0.0.0.0') continue;
    if (!best || metric < best.metric) best = { gateway, metric: Number.isFinite(metric) ? metric : Infinity };
  }
  return best?.gateway ?? null;
}

const CPU_VENDORS: Record<string, string> = {
  GenuineIntel: 'Intel',
  AuthenticAMD: 'AMD',
  HygonGenuine: 'Hygon',
  CentaurHauls: 'VIA',
  '  Shanghai  ': 'Zhaoxin',
  Shanghai: 'Zhaoxin',
};

/** ARM `CPU implementer` codes (the kernel's arch/arm64 cputype.h). */
const ARM_IMPLEMENTERS: Record<string, string> = {
  '0x41': 'ARM',
  '0x42': 'Broadcom',
  '0x43': 'Cavium',
  '0x46': 'Fujitsu',
  '0x48': 'HiSilicon',
  '0x4e': 'NVIDIA',
  '0x50': 'APM',
  '0x51': 'Qualcomm',
  '0x53': 'Samsung',
  '0x56': 'Marvell',
  '0x61': 'Apple',
  '0x69': 'Intel',
  '0xc0': 'Ampere',
};

/** Common ARM Ltd `CPU part` codes (implementer 0x41). */
const ARM_PARTS: Record<string, string> = {
  '0xb76': 'ARM1176',
  '0xc07': 'Cortex-A7',
  '0xc08': 'Cortex-A8',
  '0xc09': 'Cortex-A9',
  '0xc0d': 'Cortex-A12',
  '0xc0f': 'Cortex-A15',
  '0xc0e': 'Cortex-A17',
  '0xd03': 'Cortex-A53',
  '0xd04': 'Cortex-A35',
  '0xd05': 'Cortex-A55',
  '0xd07': 'Cortex-A57',
  '0xd08': 'Cortex-A72',
  '0xd09': 'Cortex-A73',
  '0xd0a': 'Cortex-A75',
  '0xd0b': 'Cortex-A76',
  '0xd0c': 'Neoverse-N1',
  '0xd0d': 'Cortex-A77',
  '0xd40': 'Neoverse-V1',
  '0xd41': 'Cortex-A78',
  '0xd46': 'Cortex-A510',
  '0xd47': 'Cortex-A710',
  '0xd49': 'Neoverse-N2',
  '0xd4b': 'Cortex-A78C',
};

/** Extra readings {@link parseCpuinfo} may use beside /proc/cpuinfo. */
export interface CpuinfoExtras {
  /** /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq (kHz), when readable. */
  maxFreqKHz?: number | null;
  /** os.cpus()[0].model, for brands /proc/cpuinfo does not name (ARM). */
  fallbackModel?: string;
  /** os.cpus().length, when /proc/cpuinfo lists no processors. */
  fallbackCount?: number;
}

/** `Intel(R) Core(TM) i5-4570 CPU @ 3.20GHz` → `Core™ i5-4570` (systeminformation's spelling). */
function cleanCpuBrand(modelName: string, manufacturer: string): string {
  let brand = modelName
    .replace(/\(R\)/g, '®')
    .replace(/\(TM\)/g, '™')
    .replace(/\(C\)/g, '©')
    .split('@')[0]!
    .replace(/\bCPU\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const [first, ...rest] = brand.split(' ');
  if (manufacturer && rest.length > 0 && first!.replace(/[®™©]/g, '').toLowerCase() === manufacturer.toLowerCase()) brand = rest.join(' ');
  return brand;
}

/** /proc/cpuinfo (x86 or ARM) → static CPU facts. */
export function parseCpuinfo(text: string, extras: CpuinfoExtras = {}): CpuInfo {
  const processors: Map<string, string>[] = [];
  const global = new Map<string, string>();
  let current: Map<string, string> | null = null;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) {
      if (line.trim() === '') current = null;
      continue;
    }
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    // `processor : 0` opens a block; old ARM kernels also have `Processor : ARMv7 ...` (a model).
    if (key === 'processor' && /^\d+$/.test(value)) {
      current = new Map();
      processors.push(current);
    }
    (current ?? global).set(key, value);
    if (!global.has(key)) global.set(key, value);
  }
  const first = processors[0] ?? global;
  // Empty values (`Hardware :` on some ARM boards) count as absent.
  const get = (k: string) => first.get(k) || global.get(k) || undefined;

  const vendorId = get('vendor_id');
  const implementer = get('CPU implementer')?.toLowerCase();
  const manufacturer = vendorId !== undefined ? (CPU_VENDORS[vendorId] ?? vendorId.trim()) : implementer ? (ARM_IMPLEMENTERS[implementer] ?? '') : '';

  const part = get('CPU part')?.toLowerCase();
  const fallbackModel = extras.fallbackModel && extras.fallbackModel !== 'unknown' ? extras.fallbackModel : undefined;
  const modelName = get('model name') ?? get('Model Name') ?? get('cpu model');
  const brand = modelName
    ? cleanCpuBrand(modelName, manufacturer)
    : ((implementer === '0x41' && part ? ARM_PARTS[part] : undefined) ?? get('Hardware') ?? get('Processor') ?? fallbackModel ?? (part ? `CPU part ${part}` : ''));

  const logical = processors.length > 0 ? processors.length : Math.max(1, extras.fallbackCount ?? 1);
  const pairs = new Set<string>();
  const packages = new Set<string>();
  for (const p of processors) {
    const pkg = p.get('physical id');
    const core = p.get('core id');
    if (pkg !== undefined) packages.add(pkg);
    if (pkg !== undefined && core !== undefined) pairs.add(`${pkg}/${core}`);
  }
  const cpuCores = Number(get('cpu cores'));
  const physicalCores =
    pairs.size > 0 ? pairs.size : Number.isInteger(cpuCores) && cpuCores > 0 ? cpuCores * Math.max(1, packages.size) : logical;

  let speed = 0;
  if (extras.maxFreqKHz && Number.isFinite(extras.maxFreqKHz) && extras.maxFreqKHz > 0) {
    speed = extras.maxFreqKHz / 1e6;
  } else {
    const mhz = processors.map((p) => Number(p.get('cpu MHz'))).filter((n) => Number.isFinite(n) && n > 0);
    if (mhz.length > 0) speed = Math.max(...mhz) / 1000;
    else if (modelName) speed = Number(/@\s*([\d.]+)\s*GHz/i.exec(modelName)?.[1] ?? 0) || 0;
  }
  return { manufacturer, brand, cores: logical, physicalCores: Math.min(physicalCores, logical), speed: Math.round(speed * 100) / 100 };
}

/** /etc/os-release (shell-style KEY=value, optionally quoted) → OS identity. */
export function parseOsRelease(text: string, host: Omit<OsInfo, 'distro' | 'release'>): OsInfo {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\$"`])/g, '$1');
    }
    vars.set(m[1]!, value);
  }
  return {
    platform: host.platform,
    distro: vars.get('PRETTY_NAME') || vars.get('NAME') || 'Linux',
    release: vars.get('VERSION_ID') ?? '',
    arch: host.arch,
    kernel: host.kernel,
  };
}

/** One /sys/block entry as read from sysfs (raw file contents, null when unreadable). */
export interface SysBlockEntry {
  name: string;
  /** `size`: 512-byte sectors. */
  size: string | null;
  /** `queue/rotational`: `1` spinning, `0` not. */
  rotational: string | null;
  /** `device/model` (or an MMC card's `device/name`). */
  model: string | null;
  /** realpath of /sys/block/<name> (tells the bus: `/usb`, `/ata`, `/nvme`). */
  devicePath: string | null;
}

/** Whole physical disks; loop, ram, zram, dm-*, md*, sr*, fd* and MMC boot/rpmb areas are not. */
const PHYSICAL_DISK = /^(?:sd[a-z]+|hd[a-z]+|vd[a-z]+|xvd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** /sys/block entries → physical disks in the shape of si.diskLayout(). Empty slots (size 0) are dropped. */
export function diskLayoutFromSysBlock(entries: readonly SysBlockEntry[]): DiskLayoutEntry[] {
  const disks: DiskLayoutEntry[] = [];
  for (const e of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!PHYSICAL_DISK.test(e.name)) continue;
    const sectors = Number(e.size?.trim());
    if (!Number.isFinite(sectors) || sectors <= 0) continue;
    const flag = e.rotational?.trim();
    const rotational = flag === '1' ? true : flag === '0' ? false : undefined;
    const nvme = e.name.startsWith('nvme');
    const path = e.devicePath ?? '';
    const interfaceType = nvme ? 'NVMe' : /\/usb\d/.test(path) ? 'USB' : /\/ata\d/.test(path) ? 'SATA' : '';
    const type = nvme ? 'NVMe' : rotational === true ? 'HD' : rotational === false ? 'SSD' : '';
    const entry: DiskLayoutEntry = { device: `/dev/${e.name}`, name: (e.model ?? '').trim(), type, interfaceType, size: sectors * 512 };
    if (rotational !== undefined) entry.rotational = rotational;
    disks.push(entry);
  }
  return disks;
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** Reads /sys/block (rejects with ENOENT when there is no sysfs). */
export async function readSysBlock(root = '/sys/block'): Promise<SysBlockEntry[]> {
  const names = await readdir(root);
  return Promise.all(
    names.map(async (name): Promise<SysBlockEntry> => {
      const dir = `${root}/${name}`;
      const [size, rotational, model, mmcName, devicePath] = await Promise.all([
        readOptional(`${dir}/size`),
        readOptional(`${dir}/queue/rotational`),
        readOptional(`${dir}/device/model`),
        name.startsWith('mmcblk') ? readOptional(`${dir}/device/name`) : Promise.resolve(null),
        realpath(dir).catch(() => null),
      ]);
      return { name, size: size?.trim() ?? null, rotational: rotational?.trim() ?? null, model: (model ?? mmcName)?.trim() ?? null, devicePath };
    }),
  );
}

// ---------------------------------------------------------------------------------------
// systeminformation, loaded on first use (Windows/macOS only): it costs several MB of RSS.

type Si = typeof import('systeminformation');
let siModule: Si | undefined;
let siLoading: Promise<Si> | undefined;

/** The systeminformation module, imported once on first call. Never called on Linux. */
export function loadSi(): Promise<Si> {
  siLoading ??= import('systeminformation').then(
    (m) => {
      // CommonJS module: its exports are the default export of the ESM namespace.
      siModule = ((m as { default?: Si }).default ?? m) as Si;
      return siModule;
    },
    (err: unknown) => {
      siLoading = undefined;
      throw err;
    },
  );
  return siLoading;
}

// ---------------------------------------------------------------------------------------

/**
 * The real OS. On Linux every reading but ping is a /proc, /sys or /etc read (no child processes),
 * because the agent is benchmarked against node-exporter for CPU per sample, and
 * systeminformation is never loaded (it costs several MB of RSS). On Windows/macOS the
 * readings go through systeminformation, loaded on first use; on Windows through its
 * persistent PowerShell ({@link start}).
 */
export interface RealSystemInfoOptions {
  clock?: Clock;
  log?: Logger;
  /**
   * Seconds between ping probes on Linux, where each target has one long-running ping
   * (see continuous-ping.ts); the agent sets sampling interval / ping.count.
   */
  pingProbeIntervalSeconds?: number;
  /** Where the platform overrides are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Stop a target's pinger when no sample asked for it for this long (the gateway changed). */
const PINGER_IDLE_MS = 10 * 60_000;

export class RealSystemInfo implements SystemInfo {
  readonly platform: NodeJS.Platform;
  private powerShellStarted = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly probeInterval: number;
  private readonly pingers = new Map<string, { pinger: ContinuousPing; lastTaken: number }>();
  /** {@link BOOT_TIME_OVERRIDE_ENV}: the test/platform override of the OS boot time. */
  private readonly bootOverride: number | undefined;

  constructor(platform: NodeJS.Platform = process.platform, opts: RealSystemInfoOptions = {}) {
    this.platform = platform;
    this.bootOverride = bootTimeOverride(opts.env);
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.probeInterval = Math.max(0.2, opts.pingProbeIntervalSeconds ?? 3.75);
  }

  /** On Windows keep one PowerShell process for all si calls instead of one per call. */
  async start(): Promise<void> {
    if (this.platform === 'win32' && !this.powerShellStarted) {
      this.powerShellStarted = true;
      try {
        (await loadSi()).powerShellStart();
      } catch (err) {
        this.powerShellStarted = false;
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.pingers.values()].map((p) => p.pinger.stop()));
    this.pingers.clear();
    if (this.powerShellStarted) {
      // start() may still be loading the module; release only what it started.
      const si = siModule ?? (await loadSi());
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
    return memoryFromSi(await (await loadSi()).mem());
  }

  async mounts(): Promise<MountEntry[]> {
    // /proc/self/mounts rather than si.fsSize, which runs `df` in a child process.
    if (this.linux) return parseProcMounts(await readFile('/proc/self/mounts', 'utf8'));
    return mountsFromSiFsSize(await (await loadSi()).fsSize());
  }

  async fsUsage(mount: string): Promise<FsUsage> {
    return fsUsageFromStatfs(await statfs(statfsPath(mount)));
  }

  async netCounters(include: (iface: string) => boolean = () => true): Promise<NetCounters[]> {
    if (this.linux) return parseProcNetDev(await readFile('/proc/net/dev', 'utf8')).filter((c) => include(c.iface));
    const names = Object.keys(os.networkInterfaces()).filter(include);
    if (names.length === 0) return [];
    return netCountersFromSi(await (await loadSi()).networkStats(names.join(',')));
  }

  async uptimeSeconds(): Promise<number> {
    if (this.bootOverride !== undefined) return Math.max(0, (this.clock.now() - this.bootOverride) / 1000);
    return os.uptime();
  }

  async osBoot(): Promise<{ bootTime: number; bootId: string | null }> {
    // The override hides the boot id too: otherwise the real (unchanged) id would say "same boot".
    if (this.bootOverride !== undefined) return { bootTime: this.bootOverride, bootId: null };
    return { bootTime: this.clock.now() - os.uptime() * 1000, bootId: this.linux ? await readLinuxBootId() : null };
  }

  bootClockMs(): Promise<number | null> {
    return readBootClockMs(this.platform);
  }

  async sleptMsBetween(from: number, to: number): Promise<number | null> {
    if (this.platform !== 'win32') return null;
    const since = (this.clock.now() - from) / 1000 + 120;
    const out = await runCommand('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', windowsEventLogScript(since, [1], POWER_TROUBLESHOOTER)], 20_000);
    if (out === null) return null;
    try {
      return sleptMsFromPowerTroubleshooter(parseEventLogJson(out), from, to);
    } catch {
      return null;
    }
  }

  async powerSupply(): Promise<PowerMetrics> {
    if (this.linux) return powerFromSysfs(await readSysPowerSupplies());
    return powerFromSiBattery(await (await loadSi()).battery());
  }

  async topProcesses(n: number): Promise<ProcessInfo[]> {
    if (this.linux) return linuxTopProcesses(this.clock, n);
    return topFromSiProcesses((await (await loadSi()).processes()).list, n);
  }

  async defaultGateway(): Promise<string | null> {
    // si.networkGatewayDefault would spawn `ip route`; the kernel's table is one read away.
    if (this.linux) return parseProcNetRoute(await readFile('/proc/net/route', 'utf8'));
    const gw = (await (await loadSi()).networkGatewayDefault()).trim();
    return gw === '' ? null : gw;
  }

  async ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading> {
    if (this.linux) return this.continuousPing(target, count);
    let res: PingResponse;
    try {
      // Loaded on first use only: Linux never needs the package.
      const ping = (await import('ping')).default;
      res = await ping.promise.probe(target, { min_reply: count, timeout: timeoutSeconds });
    } catch (err) {
      // The package swallows the spawn error's code and says this instead.
      if (/error while executing the ping program/i.test(String((err as Error)?.message))) {
        throw missing('ping binary not found');
      }
      throw err;
    }
    return pingReadingFromResponse(res, count);
  }

  /**
   * Linux: the probes of the last interval from the target's long-running ping. The
   * first call starts it and has no data yet (`sent: 0`: the source leaves the target
   * out of that one sample). A ping that cannot run reports every expected probe lost,
   * except a missing binary, which makes the source unavailable.
   */
  private continuousPing(target: string, count: number): PingReading {
    const now = this.clock.monotonic();
    for (const [t, p] of this.pingers) {
      if (t !== target && now - p.lastTaken > PINGER_IDLE_MS) {
        void p.pinger.stop();
        this.pingers.delete(t);
      }
    }
    let entry = this.pingers.get(target);
    if (!entry) {
      const pinger = new ContinuousPing({ target, probeIntervalSeconds: this.probeInterval, clock: this.clock, log: this.log });
      pinger.start();
      entry = { pinger, lastTaken: now };
      this.pingers.set(target, entry);
      if (pinger.lastError === 'ENOENT') throw missing('ping binary not found');
      return { sent: 0, times: [] };
    }
    entry.lastTaken = now;
    const w = entry.pinger.take();
    if (entry.pinger.lastError === 'ENOENT') throw missing('ping binary not found');
    if (w.sent === 0 && !entry.pinger.running() && entry.pinger.lastError) return { sent: count, times: [] };
    return w;
  }

  async cpuInfo(): Promise<CpuInfo> {
    if (this.linux) {
      const text = await readFile('/proc/cpuinfo', 'utf8');
      const maxFreq = Number(await readOptional('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'));
      const cpus = os.cpus();
      return parseCpuinfo(text, { maxFreqKHz: Number.isFinite(maxFreq) && maxFreq > 0 ? maxFreq : null, fallbackModel: cpus[0]?.model ?? '', fallbackCount: cpus.length });
    }
    return (await loadSi()).cpu();
  }

  async diskLayout(): Promise<DiskLayoutEntry[]> {
    // si.diskLayout runs lsblk/smartctl in child processes on Linux; sysfs has what the inventory needs.
    if (this.linux) return diskLayoutFromSysBlock(await readSysBlock());
    return (await loadSi()).diskLayout();
  }

  async osInfo(): Promise<OsInfo> {
    if (this.linux) {
      const host = { platform: os.platform(), arch: os.arch(), kernel: os.release() };
      // os-release(5): /etc/os-release, else /usr/lib/os-release.
      const text = (await readOptional('/etc/os-release')) ?? (await readFile('/usr/lib/os-release', 'utf8'));
      return parseOsRelease(text, host);
    }
    return (await loadSi()).osInfo();
  }
}
