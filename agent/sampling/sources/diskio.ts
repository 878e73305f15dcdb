import { MAX_DISKS } from '../../../contract/limits.js';
import { diskIoRates, type DiskIoCounters } from '../../platform/disk-pressure-parsers.js';
import { readOrUnavailable, SourceUnavailableError, type MetricSource, type SourceContext } from './source.js';

/**
 * Busy % and average queue per physical disk over the interval (issue 17): on Linux from the
 * change in /proc/diskstats between two samples (the first reading is taken in `init()`), on
 * Windows from the PhysicalDisk performance counters. One /proc read per sample.
 */
export function createDiskIoSource(ctx: SourceContext): MetricSource<'diskio'> {
  const { sys, clock } = ctx;
  let previous: { at: number; counters: DiskIoCounters[] } | undefined;

  async function readCounters(): Promise<DiskIoCounters[]> {
    if (!sys.diskIoCounters) throw new SourceUnavailableError('disk activity counters not available on this OS');
    return readOrUnavailable('/proc/diskstats unreadable', () => sys.diskIoCounters!());
  }

  return {
    name: 'diskio',
    async init() {
      if (sys.diskIoCounters) previous = { at: clock.monotonic(), counters: await readCounters() };
    },
    async collect() {
      if (sys.windowsPerf) {
        const perf = await readOrUnavailable('disk performance counters unreadable', () => sys.windowsPerf!());
        return perf.disks.slice(0, MAX_DISKS);
      }
      const counters = await readCounters();
      const at = clock.monotonic();
      const rates = previous ? diskIoRates(previous.counters, counters, at - previous.at) : [];
      previous = { at, counters };
      return rates.slice(0, MAX_DISKS);
    },
  };
}
