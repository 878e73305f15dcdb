import { z } from 'zod';

/**
 * Working hours of a service centre (DESIGN "Users and their situation"): Mon–Fri
 * 07:30–11:30 and 13:30–17:00, Asia/Ho_Chi_Minh, optional Saturday morning, holidays.
 * Pure functions of (schedule, time): alert schedules, peak-hour baselines and the monthly
 * report's "working time" all use this one definition.
 */

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00-24:00)');
const Span = z.tuple([hhmm, hhmm]).refine(([a, b]) => toMinutes(a) < toMinutes(b), 'start must be before end (split a span that crosses midnight in two)');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const WorkingHoursSchema = z
  .object({
    /** IANA zone; Vietnam has no DST. */
    timezone: z
      .string()
      .default('Asia/Ho_Chi_Minh')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown time zone'),
    /** Spans per weekday, Monday = 1 … Sunday = 7 (ISO). Missing day = closed. */
    days: z.partialRecord(z.enum(['1', '2', '3', '4', '5', '6', '7']), z.array(Span).max(8)).default({
      '1': [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ],
      '2': [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ],
      '3': [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ],
      '4': [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ],
      '5': [
        ['07:30', '11:30'],
        ['13:30', '17:00'],
      ],
    }),
    /** Convenience: open Saturday 07:30–11:30 (some centres). */
    saturdayMorning: z.boolean().default(false),
    /** Public holidays (closed all day), local dates. */
    holidays: z.array(isoDate).max(1000).default([]),
    /** Extra working days (make-up days, e.g. a Saturday swapped for a holiday bridge). */
    extraWorkingDays: z.array(isoDate).max(1000).default([]),
  })
  .prefault({});
export type WorkingHours = z.output<typeof WorkingHoursSchema>;

export function toMinutes(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return h! * 60 + m!;
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = fmtCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      weekday: 'short',
    });
    fmtCache.set(tz, f);
  }
  return f;
}

const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Local calendar parts of `t` in `tz`. */
export interface LocalTime {
  date: string;
  year: number;
  month: number;
  day: number;
  /** ISO weekday, Monday = 1. */
  weekday: number;
  /** Minutes since local midnight (with fraction). */
  minutes: number;
  /** Offset of local time from UTC at `t`, ms. */
  offsetMs: number;
}

/** Local calendar parts of `t` in `tz`, through Intl (slow: ~10 µs; see localTime). */
function localTimeIntl(t: number, tz: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(t))) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const h = Number(parts.hour);
  const mi = Number(parts.minute);
  const s = Number(parts.second);
  const msInSecond = ((t % 1000) + 1000) % 1000;
  const asUtc = Date.UTC(year, month - 1, day, h, mi, s) + msInSecond;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    year,
    month,
    day,
    weekday: WEEKDAY[parts.weekday!]!,
    minutes: h * 60 + mi + (s + msInSecond / 1000) / 60,
    offsetMs: asUtc - t,
  };
}

/**
 * UTC offsets per (zone, quarter hour). Every zone offset and every change of offset falls
 * on a multiple of 15 minutes, so within one UTC quarter hour the offset is constant and
 * the calendar follows by arithmetic. Called for every stored sample (baseline learning
 * outside working hours): Intl per call cost ~4 % of the collector's CPU at 20,000/s.
 * Bounded: cleared when it holds more than OFFSET_CACHE_MAX entries.
 */
const QUARTER_MS = 15 * 60_000;
const OFFSET_CACHE_MAX = 4096;
const offsetCache = new Map<string, number>();

