import type { DiskIoMetrics, PowerMetrics, PressureMetrics, ProcessInfo } from '../../contract/schemas.js';
import type { DiskIoCounters, VmstatCounters } from './disk-pressure-parsers.js';

/**
 * The platform edge: every OS reading the agent takes goes through this port, so the
 * sources are pure arithmetic over readings and tests feed them recorded OS output.
 * The implementations are linux-system-info.ts (/proc, /sys, /etc) and si-system-info.ts
 * (systeminformation, for Windows and macOS); system-info-factory.ts picks one.
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
 * The OS boot and the clocks around it: what the outage and freeze detectors read. Apart
 * from {@link SystemInfo} so a detector's test fakes only these.
 */
export interface BootClock {
  readonly platform: NodeJS.Platform;
  /**
   * This OS boot: its time (epoch ms; the BOOT_TIME_OVERRIDE_ENV test override of os-boot.ts
   * where set) and, on Linux, the kernel's boot id. Optional: without it outages are not judged.
   */
  osBoot?(): Promise<{ bootTime: number; bootId: string | null }>;
  /** Ms since boot counting suspend (Linux CLOCK_BOOTTIME, Windows tick count); null when unknown. */
  bootClockMs?(): Promise<number | null>;
  /**
   * Windows: ms the PC slept within [from, to] (wall ms) by the System log, where the monotonic
   * clock counts through sleep; null when unknown. Absent elsewhere (the boot clock tells).
   */
  sleptMsBetween?(from: number, to: number): Promise<number | null>;
}

/** The process table, read after a freeze only. */
export interface ProcessTable {
  /** The top `n` processes by CPU and by memory. */
  topProcesses?(n: number): Promise<ProcessInfo[]>;
}

/** The default route: what the network-cut detector and the ping source need. */
export interface GatewayLookup {
  /** Default gateway IP, or null when there is none; costs a child process on Windows/macOS, so cache it. */
  defaultGateway(): Promise<string | null>;
}

/** The static facts of the daily inventory message. */
export interface InventoryReadings {
  memory(): Promise<MemoryReading>;
  cpuInfo(): Promise<CpuInfo>;
  diskLayout(): Promise<DiskLayoutEntry[]>;
  osInfo(): Promise<OsInfo>;
}

/**
 * Per-sample disk activity and memory pressure (issue 17). Linux gives cumulative counters
 * (the sources turn them into rates); Windows gives the formatted performance counters, already
 * rates, in one query for both sources. Each method is optional: absent = the OS has no such reading.
 */
export interface PressureReadings {
  /** Linux /proc/diskstats, whole physical disks. */
  diskIoCounters?(): Promise<DiskIoCounters[]>;
  /** Linux /proc/pressure/memory avg10 (rejects ENOENT on kernels without PSI). */
  psiMemory?(): Promise<{ some: number | null; full: number | null }>;
  /** Linux /proc/vmstat swap and major-fault counters. */
  vmstat?(): Promise<VmstatCounters>;
  /** Windows PhysicalDisk and Memory performance counters (one PowerShell query through the persistent shell). */
  windowsPerf?(): Promise<{ disks: DiskIoMetrics[]; pressure: PressureMetrics }>;
}

/**
 * Port for raw OS readings. Implementations do no caching and no rate arithmetic:
 * the sources cache static facts (mounts, gateway, core count) and turn cumulative
 * counters into rates, so this stays a thin, swappable edge.
 *
 * Errors: a reading that cannot exist on this machine (missing file, counter or binary)
 * rejects with an error whose `code` is `ENOENT` (or `EACCES`/`EPERM`); see
 * {@link isMissingError}. Sources turn those into their SourceUnavailableError.
 */
export interface SystemInfo extends BootClock, ProcessTable, GatewayLookup, InventoryReadings, PressureReadings {
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
  /** Sends `count` echo requests, waiting `timeoutSeconds` for each reply. */
  ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading>;
  /**
   * A new probe period for continuous pings (a remote configuration changed the interval or
   * the count live, issue 16); implementations without continuous pings have none.
   */
  setPingProbeInterval?(seconds: number): void;
  /** Battery/UPS state; `unknown` when the machine reports no supply. */
  powerSupply?(): Promise<PowerMetrics>;
}

const MISSING_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTSUP', 'ENOSYS']);

/** True when `err` says the thing read does not exist or may not be read on this machine. */
export function isMissingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && MISSING_CODES.has(code);
}
