/**
 * The board's chart data shaping (collector/board/series.js), run as the browser runs it
 * (the module as a plain script in a fresh context): series alignment, site-wide combination per
 * bucket, and working hours shaded in the site's time zone with holidays, make-up days
 * and Saturday mornings (the rules of collector/sites/schedule/working-hours.ts).
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BOARD_DIR } from '../../../../collector/http/board-assets.js';
import { WorkingHoursSchema } from '../../../../collector/sites/schedule/working-hours.js';

type Points = Array<[number, number | null, number?, number?]>;
interface Series {
  align(list: Array<{ points: Points; scale?: number }>): Array<Array<number | null>>;
  combine(
    series: Array<{ host: string; key: string; points: Points }>,
    bucketMs: number,
    how: 'avg' | 'sum',
    byKey: boolean,
  ): Array<{ key: string; points: Array<[number, number]> }>;
  countPoints(data: Array<Array<number | null>>): number;
  workingSpans(wh: unknown, from: number, to: number): Array<[number, number]>;
  outsideWorkingHours(wh: unknown, spans: Array<[number, number]>, start: number, end: number): boolean;
  outageCauseKey(o: { cause: string; end: number | null; evidence?: Record<string, unknown> }): string;
}

function load(): Series {
  // The module as the bundle has it, run as a plain script in a fresh context.
  const module = { exports: {} as Series };
  runInNewContext(transformSync(readFileSync(`${BOARD_DIR}series.js`, 'utf8'), { format: 'cjs', loader: 'js' }).code, {
    module,
    exports: module.exports,
    Intl,
    Date,
    Object,
    Number,
    Math,
    String,
  });
  return module.exports;
}
const S = load();
const H = 3_600_000;
const utc = (iso: string) => Date.parse(iso);

describe('align', () => {
  it('puts every series on the union of timestamps (seconds), null where one has no point', () => {
    const data = S.align([
      {
        points: [
          [1000, 1],
          [3000, 3],
        ],
      },
      {
        points: [
          [2000, 20],
          [3000, 30],
        ],
        scale: 2,
      },
    ]);
    expect(JSON.parse(JSON.stringify(data))).toEqual([
      [1, 2, 3],
      [1, null, 3],
      [null, 40, 60],
    ]);
    expect(S.countPoints(data)).toBe(4);
  });
});

describe('combine', () => {
  const series = [
    {
      host: 'pc-01',
      key: '8.8.8.8',
      points: [
        [0, 10],
        [30_000, 20],
        [60_000, 30],
      ] as Points,
    },
    { host: 'pc-02', key: '8.8.8.8', points: [[10_000, 40]] as Points },
    { host: 'pc-01', key: 'gw', points: [[0, 1]] as Points },
  ];
  it('averages the hosts per bucket and key (each host averaged first)', () => {
    const out = S.combine(series, 60_000, 'avg', true);
    expect(out.map((s) => s.key)).toEqual(['8.8.8.8', 'gw']);
    expect(out[0]!.points).toEqual([
      [0, (15 + 40) / 2],
      [60_000, 30],
    ]);
  });
  it('sums the hosts per bucket for line usage, over every key', () => {
    const out = S.combine(series, 60_000, 'sum', false);
    expect(out).toHaveLength(1);
    expect(out[0]!.points).toEqual([
      [0, 15 + 40 + 1],
      [60_000, 30],
    ]);
  });
  it('skips null values (every probe lost)', () => {
    expect(S.combine([{ host: 'a', key: 'k', points: [[0, null]] }], 60_000, 'avg', true)).toEqual([{ key: 'k', points: [] }]);
  });
});

describe('workingSpans', () => {
  const wh = WorkingHoursSchema.parse({});
  it('shades 07:30–11:30 and 13:30–17:00 Vietnam time on a weekday (UTC+7)', () => {
    // Monday 2026-11-23, whole local day.
    const spans = S.workingSpans(wh, utc('2026-11-22T17:00:00Z'), utc('2026-11-23T17:00:00Z'));
    expect(spans).toEqual([
      [utc('2026-11-23T00:30:00Z'), utc('2026-11-23T04:30:00Z')],
      [utc('2026-11-23T06:30:00Z'), utc('2026-11-23T10:00:00Z')],
    ]);
  });
  it('leaves weekends and holidays unshaded; Saturday mornings and make-up days when configured', () => {
    const sat = [utc('2026-11-27T17:00:00Z'), utc('2026-11-28T17:00:00Z')] as const; // Saturday 28
    expect(S.workingSpans(wh, sat[0], sat[1])).toEqual([]);
    expect(S.workingSpans({ ...wh, saturdayMorning: true }, sat[0], sat[1])).toEqual([[utc('2026-11-28T00:30:00Z'), utc('2026-11-28T04:30:00Z')]]);
    expect(S.workingSpans({ ...wh, extraWorkingDays: ['2026-11-28'] }, sat[0], sat[1])).toHaveLength(2);
    expect(S.workingSpans({ ...wh, holidays: ['2026-11-23'] }, utc('2026-11-22T17:00:00Z'), utc('2026-11-23T17:00:00Z'))).toEqual([]);
  });
  it('clips spans to the range and follows another zone', () => {
    const spans = S.workingSpans(wh, utc('2026-11-23T02:00:00Z'), utc('2026-11-23T03:00:00Z'));
    expect(spans).toEqual([[utc('2026-11-23T02:00:00Z'), utc('2026-11-23T03:00:00Z')]]);
    const utcWh = { ...wh, timezone: 'UTC' };
    expect(S.workingSpans(utcWh, utc('2026-11-23T00:00:00Z'), utc('2026-11-23T12:00:00Z'))[0]).toEqual([utc('2026-11-23T07:30:00Z'), utc('2026-11-23T11:30:00Z')]);
    expect(S.workingSpans({ ...wh, timezone: 'Not/AZone' }, 0, H)).toEqual([]);
  });
});

describe('outsideWorkingHours (the site timeline: a PC out only off hours is shown without the alarm colour)', () => {
  const wh = WorkingHoursSchema.parse({});
  const from = utc('2026-11-22T17:00:00Z');
  const to = utc('2026-11-23T17:00:00Z'); // Monday 2026-11-23, Vietnam time
  const spans = S.workingSpans(wh, from, to);
  it('is true for an outage wholly at night or in the lunch break', () => {
    expect(S.outsideWorkingHours(wh, spans, utc('2026-11-22T20:00:00Z'), utc('2026-11-22T22:00:00Z'))).toBe(true);
    expect(S.outsideWorkingHours(wh, spans, utc('2026-11-23T04:40:00Z'), utc('2026-11-23T06:20:00Z'))).toBe(true);
  });
  it('is false when any part of it falls in working hours', () => {
    expect(S.outsideWorkingHours(wh, spans, utc('2026-11-22T23:00:00Z'), utc('2026-11-23T00:31:00Z'))).toBe(false);
    expect(S.outsideWorkingHours(wh, spans, utc('2026-11-23T03:00:00Z'), utc('2026-11-23T03:10:00Z'))).toBe(false);
  });
  it('is false without working hours configured (nothing is called off hours then)', () => {
    expect(S.outsideWorkingHours(undefined, [], utc('2026-11-22T20:00:00Z'), utc('2026-11-22T22:00:00Z'))).toBe(false);
  });
});

describe('outageCauseKey (a silence no Last Will confirmed is not shown as the PC offline)', () => {
  it('an open unconfirmed silence says the collector has not heard from the PC; anything else its cause', () => {
    expect(S.outageCauseKey({ cause: 'offline', end: null, evidence: { detectedBy: 'silence', unconfirmed: true } })).toBe('cause_unheard');
    expect(S.outageCauseKey({ cause: 'offline', end: null, evidence: { detectedBy: 'will' } })).toBe('cause_offline');
    expect(S.outageCauseKey({ cause: 'network', end: 2000, evidence: { detectedBy: 'silence', unconfirmed: true } })).toBe('cause_network');
    expect(S.outageCauseKey({ cause: 'power_loss', end: 2000 })).toBe('cause_power_loss');
  });
});
