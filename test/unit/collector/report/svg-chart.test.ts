/**
 * Issue 13 item 6: an empty chart says "không có số liệu" / "no data" instead of an axis
 * labelled "1 1 1 0 0"; tick labels never repeat, whatever the range.
 */
import { describe, expect, it } from 'vitest';
import { buildReport, type ReportSources } from '../../../../collector/report/report-builder.js';
import { reportDocument } from '../../../../collector/report/report-document.js';
import { fmtNum } from '../../../../collector/report/report-format.js';
import type { Lang } from '../../../../collector/report/report-model.js';
import { REPORT_RENDERERS } from '../../../../collector/report/report-renderers.js';
import { REPORT_TEXTS } from '../../../../collector/report/report-text.js';
import type { SiteMinute, SiteMinuteSource } from '../../../../collector/report/site-minutes.js';
import { axisTicks, barChart, niceScale, type BarChartSpec } from '../../../../collector/report/svg-chart.js';
import { SiteSettingsSchema, siteDirectory } from '../../../../collector/sites/site-settings.js';
import type { OutageReader } from '../../../../collector/outage/outage-types.js';
import type { HostState } from '../../../../collector/store/store.js';

const whole = (lang: Lang) => (v: number) => fmtNum(v, 0, lang);

function spec(values: Array<number | null>, lang: Lang = 'vi', extra: Partial<BarChartSpec> = {}): BarChartSpec {
  return {
    title: 'T',
    labels: values.map((_, i) => String(i + 1)),
    values,
    unit: REPORT_TEXTS[lang].charts.minutes,
    formatTick: whole(lang),
    minStep: 1,
    noData: REPORT_TEXTS[lang].charts.noData,
    ...extra,
  };
}