export function localTime(t: number, tz: string): LocalTime {
  const quarter = Math.floor(t / QUARTER_MS);
  const key = `${tz}|${quarter}`;
  let offsetMs = offsetCache.get(key);
  if (offsetMs === undefined) {
    offsetMs = localTimeIntl(quarter * QUARTER_MS, tz).offsetMs;
    if (offsetCache.size >= OFFSET_CACHE_MAX) offsetCache.clear();
    offsetCache.set(key, offsetMs);
  }
  const d = new Date(t + offsetMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  return {
    date: `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`,
    year,
    month,
    day,
    weekday: d.getUTCDay() || 7,
    minutes: d.getUTCHours() * 60 + d.getUTCMinutes() + (d.getUTCSeconds() + d.getUTCMilliseconds() / 1000) / 60,
    offsetMs,
  };
}

/** Exported for the test that compares the fast path with Intl over DST changes. */
export const localTimeByIntl = localTimeIntl;

/** Epoch ms of local midnight starting the local day that contains `t`. */
export function localMidnight(t: number, tz: string): number {
  const lt = localTime(t, tz);
  return t - lt.minutes * 60_000;
}

/** Working spans (minutes from local midnight) of a local date, holidays applied. */
export function spansOf(wh: WorkingHours, date: string, weekday: number): Array<[number, number]> {
  if (wh.holidays.includes(date)) return [];
  let spans = (wh.days[String(weekday) as keyof typeof wh.days] ?? []).map(([a, b]) => [toMinutes(a), toMinutes(b)] as [number, number]);
  if (weekday === 6 && wh.saturdayMorning && spans.length === 0) spans = [[toMinutes('07:30'), toMinutes('11:30')]];
  if (spans.length === 0 && wh.extraWorkingDays.includes(date)) {
    spans = (wh.days['1'] ?? []).map(([a, b]) => [toMinutes(a), toMinutes(b)] as [number, number]);
  }
  return spans;
}

/**
 * Per schedule and UTC quarter hour: the local minutes at the quarter's start and that local
 * day's working spans. Within a quarter hour the offset, and so the local date, is constant
 * (see {@link localTime}): `isWorkingTime` is then arithmetic. It runs for every stored
 * sample (baseline learning outside working hours), where the date string, the span
 * parsing and the holiday lookup were ~4 % of the collector's loop at saturation. A
 * schedule is the config's object (never changed while running); bounded per schedule.
 */
const SPAN_CACHE_MAX = 64;
const spanCache = new WeakMap<WorkingHours, Map<number, { minutes0: number; spans: Array<[number, number]> }>>();

/** Is `t` inside working hours? */
export function isWorkingTime(wh: WorkingHours, t: number): boolean {
  const quarter = Math.floor(t / QUARTER_MS);
  let bySchedule = spanCache.get(wh);
  if (!bySchedule) spanCache.set(wh, (bySchedule = new Map()));
  let q = bySchedule.get(quarter);
  if (!q) {
    const lt = localTime(quarter * QUARTER_MS, wh.timezone);
    q = { minutes0: lt.minutes, spans: spansOf(wh, lt.date, lt.weekday) };
    if (bySchedule.size >= SPAN_CACHE_MAX) bySchedule.clear();
    bySchedule.set(quarter, q);
  }
  const minutes = q.minutes0 + (t - quarter * QUARTER_MS) / 60_000;
  for (const [a, b] of q.spans) if (minutes >= a && minutes < b) return true;
  return false;
}

/** Working intervals [start, end) in epoch ms overlapping [from, to), clipped to it, in order. */
export function workingIntervals(wh: WorkingHours, from: number, to: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (to <= from) return out;
  // Walk local days; noon avoids any ambiguity at midnight.
  let midnight = localMidnight(from, wh.timezone);
  while (midnight < to) {
    const lt = localTime(midnight + 12 * 3600_000, wh.timezone);
    const dayStart = midnight;
    for (const [a, b] of spansOf(wh, lt.date, lt.weekday)) {
      const s = Math.max(from, dayStart + a * 60_000);
      const e = Math.min(to, dayStart + b * 60_000);
      if (e > s) out.push([s, e]);
    }
    // Next local midnight (36 h ahead, then back to that day's midnight: robust to DST zones).
    midnight = localMidnight(midnight + 36 * 3600_000, wh.timezone);
  }
  return out;
}

/** Total working time in [from, to), ms. */
export function workingMs(wh: WorkingHours, from: number, to: number): number {
  return workingIntervals(wh, from, to).reduce((sum, [s, e]) => sum + (e - s), 0);
}

/** Start of the next working span at or after `t`, or null if none within `horizonDays`. */
export function nextWorkingStart(wh: WorkingHours, t: number, horizonDays = 60): number | null {
  const iv = workingIntervals(wh, t, t + horizonDays * 86_400_000);
  return iv.length ? iv[0]![0] : null;
}
