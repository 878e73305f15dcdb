/**
 * Port: the collector's own stalls (issue 12 item 5), as the outage correlator sees them.
 *
 * When the collector's event loop stops (a long synchronous job, a VM stall, SIGSTOP), the
 * agents' keepalives time out against its broker, the broker fires their Last Wills late,
 * and nothing is heard from anyone for the length of the pause. None of that is a host's
 * outage: it is the collector's own gap (DESIGN.md, "Delivery"). The correlator asks this
 * port before it takes a Last Will, a silence or an agent's broker-scope `network_cut` as
 * a drop. Implemented by collector/health/stall-watch.ts; {@link NO_STALLS} by default.
 * Times are collector wall-clock epoch ms, as everywhere in the correlator.
 */
export interface CollectorStalls {
  /**
   * True while the loop is (or just was) stalled and the stall is not recorded yet: after a
   * SIGSTOP, I/O callbacks (a Last Will) may run before the timer that notices the gap.
   */
  inStall(now: number): boolean;
  /** Whether [start, end] overlaps a recorded stall widened by `graceMs` on both sides. */
  overlaps(start: number, end: number, graceMs: number): boolean;
  /** Whether [start, end] lies entirely within one recorded stall widened by `graceMs`. */
  covers(start: number, end: number, graceMs: number): boolean;
  /** Milliseconds of recorded stalls inside [start, end]. */
  stalledMs(start: number, end: number): number;
  /**
   * True while the collector's ingest is saturated (its receive queue full: the broker holds
   * or drops the agents' messages for it, and they come again later). Not a stall: the loop
   * runs, Last Wills and events are heard; only a silence proves nothing then.
   */
  saturatedNow(now: number): boolean;
  /** Milliseconds of ingest saturation inside [start, end]. */
  saturatedMs(start: number, end: number): number;
}

/** The stall half of {@link CollectorStalls} (collector/health/stall-watch.ts). */
export type StallSource = Omit<CollectorStalls, 'saturatedNow' | 'saturatedMs'>;

/** The saturation half of {@link CollectorStalls} (collector/health/ingest-saturation.ts). */
export interface SaturationSource {
  saturatedNow(): boolean;
  saturatedMs(start: number, end: number): number;
}

/** Stalls and saturation together, as the correlator asks for them. */
export function collectorGaps(stalls: StallSource, saturation: SaturationSource): CollectorStalls {
  return {
    inStall: (now) => stalls.inStall(now),
    overlaps: (start, end, graceMs) => stalls.overlaps(start, end, graceMs),
    covers: (start, end, graceMs) => stalls.covers(start, end, graceMs),
    stalledMs: (start, end) => stalls.stalledMs(start, end),
    saturatedNow: () => saturation.saturatedNow(),
    saturatedMs: (start, end) => saturation.saturatedMs(start, end),
  };
}

/** A collector that never stalls (unit tests of the correlator, tools). */
export const NO_STALLS: CollectorStalls = {
  inStall: () => false,
  overlaps: () => false,
  covers: () => false,
  stalledMs: () => 0,
  saturatedNow: () => false,
  saturatedMs: () => 0,
};

/**
 * How long after a stall its effects still arrive: the broker fires a Last Will up to
 * 1.5 × keepalive after the last packet, the agent reconnects a few seconds after that.
 */
export function stallGraceMs(maxKeepaliveMs: number): number {
  return Math.ceil(maxKeepaliveMs * 1.5) + STALL_GRACE_EXTRA_MS;
}

/** "A few seconds" of reconnect backoff and group-commit delay on top of 1.5 × keepalive. */
export const STALL_GRACE_EXTRA_MS = 5000;
