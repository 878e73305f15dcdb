import { readOrUnavailable, type MetricSource, type SourceContext } from './source.js';

/** Estimates within this of the previous boot time are the same boot (jitter, not a reboot). */
const BOOT_JITTER_MS = 2000;

/**
 * OS uptime and boot time. Boot time is derived (now − uptime), so it jitters by the
 * time between the two reads; it is rounded to the second and kept while new estimates
 * agree with it, so the collector sees one stable value per OS boot.
 */
/** Boot time (epoch ms, to the second) from the wall clock and the OS uptime. */
export function bootTimeFrom(now: number, uptimeSeconds: number): number {
  return Math.round((now - uptimeSeconds * 1000) / 1000) * 1000;
}

export function createUptimeSource(ctx: SourceContext): MetricSource<'uptime'> {
  let bootTime: number | undefined;
  return {
    name: 'uptime',
    async collect() {
      const seconds = await readOrUnavailable('uptime unreadable', () => ctx.sys.uptimeSeconds());
      const now = ctx.clock.now();
      const estimate = now - seconds * 1000;
      if (bootTime === undefined || Math.abs(estimate - bootTime) > BOOT_JITTER_MS) {
        bootTime = bootTimeFrom(now, seconds);
      }
      return { seconds, bootTime };
    },
  };
}
