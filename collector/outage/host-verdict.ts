import type { HostOutageCause } from './outage-types.js';
import type { HostVerdict, OpenOutage } from './outage-state.js';

/** A host outage's outcome once its evidence is in. */
export interface HostDecision {
  cause: HostOutageCause;
  verdict: HostVerdict;
  start: number;
  end: number;
  uncertaintyMs: number;
  evidence: Record<string, unknown>;
}

/** Share of the gap that buffered samples must cover for "it kept running: network". */
export const GAP_COVERAGE_FOR_NETWORK = 0.5;

const OUTAGE_EVENT_CAUSES: Record<string, HostOutageCause> = {
  power_loss: 'power_loss',
  crash: 'crash',
  hang_reset: 'hang_reset',
  unknown: 'unknown',
};

/** Share of the gap [start, return] covered by the buffered samples of the same boot. */
export function gapCoverage(o: OpenOutage): number {
  if (!o.returned) return 0;
  const gap = o.returned.at - o.start;
  if (gap <= o.intervalMs) return o.gapSamples > 0 ? 1 : 0;
  return Math.min(1, (o.gapSamples * o.intervalMs) / gap);
}

/**
 * Decide a returned host's outage from its evidence (pure). Returns undefined while the
 * evidence may still come (the settle period after the return), a decision otherwise:
 * - the new boot's `outage` event (unclean shutdown) → its cause, its start/end, verdict power;
 *   with `details.scope: 'agent'` (the agent died, the PC kept running) → crash, never power;
 * - same agent boot and buffered samples covering the gap → network (it kept running), unless
 *   it never left its broker session (heard again without a birth: then offline, unknown);
 * - a `freeze` event over the gap → freeze; a `network_cut` event → network;
 * - a new OS boot without an event (older agent) → unknown cause, verdict power;
 * - a new agent boot on the same OS boot → the agent crashed;
 * - nothing → offline (all we know is that it was unreachable).
 */
export function decideHostOutage(o: OpenOutage, now: number, settleMs: number): HostDecision | undefined {
  const r = o.returned;
  if (!r) return undefined;
  const settled = now - r.at >= settleMs;
  const coverage = gapCoverage(o);
  const base: Record<string, unknown> = {
    detectedBy: o.detectedBy,
    bootBefore: o.boot,
    bootAfter: r.boot,
    newAgentBoot: r.newAgentBoot,
    newOsBoot: r.newOsBoot,
    returnedAt: r.at,
  };
  if (Math.abs(r.skewMs) > 0) base.skewMs = r.skewMs;
  if (r.sameSession) base.sameSession = true;
  // Silent with no will until it reconnected: a drop seen only at its return.
  if (o.unconfirmed) base.unconfirmed = true;

  if (o.outageEvent?.scope === 'agent') {
    // The agent died (killed, crashed) while the PC kept running: never a power cut.
    const e = o.outageEvent;
    return {
      cause: 'crash',
      verdict: 'unknown',
      start: e.start ?? o.start,
      end: Math.max(e.start ?? o.start, e.end ?? r.at),
      uncertaintyMs: e.uncertaintyMs ?? o.uncertaintyMs,
      evidence: { ...base, event: 'outage', eventCause: e.cause, eventScope: 'agent' },
    };
  }
  if (o.outageEvent) {
    const e = o.outageEvent;
    const start = e.start ?? o.start;
    const end = e.end ?? r.osBoot ?? r.at;
    return {
      cause: OUTAGE_EVENT_CAUSES[e.cause] ?? 'unknown',
      verdict: 'power',
      start,
      end: Math.max(start, end),
      uncertaintyMs: e.uncertaintyMs ?? o.uncertaintyMs,
      evidence: { ...base, event: 'outage', eventCause: e.cause, eventScope: e.scope },
    };
  }
  if (!r.newAgentBoot) {
    if (o.freeze && o.freeze.end >= o.start && o.freeze.start <= r.at) {
      return {
        cause: 'freeze',
        verdict: 'unknown',
        start: Math.min(o.start, o.freeze.start),
        end: Math.max(o.freeze.end, o.start),
        uncertaintyMs: o.uncertaintyMs,
        evidence: { ...base, event: 'freeze', gapSamples: o.gapSamples },
      };
    }
    // Buffered samples say "it kept running", not "its network was cut", when it never left its
    // broker session (heard again without a birth): then only an agent's network_cut event says cut.
    const covered = coverage >= GAP_COVERAGE_FOR_NETWORK && !r.sameSession;
    if (o.networkCut || (covered && (o.caughtUp || settled))) {
      const n = o.networkCut;
      return {
        cause: 'network',
        verdict: 'network',
        start: n?.start ?? o.start,
        end: Math.max(n?.start ?? o.start, n?.end ?? r.at),
        uncertaintyMs: n?.start != null ? Math.min(o.uncertaintyMs, o.intervalMs) : o.uncertaintyMs,
        evidence: { ...base, gapSamples: o.gapSamples, coverage: round3(coverage), ...(n ? { event: 'network_cut', scope: n.scope } : {}) },
      };
    }
    if (!settled) return undefined;
    return {
      cause: 'offline',
      verdict: 'unknown',
      start: o.start,
      end: r.at,
      uncertaintyMs: o.uncertaintyMs,
      evidence: { ...base, gapSamples: o.gapSamples, coverage: round3(coverage) },
    };
  }
  if (!settled) return undefined;
  if (r.newOsBoot) {
    // An agent without outage events (or whose event is lost): the OS booted after the drop.
    const end = r.osBoot !== null ? Math.max(o.start, r.osBoot) : r.at;
    return { cause: 'unknown', verdict: 'power', start: o.start, end, uncertaintyMs: Math.max(o.uncertaintyMs, o.intervalMs), evidence: { ...base, osBootAfter: r.osBoot } };
  }
  return {
    cause: 'crash',
    verdict: 'unknown',
    start: o.start,
    end: r.at,
    uncertaintyMs: o.uncertaintyMs,
    evidence: { ...base, note: 'agent restarted on the same OS boot without an outage event' },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
