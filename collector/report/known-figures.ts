import type { DayQuality, Headline, HourQuality, NetworkQuality, SiteReport } from './report-model.js';

/**
 * When a figure of the report is known, shared by every renderer ("true or unknown",
 * issue 13 item 6): a count of 0 (power cuts, congested minutes, freezes) read from a month,
 * day or PC without enough measurements is not a 0 but an unknown, and no month is compared
 * with a month that lacks data. A count above 0 is a recorded fact and is shown, with its
 * month's coverage beside it.
 */

/** A count as shown: null ("không đủ số liệu") for a 0 from too little data. */
export function knownCount(count: number, insufficientData: boolean): number | null {
  return insufficientData && count === 0 ? null : count;
}

/** Congestion is judged on packet loss and line usage: without either it is unknown. */
export function hourCongestionKnown(h: HourQuality): boolean {
  return h.lossPct !== null || h.usagePct !== null;
}

export function dayCongestionKnown(d: DayQuality): boolean {
  return d.coveredMinutes > 0 && (d.lossPct !== null || d.usagePct !== null);
}

/** The month's congested minutes are a figure when loss or usage was measured at all. */
export function monthCongestionKnown(n: NetworkQuality): boolean {
  return n.hours.some(hourCongestionKnown);
}

/** A month's congested minutes as shown (null: unknown). */
export function knownCongestion(h: Headline): number | null {
  return h.congestedMinutes === null ? null : knownCount(h.congestedMinutes, h.insufficientData);
}

/** Which side of a month-over-month comparison lacks data (null: comparable, or no previous month). */
export type ComparisonGap = 'this' | 'previous' | 'both' | null;

export function comparisonGap(r: SiteReport): ComparisonGap {
  if (!r.previous) return null;
  const cur = r.availability.insufficientData;
  const prev = r.previous.insufficientData;
  return cur && prev ? 'both' : cur ? 'this' : prev ? 'previous' : null;
}

/** A PC's own coverage is too low for its 0 freezes/crashes/saturated hours to be a claim. */
export function pcInsufficient(coveragePct: number | null, minCoveragePct: number): boolean {
  return coveragePct === null || coveragePct < minCoveragePct;
}
