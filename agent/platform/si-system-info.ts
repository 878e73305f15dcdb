import os from 'node:os';
import type { PingResponse } from 'ping';
// Types only (erased at build): the module itself is loaded lazily by loadSi(), and never on Linux.
import type { Systeminformation } from 'systeminformation';
import type { DiskIoMetrics, PowerMetrics, PressureMetrics, ProcessInfo } from '../../contract/schemas.js';
import { parseEventLogJson, POWER_TROUBLESHOOTER, sleptMsFromPowerTroubleshooter, windowsEventLogScript } from '../outages/shutdown-evidence/windows-event-log.js';
import { parseWindowsPerf, WINDOWS_PERF_SCRIPT } from './disk-pressure-parsers.js';
import { missing, NodeOsSystemInfo, type RealSystemInfoOptions } from './node-os-system-info.js';
import { powerFromSiBattery } from './power-supply.js';
import { runCommand } from './run-command.js';
import type { CpuInfo, CpuTimes, DiskLayoutEntry, MemoryReading, MountEntry, NetCounters, OsInfo, PingReading, SystemInfo } from './system-info.js';
import { topFromSiProcesses } from './top-processes.js';

/**
 * The real OS on Windows and macOS: readings go through systeminformation, loaded on first
 * use (it costs several MB of RSS), on Windows through its persistent PowerShell
 * ({@link SiSystemInfo.start}); ping through the `ping` package. The adapters from si's
 * shapes to readings are exported for the fixture tests.
 */

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

/** si.mem() (used on Windows, where it is os.totalmem/freemem plus the page file). */
export function memoryFromSi(m: Pick<Systeminformation.MemData, 'total' | 'available' | 'swaptotal' | 'swapused'>): MemoryReading {
  return { total: m.total, available: m.available, swapTotal: m.swaptotal, swapUsed: m.swapused };
}

/** si.fsSize() on Windows: one entry per drive letter (`fs` and `mount` are both `C:`). */
export function mountsFromSiFsSize(list: readonly Pick<Systeminformation.FsSizeData, 'fs' | 'type' | 'mount'>[]): MountEntry[] {
  return list.map((d) => ({ device: d.fs, mount: d.mount, fsType: d.type }));
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

/** systeminformation's persistent-PowerShell runner (lib/util.js; what si's own Windows readings use). */
async function siPowerShell(cmd: string): Promise<string> {
  // @ts-expect-error si ships no declarations for lib/util.js; static specifier so the agent bundle includes it.
  const util = (await import('systeminformation/lib/util.js')) as { powerShell?: (c: string) => Promise<string>; default?: { powerShell?: (c: string) => Promise<string> } };
  const run = util.powerShell ?? util.default?.powerShell;
  if (!run) throw missing('systeminformation powerShell runner not found');
  return run(cmd);
}

/** The diskio and pressure sources of one sample share one Windows counter query. */
const WINDOWS_PERF_SHARE_MS = 2_000;

/** {@link SystemInfo} through systeminformation; see the file header. */
export class SiSystemInfo extends NodeOsSystemInfo implements SystemInfo {
  private powerShellStarted = false;
  private perf: { at: number; p: Promise<{ disks: DiskIoMetrics[]; pressure: PressureMetrics }> } | undefined;

  constructor(platform: NodeJS.Platform, opts: RealSystemInfoOptions = {}) {
    super(platform, opts);
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
    if (this.powerShellStarted) {
      // start() may still be loading the module; release only what it started.
      const si = siModule ?? (await loadSi());
      si.powerShellRelease();
      this.powerShellStarted = false;
    }
  }

  async cpuTimes(): Promise<CpuTimes> {
    return cpuTimesFromOsCpus(os.cpus(), this.platform);
  }

  async memory(): Promise<MemoryReading> {
    return memoryFromSi(await (await loadSi()).mem());
  }

  async mounts(): Promise<MountEntry[]> {
    return mountsFromSiFsSize(await (await loadSi()).fsSize());
  }

  async netCounters(include: (iface: string) => boolean = () => true): Promise<NetCounters[]> {
    const names = Object.keys(os.networkInterfaces()).filter(include);
    if (names.length === 0) return [];
    return netCountersFromSi(await (await loadSi()).networkStats(names.join(',')));
  }

  /** Windows only: the PhysicalDisk and Memory counters, one query shared by the two sources of a sample. */
  windowsPerf(): Promise<{ disks: DiskIoMetrics[]; pressure: PressureMetrics }> {
    if (this.platform !== 'win32') return Promise.reject(missing('performance counters are read on Windows only'));
    const now = this.clock.monotonic();
    if (!this.perf || now - this.perf.at > WINDOWS_PERF_SHARE_MS) {
      const p = siPowerShell(WINDOWS_PERF_SCRIPT).then((out) => {
        if (out.trim() === '') throw missing('performance counters unreadable (empty PowerShell output)');
        return parseWindowsPerf(out);
      });
      this.perf = { at: now, p };
    }
    return this.perf.p;
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
    return powerFromSiBattery(await (await loadSi()).battery());
  }

  async topProcesses(n: number): Promise<ProcessInfo[]> {
    return topFromSiProcesses((await (await loadSi()).processes()).list, n);
  }

  async defaultGateway(): Promise<string | null> {
    const gw = (await (await loadSi()).networkGatewayDefault()).trim();
    return gw === '' ? null : gw;
  }

  async ping(target: string, count: number, timeoutSeconds: number): Promise<PingReading> {
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

  async cpuInfo(): Promise<CpuInfo> {
    return (await loadSi()).cpu();
  }

  async diskLayout(): Promise<DiskLayoutEntry[]> {
    return (await loadSi()).diskLayout();
  }

  async osInfo(): Promise<OsInfo> {
    return (await loadSi()).osInfo();
  }
}
