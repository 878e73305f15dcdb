import { readOrUnavailable, SourceUnavailableError, type MetricSource, type SourceContext } from './source.js';

/**
 * Battery/UPS state (issue 3): `source` ac | battery (= mains power lost) | unknown (the PC
 * reports no power supply: most desktops without a UPS link), charge % and minutes left.
 * Transitions become `power_source` events (power-source-watch.ts).
 */
export function createPowerSource(ctx: SourceContext): MetricSource<'power'> {
  return {
    name: 'power',
    async collect() {
      const read = ctx.sys.powerSupply;
      if (!read) throw new SourceUnavailableError('power supply not readable on this platform');
      return readOrUnavailable('power supply unreadable', () => read.call(ctx.sys));
    },
  };
}
