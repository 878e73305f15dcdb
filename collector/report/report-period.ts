import { localTime } from '../sites/schedule/working-hours.js';

/**
 * A report month in a site's local calendar (Asia/Ho_Chi_Minh by default): November 2026
 * is [2026-11-01 00:00 local, 2026-12-01 00:00 local), i.e. it starts at 17:00 UTC on
 * 31 October. Every figure of the report is taken over this half-open range.
 */
export interface ReportMonth {
  /** `YYYY-MM` */
  id: string;
  year: number;
  /** 1..12 */
  month: number;
}

export interface MonthRange {
  month: ReportMonth;
  timezone: string;
  from: number;
  to: number;
}

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Parse `YYYY-MM`; throws a clear error otherwise. */
export function parseMonth(s: string): ReportMonth {
  const m = MONTH_RE.exec(s);
  if (!m) throw new Error(`month must be YYYY-MM (e.g. 2026-11), got "${s}"`);
  const year = Number(m[1]);
  if (year < 2000 || year > 2099) throw new Error(`month out of range 2000-01..2099-12: "${s}"`);
  return { id: s, year, month: Number(m[2]) };
}

export function monthId(year: number, month: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
}

export function previousMonth(m: ReportMonth): ReportMonth {
  const year = m.month === 1 ? m.year - 1 : m.year;
  const month = m.month === 1 ? 12 : m.month - 1;
  return { id: monthId(year, month), year, month };
}

export function nextMonth(m: ReportMonth): ReportMonth {
  const year = m.month === 12 ? m.year + 1 : m.year;
  const month = m.month === 12 ? 1 : m.month + 1;
  return { id: monthId(year, month), year, month };
}

/** Epoch ms of local midnight starting the given local date in `tz`. */
export function localDateStart(year: number, month: number, day: number, tz: string): number {
  // Guess with UTC, then correct by the zone's offset at that instant (twice: robust to DST zones).
  let t = Date.UTC(year, month - 1, day);
  for (let i = 0; i < 2; i++) t = Date.UTC(year, month - 1, day) - localTime(t, tz).offsetMs;
  return t;
}

/** The month's [from, to) in epoch ms for a zone. */
export function monthRange(m: ReportMonth, timezone: string): MonthRange {
  const n = nextMonth(m);
  return { month: m, timezone, from: localDateStart(m.year, m.month, 1, timezone), to: localDateStart(n.year, n.month, 1, timezone) };
}

/** Number of days of the month. */
export function daysInMonth(m: ReportMonth): number {
  return new Date(Date.UTC(m.year, m.month, 0)).getUTCDate();
}
