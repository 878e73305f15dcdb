import os from 'node:os';
import type { CpuInfo, CpuTimes, DiskLayoutEntry, MemoryReading, MountEntry, NetCounters, OsInfo } from './system-info.js';

/**
 * Pure adapters from Linux /proc, /sys and /etc text to the SystemInfo readings: what
 * linux-system-info.ts reads instead of spawning child processes or loading
 * systeminformation. No I/O here, so the fixture tests feed them recorded files.
 */

/**
 * The line of a /proc text file that starts with `prefix`, without its newline; undefined
 * when there is none. Found with indexOf rather than by splitting the whole file: the
 * sources read these files every sample, and /proc/stat's `intr` line alone holds thousands
 * of numbers, /proc/vmstat some 180 lines, all of which a split allocated anew each time.
 */
export function procLine(text: string, prefix: string): string | undefined {
  const start = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`) + 1;
  if (start === 0 && !text.startsWith(prefix)) return undefined;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end);
}

/** Aggregate `cpu` line of /proc/stat (fields in USER_HZ ticks). */
export function parseProcStat(text: string): CpuTimes {
  const line = procLine(text, 'cpu ');
  if (line === undefined) throw new Error('/proc/stat has no aggregate cpu line');
  // user nice system idle iowait irq softirq steal guest guest_nice. guest and guest_nice
  // are already counted inside user and nice, so adding them would count them twice.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const idleAll = idle + iowait;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idleAll };
}

/** The kB value of a /proc/meminfo key (`MemTotal:   24683748 kB`); undefined when absent. */
function meminfoKb(text: string, key: string): number | undefined {
  const line = procLine(text, `${key}:`);
  if (line === undefined) return undefined;
  const m = /^\s+(\d+)/.exec(line.slice(key.length + 1));
  return m ? Number(m[1]) : undefined;
}

/** /proc/meminfo (values in kB). */
export function parseMeminfo(text: string): MemoryReading {
  const total = meminfoKb(text, 'MemTotal');
  if (total === undefined) throw new Error('/proc/meminfo has no MemTotal');
  // MemAvailable exists since Linux 3.14; older kernels get the classic approximation.
  const available = meminfoKb(text, 'MemAvailable') ?? (meminfoKb(text, 'MemFree') ?? 0) + (meminfoKb(text, 'Buffers') ?? 0) + (meminfoKb(text, 'Cached') ?? 0);
  const swapTotal = meminfoKb(text, 'SwapTotal') ?? 0;
  const swapFree = meminfoKb(text, 'SwapFree') ?? 0;
  return { total: total * 1024, available: available * 1024, swapTotal: swapTotal * 1024, swapUsed: Math.max(0, swapTotal - swapFree) * 1024 };
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

/** /proc/net/dev. */
export function parseProcNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split('\n')) {
    // Split at the colon, not on whitespace: old kernels glue large counters to the name.
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop ...
    out.push({ iface: line.slice(0, colon).trim(), rxBytes: f[0]!, rxErrors: f[2]!, rxDropped: f[3]!, txBytes: f[8]!, txErrors: f[10]!, txDropped: f[11]! });
  }
  return out;
}

const RTF_GATEWAY = 0x2;

/** ® ™ © (escaped: the agent bundle stays ASCII, scripts/bundle-agent.mjs). */
const TRADEMARK_SIGNS = /[\u00ae\u2122\u00a9]/g;
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
  if (manufacturer && rest.length > 0 && first!.replace(TRADEMARK_SIGNS, '').toLowerCase() === manufacturer.toLowerCase()) brand = rest.join(' ');
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
  const physicalCores = pairs.size > 0 ? pairs.size : Number.isInteger(cpuCores) && cpuCores > 0 ? cpuCores * Math.max(1, packages.size) : logical;

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
  // Code-unit order, not localeCompare: the kept names are lowercase letters and digits, in
  // the same order either way, and a collator loads ICU's collation data (+2.7 MB of the
  // agent's RSS, for good).
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
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
