import { readdir, readFile } from 'node:fs/promises';
import { MAX_DISKS } from '../../contract/limits.js';
import type { DiskHealth } from '../../contract/schemas.js';
import { isPhysicalDiskName } from '../platform/disk-pressure-parsers.js';
import { readLinuxBootId } from '../platform/os-boot.js';
import { runCommand } from '../platform/run-command.js';
import { parseSmartctlJson, parseSmartctlScan, runSmartctl } from './smartctl.js';
import { parseWindowsDiskHealth, windowsDiskEventsScript, WINDOWS_STORAGE_SCRIPT } from './windows-storage.js';

/** What one disk-health check found. */
export interface DiskHealthReport {
  disks: DiskHealth[];
  details?: Record<string, string | number | boolean | null>;
}

/** Thrown when the check cannot run at all on this machine; the event then says `unavailable` with this reason. */
export class DiskHealthUnavailable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DiskHealthUnavailable';
  }
}

/** One check: `sinceMs` = wall time of the previous check (disk error events after it are counted). */
export interface DiskHealthReader {
  /** `signal` aborts the check's child processes (the agent is stopping). */
  read(sinceMs: number, nowMs: number, timeoutMs: number, signal?: AbortSignal): Promise<DiskHealthReport>;
  /** What the reader must remember across agent restarts (persisted by the monitor), and its restore. */
  saveState?(): Record<string, string | number>;
  loadState?(state: Record<string, unknown>): void;
}

export interface LinuxDiskHealthOptions {
  /** /sys/block (tests point it at a copy). */
  sysBlock?: string;
  /** This OS boot's id (the kernel counters restart at boot); default /proc/sys/kernel/random/boot_id. */
  bootId?: () => Promise<string | null>;
  /** The smartctl binary (PATH lookup by default; /usr/sbin is searched too). */
  smartctl?: string;
}

/**
 * Linux: `smartctl -j` per device from `smartctl -j --scan`, always with `-n standby`; the
 * kernel's per-disk I/O error counter (/sys/block/<dev>/device/ioerr_cnt, SCSI/SATA disks)
 * gives the errors since the previous check. Without smartmontools, that counter alone.
 */
export class LinuxDiskHealthReader implements DiskHealthReader {
  private readonly sysBlock: string;
  private readonly smartctl: string[];
  private readonly lastIoErr = new Map<string, number>();
  private readonly bootId: () => Promise<string | null>;
  /** The OS boot the counters in {@link lastIoErr} belong to. */
  private countersBoot: string | null = null;

  constructor(opts: LinuxDiskHealthOptions = {}) {
    this.sysBlock = opts.sysBlock ?? '/sys/block';
    this.bootId = opts.bootId ?? readLinuxBootId;
    this.smartctl = opts.smartctl ? [opts.smartctl] : ['smartctl', '/usr/sbin/smartctl', '/sbin/smartctl'];
  }

  saveState(): Record<string, string | number> {
    return { ...(this.countersBoot ? { boot: this.countersBoot } : {}), ...Object.fromEntries([...this.lastIoErr].map(([k, v]) => [`ioerr:${k}`, v])) };
  }

  /** The previous run's counters, kept only when they are of this OS boot (they restart at boot). */
  loadState(state: Record<string, unknown>): void {
    this.pendingState = state;
  }
  private pendingState: Record<string, unknown> | undefined;

  /** Errors since the previous check per kernel disk name (first check of a boot: since boot). */
  private async ioErrors(): Promise<Map<string, number>> {
    const boot = await this.bootId();
    if (this.pendingState) {
      const st = this.pendingState;
      this.pendingState = undefined;
      if (boot !== null && st.boot === boot) {
        for (const [k, v] of Object.entries(st)) if (k.startsWith('ioerr:') && typeof v === 'number' && Number.isFinite(v) && v >= 0) this.lastIoErr.set(k.slice(6), v);
      }
    }
    if (boot !== this.countersBoot) {
      if (this.countersBoot !== null) this.lastIoErr.clear();
      this.countersBoot = boot;
    }
    let names: string[];
    try {
      names = (await readdir(this.sysBlock)).filter(isPhysicalDiskName);
    } catch {
      return new Map();
    }
    const out = new Map<string, number>();
    await Promise.all(
      names.map(async (n) => {
        try {
          const v = Number.parseInt((await readFile(`${this.sysBlock}/${n}/device/ioerr_cnt`, 'utf8')).trim(), 16);
          if (!Number.isFinite(v) || v < 0) return;
          const prev = this.lastIoErr.get(n);
          out.set(n, prev !== undefined && v >= prev ? v - prev : v);
          this.lastIoErr.set(n, v);
        } catch {
          // virtio, NVMe and MMC disks have no such counter.
        }
      }),
    );
    return out;
  }

