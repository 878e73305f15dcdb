import { describe, expect, it } from 'vitest';
import { isWorkingTime, localTime, localTimeByIntl, WorkingHoursSchema } from '../../../../../collector/sites/schedule/working-hours.js';

/** Local time in Asia/Ho_Chi_Minh (UTC+7, no DST) → epoch ms. */
const ict = (iso: string) => Date.parse(`${iso}+07:00`);

describe('working-hours schedules used by alert rules', () => {
  const standard = WorkingHoursSchema.parse({});

  it('default Mon–Fri 07:30–11:30 and 13:30–17:00 Asia/Ho_Chi_Minh, edges included/excluded', () => {
    // 2026-11-23 is a Monday.
    expect(isWorkingTime(standard, ict('2026-11-23T07:29:59'))).toBe(false);
    expect(isWorkingTime(standard, ict('2026-11-23T07:30:00'))).toBe(true);
    expect(isWorkingTime(standard, ict('2026-11-23T11:29:00'))).toBe(true);
    expect(isWorkingTime(standard, ict('2026-11-23T11:30:00'))).toBe(false); // lunch
    expect(isWorkingTime(standard, ict('2026-11-23T13:30:00'))).toBe(true);
    expect(isWorkingTime(standard, ict('2026-11-23T17:00:00'))).toBe(false);
    // 09:00 in Hanoi is 02:00 UTC: the zone, not the machine's, decides.
    expect(isWorkingTime(standard, Date.UTC(2026, 10, 23, 2, 0))).toBe(true);
    expect(isWorkingTime(standard, Date.UTC(2026, 10, 23, 9, 0))).toBe(true); // 16:00 ICT
    expect(isWorkingTime(standard, Date.UTC(2026, 10, 23, 11, 0))).toBe(false); // 18:00 ICT
  });

  it('weekends: closed, unless Saturday morning is on', () => {
    expect(isWorkingTime(standard, ict('2026-11-28T09:00:00'))).toBe(false); // Saturday
    expect(isWorkingTime(standard, ict('2026-11-29T09:00:00'))).toBe(false); // Sunday
    const sat = WorkingHoursSchema.parse({ saturdayMorning: true });
    expect(isWorkingTime(sat, ict('2026-11-28T09:00:00'))).toBe(true);
    expect(isWorkingTime(sat, ict('2026-11-28T14:00:00'))).toBe(false);
    expect(isWorkingTime(sat, ict('2026-11-29T09:00:00'))).toBe(false);
  });

  it('holidays close the day; a make-up working day opens a weekend day', () => {
    const wh = WorkingHoursSchema.parse({ holidays: ['2026-09-02'], extraWorkingDays: ['2026-11-28'] });
    expect(isWorkingTime(wh, ict('2026-09-02T09:00:00'))).toBe(false); // Wednesday, National Day
    expect(isWorkingTime(wh, ict('2026-09-03T09:00:00'))).toBe(true);
    expect(isWorkingTime(wh, ict('2026-11-28T09:00:00'))).toBe(true); // Saturday made a working day
  });

  it('a schedule across midnight (night shift split at 24:00) holds on both sides of midnight', () => {
    const night = WorkingHoursSchema.parse({
      days: { '1': [['22:00', '24:00']], '2': [['00:00', '06:00']] },
    });
    expect(isWorkingTime(night, ict('2026-11-23T21:59:00'))).toBe(false);
    expect(isWorkingTime(night, ict('2026-11-23T23:59:59'))).toBe(true);
    expect(isWorkingTime(night, ict('2026-11-24T00:00:00'))).toBe(true);
    expect(isWorkingTime(night, ict('2026-11-24T05:59:00'))).toBe(true);
    expect(isWorkingTime(night, ict('2026-11-24T06:00:00'))).toBe(false);
    // A single span crossing midnight is refused with a clear message.
    const bad = WorkingHoursSchema.safeParse({ days: { '1': [['22:00', '06:00']] } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toMatch(/split a span that crosses midnight/);
  });
});

describe('localTime fast path (offset per quarter hour) agrees with Intl', () => {
  it('on every quarter hour boundary ±1 ms and random instants through 2026, in zones with and without DST, odd offsets included', () => {
    const zones = ['Asia/Ho_Chi_Minh', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns', 'UTC'];
    const start = Date.UTC(2026, 0, 1);
    const end = Date.UTC(2027, 0, 1);
    let rnd = 12345;
    const next = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let checked = 0;
    for (const tz of zones) {
      // DST changes of 2026 (several zones' dates) and their neighbourhood, every 5 min for a day around each.
      const instants: number[] = [];
      for (let i = 0; i < 1000; i++) instants.push(start + Math.floor(next() * (end - start)));
      for (const change of [
        Date.UTC(2026, 2, 8, 7),
        Date.UTC(2026, 2, 29, 1),
        Date.UTC(2026, 3, 4, 15),
        Date.UTC(2026, 9, 3, 16),
        Date.UTC(2026, 9, 25, 1),
        Date.UTC(2026, 10, 1, 6),
      ]) {
        for (let m = -720; m <= 720; m += 5) instants.push(change + m * 60_000, change + m * 60_000 - 1);
      }
      for (const t of instants) {
        expect(localTime(t, tz)).toEqual(localTimeByIntl(t, tz));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(25_000);
  });
});

describe('isWorkingTime per quarter hour (cached spans) agrees with the calendar by Intl', () => {
  it('every 7 min 13 s over two weeks across a DST change, holidays and make-up days, in zones with and without DST', () => {
    for (const timezone of ['Asia/Ho_Chi_Minh', 'Europe/Paris', 'America/St_Johns', 'Asia/Kathmandu']) {
      // Spans that do not start or end on a quarter hour (the cache is per quarter hour).
      const odd: Array<[string, string]> = [
        ['07:40', '11:20'],
        ['13:10', '16:53'],
      ];
      const wh = WorkingHoursSchema.parse({
        timezone,
        days: { '1': odd, '2': odd, '3': odd, '4': odd, '5': odd },
        saturdayMorning: true,
        holidays: ['2026-03-30'],
        extraWorkingDays: ['2026-04-05'],
      });
      // Europe/Paris goes to summer time on 2026-03-29 at 01:00 UTC.
      let checked = 0;
      let working = 0;
      for (let t = Date.UTC(2026, 2, 22); t < Date.UTC(2026, 3, 6); t += 433_000) {
        const lt = localTimeByIntl(t, timezone);
        const day = wh.days[String(lt.weekday) as keyof typeof wh.days] ?? [];
        const spans = wh.holidays.includes(lt.date)
          ? []
          : day.length > 0
            ? day
            : lt.weekday === 6
              ? [['07:30', '11:30']]
              : wh.extraWorkingDays.includes(lt.date)
                ? wh.days['1']!
                : [];
        const min = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
        const expected = spans.some(([a, b]) => lt.minutes >= min(a!) && lt.minutes < min(b!));
        expect(isWorkingTime(wh, t), `${timezone} ${new Date(t).toISOString()}`).toBe(expected);
        checked++;
        if (expected) working++;
      }
      expect(checked).toBeGreaterThan(2700);
      expect(working).toBeGreaterThan(300); // both answers were exercised
    }
  });
});
