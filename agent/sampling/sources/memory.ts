import { readOrUnavailable, type MetricSource, type SourceContext } from './source.js';

/** Physical memory and swap. `used` is total − available, so page cache counts as free. */
export function createMemorySource(ctx: SourceContext): MetricSource<'mem'> {
  return {
    name: 'mem',
    async collect() {
      const m = await readOrUnavailable('memory unreadable', () => ctx.sys.memory());
      const available = Math.min(m.total, Math.max(0, m.available));
      return {
        total: m.total,
        used: m.total - available,
        available,
        swapTotal: m.swapTotal,
        swapUsed: Math.min(m.swapTotal, Math.max(0, m.swapUsed)),
      };
    },
  };
}
