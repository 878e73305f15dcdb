/**
 * Clock-skew watch (issue 13 item 4): old office PCs lose their clock after a power cut (a
 * flat CMOS battery), so their times can be hours or years off. Ingest corrects every stored
 * time message by message (contract/decode.ts `correctSkew`); this module decides when the
 * officer is told: ONE `clock_skew` host event on entering skew, again when the skew changes
 * a lot, and once more when the clock is right again. Never one per message.
 *
 * Pure: a function of (state, observation, rules). Ingest holds the state per host and
 * persists the flagged skew in the store (hosts.clock_skew_ms), so a collector restart does
 * not raise the same skew again.
 */

/** Type of the collector-originated host event in the `events` table. */
export const CLOCK_SKEW_EVENT_TYPE = 'clock_skew';

/**
 * The agent boots are `[A-Za-z0-9_-]` (contract/schemas.ts Envelope.boot): a `:` never occurs
 * there, so the collector's own host events (boot `collector:<run id>`) never collide with an
 * agent's record under the events table's (site, host, boot, seq) dedup key.
 */
export const COLLECTOR_EVENT_BOOT_PREFIX = 'collector:';

export interface SkewRules {
  /** Beyond this |skew| (ms) a clock is wrong (config `ingest.skewToleranceSeconds`). */
  toleranceMs: number;
  /** A flagged skew that moves by more than this (ms) is raised again. */
  changeMs: number;
  /**
   * Consecutive observations needed to enter, change or leave skew: one message delayed in
   * transit (received − sent grows with the delay) must not raise an event on its own.
   */
  confirm: number;
}

/** Default rules for a tolerance: a change of more than the tolerance itself is "a lot". */
export function skewRules(toleranceMs: number, confirm = 2): SkewRules {
  return { toleranceMs, changeMs: toleranceMs, confirm };
}

export interface SkewState {
  /** The skew the officer was told about (ms, receive − send), or null when the clock is right. */
  flaggedMs: number | null;
  /** Since when (collector time) the flagged skew holds; null when not flagged. */
  since: number | null;
  /** A change not yet confirmed: the candidate skew (null: back to normal) and how often it was seen. */
  candidate?: { skewMs: number | null; count: number } | undefined;
}

export type SkewChange = 'entered' | 'changed' | 'resolved';

export interface SkewDecision {
  state: SkewState;
  /** Set when a `clock_skew` event is due. */
  raise?: { change: SkewChange; skewMs: number; previousMs: number | null } | undefined;
}

export const NO_SKEW: SkewState = { flaggedMs: null, since: null };

/**
 * One observation of a host's clock: `observedMs` = receive time − the message's send time.
 * Transit delay only adds to it, so it is checked against the tolerance as is.
 */
export function observeSkew(state: SkewState, observedMs: number, now: number, rules: SkewRules): SkewDecision {
  const off = Math.abs(observedMs) > rules.toleranceMs;
  // What this observation proposes: no change, or a new flagged value (null = normal).
  let proposal: number | null | undefined;
  if (state.flaggedMs === null) proposal = off ? observedMs : undefined;
  else if (!off) proposal = null;
  else proposal = Math.abs(observedMs - state.flaggedMs) > rules.changeMs ? observedMs : undefined;

  if (proposal === undefined) return { state: state.candidate ? { flaggedMs: state.flaggedMs, since: state.since } : state };

  const c = state.candidate;
  const same = c !== undefined && (proposal === null ? c.skewMs === null : c.skewMs !== null && Math.abs(c.skewMs - proposal) <= rules.changeMs);
  const count = same ? c.count + 1 : 1;
  if (count < rules.confirm) return { state: { flaggedMs: state.flaggedMs, since: state.since, candidate: { skewMs: proposal, count } } };

  const previousMs = state.flaggedMs;
  if (proposal === null) return { state: { flaggedMs: null, since: null }, raise: { change: 'resolved', skewMs: observedMs, previousMs } };
  return {
    state: { flaggedMs: proposal, since: now },
    raise: { change: previousMs === null ? 'entered' : 'changed', skewMs: proposal, previousMs },
  };
}

/** Human duration of a skew, in Vietnamese (the officer's language), e.g. "3 giờ 0 phút", "2 phút 5 giây". */
export function skewText(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} ngày ${h} giờ`;
  if (h > 0) return `${h} giờ ${m} phút`;
  return `${m} phút ${s % 60} giây`;
}

/** The event's message: short, Vietnamese, says which way the clock is off and that the times were corrected. */
export function skewMessage(change: SkewChange, skewMs: number, previousMs: number | null): string {
  if (change === 'resolved') return `Đồng hồ máy đã đúng lại (trước đó lệch ${skewText(previousMs ?? 0)})`;
  // skew = receive − send: positive means the PC's clock is behind.
  const way = skewMs > 0 ? 'chậm' : 'nhanh';
  return `Đồng hồ máy ${way} ${skewText(skewMs)} so với máy chủ; thời gian đã được hiệu chỉnh`;
}
