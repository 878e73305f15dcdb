import { MAX_INTERFACES, MAX_STRING } from '../../../contract/limits.js';
import type { NetMetrics } from '../../../contract/schemas.js';
import type { NetCounters } from '../../platform/system-info.js';
import { readOrUnavailable, type MetricSource, type SourceContext } from './source.js';

/**
 * Throughput per interface in bytes/s, from the change in byte counters between two
 * readings over the monotonic time between them; error and drop counters are passed on
 * cumulative (the collector differentiates them). Counters are primed in `init()`.
 */
export function createNetworkSource(ctx: SourceContext): MetricSource<'net'> {
  const { sys, clock } = ctx;
  const include = interfaceFilter(ctx.config.net.exclude);
  let previous: { at: number; byIface: Map<string, NetCounters> } | undefined;

  async function read(): Promise<{ at: number; counters: NetCounters[] }> {
    const counters = await readOrUnavailable('interface counters unreadable', () => sys.netCounters(include));
    return { at: clock.monotonic(), counters: counters.filter((c) => include(c.iface)) };
  }

  function remember(at: number, counters: NetCounters[]): void {
    previous = { at, byIface: new Map(counters.map((c) => [c.iface, c])) };
  }

  return {
    name: 'net',
    async init() {
      const { at, counters } = await read();
      remember(at, counters);
    },
    async collect() {
      const { at, counters } = await read();
      const seconds = previous ? (at - previous.at) / 1000 : 0;
      const metrics: NetMetrics[] = counters.slice(0, MAX_INTERFACES).map((c) => {
        const before = previous?.byIface.get(c.iface);
        return {
          iface: c.iface.slice(0, MAX_STRING),
          rxBps: bytesPerSecond(before?.rxBytes, c.rxBytes, seconds),
          txBps: bytesPerSecond(before?.txBytes, c.txBytes, seconds),
          rxErrors: c.rxErrors,
          txErrors: c.txErrors,
          rxDropped: c.rxDropped,
          txDropped: c.txDropped,
        };
      });
      remember(at, counters);
      return metrics;
    },
  };
}

/**
 * Rate between two counter readings; 0 without a previous reading, without elapsed time,
 * or when the counter went down (wrapped, or reset by a driver reload / interface restart),
 * since the true traffic in that interval is unknown.
 */
export function bytesPerSecond(before: number | undefined, after: number, seconds: number): number {
  if (before === undefined || seconds <= 0 || after < before) return 0;
  return (after - before) / seconds;
}

/** Config `net.exclude`: exact names, or prefixes written with a trailing `*`. */
export function interfaceFilter(patterns: readonly string[]): (iface: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (iface) => !exact.has(iface) && !prefixes.some((p) => iface.startsWith(p));
}
