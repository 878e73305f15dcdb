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
   * True while the collector cannot hear its agents although they may be talking: its ingest
   * is saturated (its receive queue full: the broker holds or drops the agents' messages for
   * it, and they come again later) or its link to the external broker is down. Not a stall:
   * the loop runs, and what does arrive (Last Wills, events) counts; only a silence proves
   * nothing then.
   */
  deafNow(now: number): boolean;
  /** Milliseconds of such deafness inside [start, end] (overlapping kinds may count twice: the safe side). */
  deafMs(start: number, end: number): number;
}

/** The stall half of {@link CollectorStalls} (collector/health/stall-watch.ts). */
export type StallSource = Omit<CollectorStalls, 'deafNow' | 'deafMs'>;

/** One kind of deafness: ingest saturation, the external broker link down (collector/health/deaf-episodes.ts). */
export interface DeafSource {
  activeNow(): boolean;
  msWithin(start: number, end: number): number;
}

/** Stalls and every kind of deafness together, as the correlator asks for them. */
export function collectorGaps(stalls: StallSource, ...deaf: DeafSource[]): CollectorStalls {
  return {
    inStall: (now) => stalls.inStall(now),
    overlaps: (start, end, graceMs) => stalls.overlaps(start, end, graceMs),
    covers: (start, end, graceMs) => stalls.covers(start, end, graceMs),
    stalledMs: (start, end) => stalls.stalledMs(start, end),
    deafNow: () => deaf.some((d) => d.activeNow()),
    deafMs: (start, end) => deaf.reduce((ms, d) => ms + d.msWithin(start, end), 0),
  };
}

/** A collector that never stalls (unit tests of the correlator, tools). */
export const NO_STALLS: CollectorStalls = {
  inStall: () => false,
  overlaps: () => false,
  covers: () => false,
  stalledMs: () => 0,
  deafNow: () => false,
  deafMs: () => 0,
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
