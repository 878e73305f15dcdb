import type { CpuTimes } from '../../platform/system-info.js';
import { readOrUnavailable, type MetricSource, type SourceContext } from './source.js';

/**
 * CPU busy % over the sampling interval, from the change in cumulative CPU time between
 * two readings (the first reading is taken in `init()`), plus load averages and core count.
 */
export function createCpuSource(ctx: SourceContext): MetricSource<'cpu'> {
  const { sys } = ctx;
  let previous: CpuTimes | undefined;
  let cores: number | undefined;

  const readTimes = () => readOrUnavailable('cpu times unreadable', () => sys.cpuTimes());
  // The core count does not change while the agent runs; read it once.
  const readCores = async () => (cores ??= await readOrUnavailable('cpu count unreadable', () => sys.cpuCount()));

  return {
    name: 'cpu',
    async init() {
      await readCores();
      previous = await readTimes();
    },
    async collect() {
      const current = await readTimes();
      const usage = previous ? busyPercent(previous, current) : 0;
      previous = current;
      const load = await sys.loadAverage();
      return { usage, load1: load?.[0] ?? null, load5: load?.[1] ?? null, load15: load?.[2] ?? null, cores: await readCores() };
    },
  };
}

/** Busy share of the time elapsed between two readings, 0..100; 0 when no time elapsed or counters went back. */
export function busyPercent(before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total;
  const busy = after.busy - before.busy;
  if (total <= 0 || busy < 0) return 0;
  return Math.min(100, (100 * busy) / total);
}
