import { MAX_PING_TARGETS, MAX_STRING } from '../../../contract/limits.js';
import type { PingResult } from '../../../contract/schemas.js';
import { isMissingError, type PingReading } from '../../platform/system-info.js';
import { SourceUnavailableError, STATIC_REFRESH_MS, type MetricSource, type SourceContext } from './source.js';

export const PING_MISSING_REASON = 'ping binary not found (install iputils-ping)';

interface PingTarget {
  target: string;
  role: PingResult['role'];
}

/**
 * Loss and round-trip times to the default gateway (found automatically, re-looked-up at
 * most every {@link STATIC_REFRESH_MS}) and to the configured targets, all pinged at once.
 * The registry leaves this source out when `ping.enabled` is false.
 */
export function createPingSource(ctx: SourceContext): MetricSource<'ping'> {
  const { sys, clock, log } = ctx;
  const { gateway: pingGateway, targets: configured, count, timeoutSeconds } = ctx.config.ping;
  let gateway: string | null = null;
  let gatewayCheckedAt: number | undefined;

  async function currentGateway(): Promise<string | null> {
    if (!pingGateway) return null;
    if (gatewayCheckedAt === undefined || clock.monotonic() - gatewayCheckedAt >= STATIC_REFRESH_MS) {
      gatewayCheckedAt = clock.monotonic();
      try {
        gateway = await sys.defaultGateway();
      } catch (err) {
        // No gateway is a finding (the LAN is down), not a broken source: keep pinging the rest.
        log.debug({ err: String(err) }, 'default gateway lookup failed');
        gateway = null;
      }
    }
    return gateway;
  }

  return {
    name: 'ping',
    async init() {
      await currentGateway();
    },
    async collect() {
      const gw = await currentGateway();
      const targets: PingTarget[] = [...(gw ? [{ target: gw, role: 'gateway' as const }] : []), ...configured.map((target) => ({ target, role: 'configured' as const }))].slice(
        0,
        MAX_PING_TARGETS,
      );
      const runs = await Promise.allSettled(targets.map((t) => sys.ping(t.target, count, timeoutSeconds)));

      const results: PingResult[] = [];
      const failures: unknown[] = [];
      runs.forEach((run, i) => {
        const t = targets[i]!;
        // sent 0: a pinger that just started has no probes to report yet.
        if (run.status === 'fulfilled') {
          if (run.value.sent > 0) results.push(summarizePing(t, run.value));
        } else failures.push(run.reason);
      });
      if (failures.some(isMissingError)) throw new SourceUnavailableError(PING_MISSING_REASON);
      if (failures.length > 0) {
        // One odd target must not hide the others; if every target failed the sampler reports why.
        if (results.length === 0) throw failures[0];
        log.warn({ failed: failures.length, err: String(failures[0]) }, 'some ping targets could not be probed');
      }
      return results;
    },
  };
}

/** Loss % and RTT median / p95 (nearest rank) / max; RTTs are null when every probe was lost. */
export function summarizePing({ target, role }: PingTarget, reading: PingReading): PingResult {
  const sent = Math.max(1, reading.sent);
  const sorted = [...reading.times].sort((a, b) => a - b);
  const received = Math.min(sent, sorted.length);
  return {
    target: target.slice(0, MAX_STRING),
    role,
    sent,
    lossPct: (100 * (sent - received)) / sent,
    rttMedian: median(sorted),
    rttP95: nearestRank(sorted, 95),
    rttMax: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
  };
}

function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The smallest value with at least `p`% of the values at or below it. */
function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}