  async read(_sinceMs: number, _nowMs: number, timeoutMs: number, signal?: AbortSignal): Promise<DiskHealthReport> {
    const ioErr = await this.ioErrors();
    let scan: Awaited<ReturnType<typeof runSmartctl>> = { missing: true };
    let binary: string | undefined;
    for (const b of this.smartctl) {
      scan = await runSmartctl(['-j', '--scan'], timeoutMs, b, signal);
      if (!('missing' in scan)) {
        binary = b;
        break;
      }
    }
    if ('missing' in scan || binary === undefined || 'error' in scan) {
      const why = 'error' in scan ? `smartctl --scan failed: ${scan.error}` : 'smartctl not installed (smartmontools)';
      if (ioErr.size === 0) throw new DiskHealthUnavailable(`${why}; no kernel I/O error counter (/sys/block/*/device/ioerr_cnt)`);
      const disks = [...ioErr].slice(0, MAX_DISKS).map(([n, errs]): DiskHealth => ({ device: `/dev/${n}`, state: errs > 0 ? 'warning' : 'ok', reason: why, errorEvents: errs }));
      return { disks, details: { source: 'kernel' } };
    }
    let devices;
    try {
      devices = parseSmartctlScan(scan.stdout);
    } catch {
      throw new DiskHealthUnavailable('smartctl --scan printed no JSON (smartmontools older than 7.0?)');
    }
    if (devices.length === 0) throw new DiskHealthUnavailable('smartctl found no disks (no permission, or virtual disks only)');
    const disks: DiskHealth[] = [];
    for (const d of devices.slice(0, MAX_DISKS)) {
      if (signal?.aborted) throw new DiskHealthUnavailable('check stopped (agent stopping)');
      const run = await runSmartctl(['-j', '-a', '-n', 'standby', '-d', d.type, d.name], timeoutMs, binary, signal);
      let h: DiskHealth;
      if ('stdout' in run) {
        try {
          h = parseSmartctlJson(run.stdout, d.name);
        } catch {
          h = { device: d.name, state: 'unavailable', reason: `smartctl printed no JSON (exit ${run.code})` };
        }
      } else {
        h = { device: d.name, state: 'unavailable', reason: 'error' in run ? run.error : 'smartctl vanished' };
      }
      const errs = ioErr.get(d.name.replace(/^\/dev\//, ''));
      if (errs !== undefined) {
        h.errorEvents = errs;
        if (errs > 0 && h.state === 'ok') h.state = 'warning';
      }
      disks.push(h);
    }
    return { disks, details: { source: 'smartctl' } };
  }
}

/**
 * Windows: {@link WINDOWS_STORAGE_SCRIPT} and the System log query, each one PowerShell run
 * per check (runCommand: fails softly to null).
 */
export class WindowsDiskHealthReader implements DiskHealthReader {
  async read(sinceMs: number, nowMs: number, timeoutMs: number, signal?: AbortSignal): Promise<DiskHealthReport> {
    const ps = (script: string) => runCommand('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script], timeoutMs, signal);
    const storage = await ps(WINDOWS_STORAGE_SCRIPT);
    if (storage === null || storage.trim() === '') throw new DiskHealthUnavailable('Get-PhysicalDisk / Get-StorageReliabilityCounter gave nothing (Windows 7, or no permission)');
    const events = (await ps(windowsDiskEventsScript(Math.max(60, (nowMs - sinceMs) / 1000)))) ?? '';
    let parsed;
    try {
      parsed = parseWindowsDiskHealth(storage, events);
    } catch (err) {
      throw new DiskHealthUnavailable(`disk reliability output unreadable: ${(err as Error).message.slice(0, 120)}`);
    }
    if (parsed.disks.length === 0) throw new DiskHealthUnavailable('Get-PhysicalDisk listed no disks');
    return { disks: parsed.disks.slice(0, MAX_DISKS), details: { source: 'windows', unattributedErrorEvents: parsed.unattributedErrorEvents } };
  }
}

/** The reader for this OS, or undefined where there is none (macOS). */
export function createDiskHealthReader(platform: NodeJS.Platform): DiskHealthReader | undefined {
  if (platform === 'linux') return new LinuxDiskHealthReader();
  if (platform === 'win32') return new WindowsDiskHealthReader();
  return undefined;
}
