import { MAX_DISKS, MAX_STRING } from '../../../contract/limits.js';
import type { DiskMetrics } from '../../../contract/schemas.js';
import type { MountEntry } from '../../platform/system-info.js';
import { readOrUnavailable, STATIC_REFRESH_MS, type MetricSource, type SourceContext } from './source.js';

/**
 * Space per mounted filesystem: one statfs per mount each sample. The mount list itself
 * is cached and re-read at most every {@link STATIC_REFRESH_MS} (or sooner when a mount
 * disappears), because on Windows listing drives costs a PowerShell query.
 */
export function createDisksSource(ctx: SourceContext): MetricSource<'disks'> {
  const { sys, clock, config } = ctx;
  const excludedTypes = new Set(config.disks.excludeTypes);
  let mounts: MountEntry[] | undefined;
  let mountsReadAt = 0;

  async function currentMounts(): Promise<MountEntry[]> {
    if (!mounts || clock.monotonic() - mountsReadAt >= STATIC_REFRESH_MS) {
      mounts = reportableMounts(await readOrUnavailable('mount list unreadable', () => sys.mounts()), excludedTypes);
      mountsReadAt = clock.monotonic();
    }
    return mounts;
  }

  return {
    name: 'disks',
    async init() {
      await currentMounts();
    },
    async collect() {
      const list = await currentMounts();
      const results = await Promise.allSettled(list.map((m) => sys.fsUsage(m.mount)));
      const disks: DiskMetrics[] = [];
      results.forEach((r, i) => {
        const m = list[i]!;
        if (r.status === 'rejected') {
          // Unmounted since the list was read (USB stick pulled): re-read the list next time.
          mounts = undefined;
          ctx.log.debug({ mount: m.mount, err: String(r.reason) }, 'statfs failed; mount list will be refreshed');
          return;
        }
        const { totalBytes, freeBytes, availableBytes } = r.value;
        if (totalBytes <= 0) return;
        const used = Math.max(0, totalBytes - freeBytes);
        const free = Math.max(0, Math.min(totalBytes, availableBytes));
        // Like df: used over (used + available), so the root-reserved blocks count as
        // unusable and a disk shows 100% when ordinary users cannot write any more.
        const usedPct = used + free > 0 ? (100 * used) / (used + free) : 0;
        disks.push({ mount: m.mount, fs: m.fsType.slice(0, MAX_STRING), total: totalBytes, used, free, usedPct });
      });
      return disks;
    },
  };
}

/** Drops excluded filesystem types, over-long paths and second mounts of one device (bind mounts, btrfs subvolumes). */
export function reportableMounts(all: readonly MountEntry[], excludedTypes: ReadonlySet<string>): MountEntry[] {
  const seenDevices = new Set<string>();
  const kept: MountEntry[] = [];
  for (const m of all) {
    if (excludedTypes.has(m.fsType) || m.mount.length === 0 || m.mount.length > MAX_STRING) continue;
    if (seenDevices.has(m.device)) continue;
    seenDevices.add(m.device);
    kept.push(m);
    if (kept.length >= MAX_DISKS) break;
  }
  return kept;
}