/** The y-axis labels of a rendered chart, bottom to top (they are the `text-anchor="end"` texts). */
const axisLabels = (svg: string) => [...svg.matchAll(/<text x="44" [^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('bar chart without data', () => {
  for (const [lang, words] of [
    ['vi', 'không có số liệu'],
    ['en', 'no data'],
  ] as const) {
    it(`says "${words}" (${lang}) with no axis, for all-null and for empty series`, () => {
      for (const values of [[null, null, null], [], [Number.NaN, null]]) {
        const svg = barChart(spec(values, lang));
        expect(svg).toContain(`>${words}</text>`);
        expect(svg).toContain('class="chart no-data"');
        expect(axisLabels(svg)).toEqual([]);
        // No tick labels or bars at all, only the title and the message.
        expect(svg.match(/<text /g)).toHaveLength(2);
      }
    });
  }

  it('real zeros are data: an axis 0–1, no "no data", labels not repeated', () => {
    const svg = barChart(spec([0, 0, 0, 0]));
    expect(svg).not.toContain(REPORT_TEXTS.vi.charts.noData);
    expect(svg).toContain('class="chart"');
    expect(axisLabels(svg)).toEqual(['0', '1']);
  });

  it('one measured value among gaps draws the axis and one bar', () => {
    const svg = barChart(spec([null, 7, null]));
    expect(svg).not.toContain('no-data');
    expect(svg.match(/<rect /g)).toHaveLength(1);
    expect(axisLabels(svg).at(-1)).toBe('8');
  });
});

describe('axis ticks', () => {
  const distinct = (xs: string[]) => new Set(xs).size === xs.length;

  it('never repeats a label, for tiny and ordinary ranges, with whole-number and 1-decimal labels', () => {
    const maxima = [0, 0.01, 0.2, 0.3, 0.5, 0.9, 1, 1.2, 2, 3, 4, 7, 9.5, 13, 99, 101, 361.02, 1500, 12_345];
    for (const lang of ['vi', 'en'] as const) {
      for (const [fmt, minStep] of [
        [whole(lang), 1],
        [whole(lang), 0], // a caller that forgot minStep: the safety net still holds
        [(v: number) => fmtNum(v, 1, lang), 0.1],
      ] as const) {
        for (const max of maxima) {
          const { top, ticks } = axisTicks(max, fmt, minStep);
          const labels = ticks.map((t) => t.label);
          expect(distinct(labels), `${lang} max=${max} minStep=${minStep}: ${labels.join(' ')}`).toBe(true);
          expect(top).toBeGreaterThanOrEqual(max);
          expect(ticks[0]!.v).toBe(0);
          expect(ticks.at(-1)!.v).toBe(top);
          expect(ticks.length).toBeGreaterThanOrEqual(2);
          expect(ticks.length).toBeLessThanOrEqual(6);
        }
      }
    }
  });

  it('labels say the value at their height (no 0,5 printed as 1)', () => {
    for (const max of [0.3, 1, 2, 3, 5, 9]) {
      const { ticks } = axisTicks(max, whole('vi'), 1);
      for (const t of ticks) expect(t.label).toBe(String(t.v));
    }
  });

  it('niceScale keeps the step no finer than minStep and on 1-2-5', () => {
    expect(niceScale(0, 4, 1)).toEqual({ top: 1, step: 1 });
    expect(niceScale(2, 4, 1)).toEqual({ top: 2, step: 1 });
    expect(niceScale(361.02, 4, 1)).toEqual({ top: 400, step: 100 });
    expect(niceScale(0.3, 4, 0.1)).toEqual({ top: 0.3, step: 0.1 });
    expect(niceScale(150, 4)).toEqual({ top: 150, step: 50 });
  });
});

describe('the report charts of an empty month', () => {
  const EMPTY: SiteMinute = { rxMbps: null, lossPct: null, latencyMs: null, portalsOk: null };
  const sources = (minute: (t: number) => SiteMinute): ReportSources => {
    const minutes: SiteMinuteSource = { siteMinutes: () => ({ at: minute, portals: ['dvc'] }), saturation: () => new Map(), coarse: () => false };
    return {
      store: { listHosts: () => [{ site: 'xa-a', host: 'pc-01', firstSeen: 0 } as HostState], events: () => [], inventory: () => undefined } as unknown as ReportSources['store'],
      history: { series: () => [] },
      outages: { incidents: () => [], hostOutages: () => [], openIncidents: () => [], incident: () => undefined, counts: () => [] } as unknown as OutageReader,
      sites: siteDirectory({}, SiteSettingsSchema.parse({ name: 'UBND xã A' })),
      siteMinutes: () => minutes,
    };
  };

  for (const lang of ['vi', 'en'] as const) {
    it(`every chart of a month without data says "${REPORT_TEXTS[lang].charts.noData}" (${lang})`, () => {
      const bundle = {
        ...buildReport(
          { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
          sources(() => EMPTY),
        ),
        lang,
      };
      const charts = reportDocument(bundle).filter((b) => b.kind === 'chart');
      expect(charts).toHaveLength(3);
      const html = REPORT_RENDERERS.html.render(bundle);
      expect(html.match(/<svg /g)).toHaveLength(3);
      expect(html.match(/class="chart no-data"/g)).toHaveLength(3);
      expect(html.split(`>${REPORT_TEXTS[lang].charts.noData}</text>`)).toHaveLength(4);
    });
  }

  it('a month with loss measured but no congestion draws the daily chart with zeros, gaps for days without data', () => {
    // Measured on working minutes of 2–6 November only (local dates), no congestion.
    const measured = (t: number) => {
      const day = new Date(t + 7 * 3600_000).getUTCDate();
      return day >= 2 && day <= 6 ? { ...EMPTY, lossPct: 0, portalsOk: true, latencyMs: 200 } : EMPTY;
    };
    const bundle = buildReport({ site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) }, sources(measured));
    const daily = reportDocument(bundle).find((b) => b.kind === 'chart' && b.chart.title === REPORT_TEXTS.vi.charts.daily);
    if (daily?.kind !== 'chart') throw new Error('no daily chart');
    expect(daily.chart.values.slice(0, 7)).toEqual([null, 0, 0, 0, 0, 0, null]);
    expect(daily.chart.values.filter((v) => v !== null)).toHaveLength(5);
    const svg = barChart(daily.chart);
    expect(svg).not.toContain('no-data');
    expect(axisLabels(svg)).toEqual(['0', '1']);
  });
});
