import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import { bootTimeOverride, readBootClockMs } from './os-boot.js';
import type { FsUsage } from './system-info.js';

/**
 * What both real implementations of {@link SystemInfo} read the same way, through node:os
 * and statfs: core count, load average, filesystem usage, uptime and the OS boot (with the
 * BOOT_TIME_OVERRIDE_ENV test override of os-boot.ts).
 */

/** Options of the real {@link SystemInfo}s; see system-info-factory.ts. */
export interface RealSystemInfoOptions {
  clock?: Clock;
  log?: Logger;
  /**
   * Seconds between ping probes on Linux, where each target has one long-running ping
   * (see continuous-ping.ts); the agent sets sampling interval / ping.count.
   */
  pingProbeIntervalSeconds?: number;
  /** The agent's state dir: where the pids of its ping children are recorded (ping-children.ts). */
  stateDir?: string;
  /** Where the platform overrides are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** node:fs statfs result. */
export function fsUsageFromStatfs(s: { bsize: number; blocks: number; bfree: number; bavail: number }): FsUsage {
  return { totalBytes: s.blocks * s.bsize, freeBytes: s.bfree * s.bsize, availableBytes: s.bavail * s.bsize };
}

/** statfs on Windows needs the drive root: `C:` alone means "the current directory on C:". */
export function statfsPath(mount: string): string {
  return /^[A-Za-z]:$/.test(mount) ? `${mount}\\` : mount;
}

/** An error that {@link isMissingError} of system-info.ts recognises (code `ENOENT`). */
export function missing(message: string): Error {
  return Object.assign(new Error(message), { code: 'ENOENT' });
}

/** The readings common to every OS; the subclasses add the rest of {@link SystemInfo}. */
export abstract class NodeOsSystemInfo {
  readonly platform: NodeJS.Platform;
  protected readonly clock: Clock;
  protected readonly log: Logger;
  /** BOOT_TIME_OVERRIDE_ENV: the test/platform override of the OS boot time. */
  protected readonly bootOverride: number | undefined;

  constructor(platform: NodeJS.Platform, opts: RealSystemInfoOptions) {
    this.platform = platform;
    this.bootOverride = bootTimeOverride(opts.env);
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
  }

  async cpuCount(): Promise<number> {
    return Math.max(1, os.cpus().length);
  }

  async loadAverage(): Promise<readonly [number, number, number] | null> {
    if (this.platform === 'win32') return null;
    const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
    return [l1, l5, l15];
  }

  async fsUsage(mount: string): Promise<FsUsage> {
    return fsUsageFromStatfs(await statfs(statfsPath(mount)));
  }

  async uptimeSeconds(): Promise<number> {
    if (this.bootOverride !== undefined) return Math.max(0, (this.clock.now() - this.bootOverride) / 1000);
    return os.uptime();
  }

  async osBoot(): Promise<{ bootTime: number; bootId: string | null }> {
    // The override hides the boot id too: otherwise the real (unchanged) id would say "same boot".
    if (this.bootOverride !== undefined) return { bootTime: this.bootOverride, bootId: null };
    return { bootTime: this.clock.now() - os.uptime() * 1000, bootId: await this.bootId() };
  }

  bootClockMs(): Promise<number | null> {
    return readBootClockMs(this.platform);
  }

  /** The kernel's id of this boot, where the OS has one. */
  protected async bootId(): Promise<string | null> {
    return null;
  }
}
