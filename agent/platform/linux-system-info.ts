import { readdir, readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { ProcessInfo, PowerMetrics } from '../../contract/schemas.js';
import { ContinuousPing } from './continuous-ping.js';
import { PingChildRecord } from './ping-children.js';
import {
  diskLayoutFromSysBlock,
  parseCpuinfo,
  parseMeminfo,
  parseOsRelease,
  parseProcMounts,
  parseProcNetDev,
  parseProcNetRoute,
  parseProcStat,
  type SysBlockEntry,
} from './linux-proc-parsers.js';
import { parseDiskstats, parsePsiMemory, parseVmstat, type DiskIoCounters, type VmstatCounters } from './disk-pressure-parsers.js';
import { missing, NodeOsSystemInfo, type RealSystemInfoOptions } from './node-os-system-info.js';
import { readLinuxBootId } from './os-boot.js';
import { powerFromSysfs, readSysPowerSupplies } from './power-supply.js';
import type { CpuInfo, CpuTimes, DiskLayoutEntry, MemoryReading, MountEntry, NetCounters, OsInfo, PingReading, SystemInfo } from './system-info.js';
import { linuxTopProcesses } from './top-processes.js';

/**
 * The real OS on Linux: every reading but ping is a /proc, /sys or /etc read (no child
 * processes), because the agent is benchmarked against node-exporter for CPU per sample,
 * and systeminformation is never loaded (it costs several MB of RSS). Ping runs one
 * long-lived `ping` per target (continuous-ping.ts).
 */

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

/** Stop a target's pinger when no sample asked for it for this long (the gateway changed). */
const PINGER_IDLE_MS = 10 * 60_000;

/** {@link SystemInfo} from /proc, /sys and /etc; see the file header. */
export class LinuxSystemInfo extends NodeOsSystemInfo implements SystemInfo {
  private probeInterval: number;
  private readonly pingers = new Map<string, { pinger: ContinuousPing; lastTaken: number }>();

  constructor(opts: RealSystemInfoOptions = {}) {
    super('linux', opts);
    this.probeInterval = Math.max(0.2, opts.pingProbeIntervalSeconds ?? 3.75);
    if (opts.stateDir) {
      this.pingChildren = new PingChildRecord(join(opts.stateDir, 'ping-children.json'), this.log);
      // A previous run killed with kill -9 may have left its pings running (issue 13 item 8).
      this.pingChildren.endStrays();
    }
  }
  private readonly pingChildren: PingChildRecord | undefined;

  async stop(): Promise<void> {
    await Promise.all([...this.pingers.values()].map((p) => p.pinger.stop()));
    this.pingers.clear();
  }

  async cpuTimes(): Promise<CpuTimes> {
    // si.currentLoad would spawn `cat /proc/stat | grep cpu` per call on Linux; read it directly.
    return parseProcStat(await readFile('/proc/stat', 'utf8'));
  }

  async memory(): Promise<MemoryReading> {
    return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
  }

  async mounts(): Promise<MountEntry[]> {
    // /proc/self/mounts rather than si.fsSize, which runs `df` in a child process.
    return parseProcMounts(await readFile('/proc/self/mounts', 'utf8'));
  }

  async netCounters(include: (iface: string) => boolean = () => true): Promise<NetCounters[]> {
    return parseProcNetDev(await readFile('/proc/net/dev', 'utf8')).filter((c) => include(c.iface));
  }

  async diskIoCounters(): Promise<DiskIoCounters[]> {
    return parseDiskstats(await readFile('/proc/diskstats', 'utf8'));
  }

  async psiMemory(): Promise<{ some: number | null; full: number | null }> {
    return parsePsiMemory(await readFile('/proc/pressure/memory', 'utf8'));
  }

  async vmstat(): Promise<VmstatCounters> {
    return parseVmstat(await readFile('/proc/vmstat', 'utf8'));
  }

  protected override bootId(): Promise<string | null> {
    return readLinuxBootId();
  }

  async powerSupply(): Promise<PowerMetrics> {
    return powerFromSysfs(await readSysPowerSupplies());
  }

  async topProcesses(n: number): Promise<ProcessInfo[]> {
    return linuxTopProcesses(this.clock, n);
  }

  async defaultGateway(): Promise<string | null> {
    // si.networkGatewayDefault would spawn `ip route`; the kernel's table is one read away.
    return parseProcNetRoute(await readFile('/proc/net/route', 'utf8'));
  }

  /** The running pings stop; each target's ping starts again with the new period at its next reading. */
  setPingProbeInterval(seconds: number): void {
    const next = Math.max(0.2, seconds);
    if (next === this.probeInterval) return;
    this.probeInterval = next;
    for (const p of this.pingers.values()) void p.pinger.stop();
    this.pingers.clear();
  }

  async ping(target: string, count: number): Promise<PingReading> {
    return this.continuousPing(target, count);
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
      const pinger = new ContinuousPing({ target, probeIntervalSeconds: this.probeInterval, clock: this.clock, log: this.log, children: this.pingChildren });
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
    const text = await readFile('/proc/cpuinfo', 'utf8');
    const maxFreq = Number(await readOptional('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'));
    const cpus = os.cpus();
    return parseCpuinfo(text, { maxFreqKHz: Number.isFinite(maxFreq) && maxFreq > 0 ? maxFreq : null, fallbackModel: cpus[0]?.model ?? '', fallbackCount: cpus.length });
  }

  async diskLayout(): Promise<DiskLayoutEntry[]> {
    // si.diskLayout runs lsblk/smartctl in child processes on Linux; sysfs has what the inventory needs.
    return diskLayoutFromSysBlock(await readSysBlock());
  }

  async osInfo(): Promise<OsInfo> {
    const host = { platform: os.platform(), arch: os.arch(), kernel: os.release() };
    // os-release(5): /etc/os-release, else /usr/lib/os-release.
    const text = (await readOptional('/etc/os-release')) ?? (await readFile('/usr/lib/os-release', 'utf8'));
    return parseOsRelease(text, host);
  }
}
