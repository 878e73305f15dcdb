/**
 * Issue 13 item 6, the printout: the HTML carries an A4 print stylesheet and a running head
 * (unit and month) in a repeated table header, with nothing the collector's CSP forbids;
 * a month without data claims no congestion figures; years read "2011", not "2.011".
 * (What Chromium makes of it: test/integration/report-print.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { buildReport, type ReportSources } from '../../../../collector/report/report-builder.js';
import { reportDocument } from '../../../../collector/report/report-document.js';
import type { Lang } from '../../../../collector/report/report-model.js';
import { REPORT_RENDERERS } from '../../../../collector/report/report-renderers.js';
import { REPORT_TEXTS } from '../../../../collector/report/report-text.js';
import type { SiteMinute, SiteMinuteSource } from '../../../../collector/report/site-minutes.js';
import { SiteSettingsSchema, siteDirectory } from '../../../../collector/sites/site-settings.js';
import type { OutageReader } from '../../../../collector/outage/outage-types.js';
import type { HostState } from '../../../../collector/store/store.js';

const EMPTY: SiteMinute = { rxMbps: null, lossPct: null, latencyMs: null, portalsOk: null };

function sources(minute: (t: number) => SiteMinute, names: Record<string, string> = { 'xa-a': 'UBND xã A' }): ReportSources {
  const minutes: SiteMinuteSource = { siteMinutes: () => ({ at: minute, portals: ['dvc'] }), saturation: () => new Map(), coarse: () => false };
  const settings = Object.fromEntries(Object.entries(names).map(([id, name]) => [id, SiteSettingsSchema.parse({ name })]));
  return {
    store: {
      listHosts: (site?: string) =>
        Object.keys(names)
          .filter((s) => site === undefined || s === site)
          .map((s) => ({ site: s, host: `pc-${s}`, firstSeen: 0 }) as HostState),
      events: () => [],
      inventory: () => undefined,
    } as unknown as ReportSources['store'],
    history: { series: () => [] },
    outages: { incidents: () => [], hostOutages: () => [], openIncidents: () => [], incident: () => undefined, counts: () => [] } as unknown as OutageReader,
    sites: siteDirectory(settings, SiteSettingsSchema.parse({})),
    siteMinutes: () => minutes,
  };
}

const build = (lang: Lang, minute: (t: number) => SiteMinute = () => EMPTY) => ({
  ...buildReport({ site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) }, sources(minute)),
  lang,
});

describe('the printable HTML', () => {
  for (const [lang, head] of [
    ['vi', 'Báo cáo hạ tầng CNTT tháng 11/2026'],
    ['en', 'IT infrastructure report, November 2026'],
  ] as const) {
    it(`has the running head with the unit and the month (${lang}) in a repeated table header`, () => {
      const html = REPORT_RENDERERS.html.render(build(lang));
      expect(html).toContain(`<table class="sheet"><thead><tr><th><div class="running-head"><span>UBND xã A</span><span>${head}</span></div></th></tr></thead><tbody>`);
      expect(html.trimEnd().endsWith('</td></tr></tbody></table>\n</body></html>')).toBe(true);
    });
  }

  it('names the number of units in the running head of a report on several', () => {
    const bundle = buildReport(
      { site: 'all', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
      sources(() => EMPTY, { 'xa-a': 'UBND xã A', 'xa-b': 'UBND xã B' }),
    );
    expect(bundle.sites).toHaveLength(2);
    expect(REPORT_RENDERERS.html.render(bundle)).toContain('<div class="running-head"><span>2 đơn vị</span>');
  });

  it('prints on A4 with rows, charts and headings kept whole, and needs no script', () => {
    const html = REPORT_RENDERERS.html.render(build('vi'));
    const css = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
    expect(css).toMatch(/@page\{size:A4 portrait;margin:[^}]+\}/);
    expect(css).toMatch(/@media print\{/);
    expect(css).toContain('tr,th,td{break-inside:avoid');
    expect(css).toContain('svg.chart{break-inside:avoid');
    expect(css).toContain('h1,h2,h3{break-after:avoid');
    expect(css).toMatch(/table\.pcs\{font-size:7\.5pt/);
    // The collector's CSP allows inline <style> but no script, no external resource.
    expect(html).not.toMatch(/<script|\son[a-z]+=|src=|href=|@import|url\(/i);
    expect(html).toContain('<table class="pcs">');
  });
});

describe('no claims without data', () => {
  it('a month without loss or usage figures shows "–" for congestion, not 0', () => {
    const md = REPORT_RENDERERS.md.render(build('vi'));
    expect(md).toContain(`| ${REPORT_TEXTS.vi.network.congested} | – |`);
    expect(md).toMatch(/\| 08:00–09:00 \| – \| – \| – \| – \| – \|/);
  });

  it('with loss measured, congestion is a number again, zeros included', () => {
    const md = REPORT_RENDERERS.md.render(build('vi', () => ({ ...EMPTY, lossPct: 0, portalsOk: true })));
    expect(md).toContain(`| ${REPORT_TEXTS.vi.network.congested} | 0 |`);
    expect(md).toMatch(/\| 08:00–09:00 \| – \| – \| 0,00 \| – \| 0 \|/);
  });

  it('CPU launch years are written as years in both languages', () => {
    expect(REPORT_TEXTS.vi.scoreItem('cpu_old', 2011, 'vi')).toBe('CPU ra mắt năm 2011, đã từ 8 năm trở lên');
    expect(REPORT_TEXTS.vi.scoreItem('cpu_ageing', 2019, 'vi')).toBe('CPU ra mắt năm 2019, đã 5–7 năm');
    expect(REPORT_TEXTS.en.scoreItem('cpu_old', 2011, 'en')).toBe('CPU launched in 2011, 8+ years old');
    // Other figures keep their grouping.
    expect(REPORT_TEXTS.vi.scoreItem('freezes', 1200, 'vi')).toBe('1.200 lần treo máy trong tháng');
  });

  it('the PC table marks its launch-year column as text', () => {
    const pcs = reportDocument(build('vi')).find((b) => b.kind === 'table' && b.name === 'pcs');
    if (pcs?.kind !== 'table') throw new Error('no PC table');
    expect(pcs.head[2]).toBe(REPORT_TEXTS.vi.pc.year);
    expect(pcs.numeric[2]).toBe(false);
  });
});
