import { LinuxSystemInfo } from './linux-system-info.js';
import type { RealSystemInfoOptions } from './node-os-system-info.js';
import { SiSystemInfo } from './si-system-info.js';
import type { SystemInfo } from './system-info.js';

export type { RealSystemInfoOptions } from './node-os-system-info.js';

/**
 * The real {@link SystemInfo} of `platform`: /proc, /sys and /etc on Linux (no child
 * processes, systeminformation never loaded), systeminformation elsewhere. The one place
 * that chooses; the agent calls it when no SystemInfo is injected.
 */
export function createSystemInfo(platform: NodeJS.Platform = process.platform, opts: RealSystemInfoOptions = {}): SystemInfo {
  return platform === 'linux' ? new LinuxSystemInfo(opts) : new SiSystemInfo(platform, opts);
}
