/**
 * Issue 13 item 6: a month without data is "không đủ số liệu", never "100 %"; availability
 * is taken over measured minutes with the coverage beside it; the current month stops at
 * the report time (future days are not working time without data).
 */
import { describe, expect, it } from 'vitest';
import { buildReport, type ReportSources } from '../../../../collector/report/report-builder.js';
import { reportDocument } from '../../../../collector/report/report-document.js';
import type { SiteMinute, SiteMinuteSource } from '../../../../collector/report/site-minutes.js';
import { SiteSettingsSchema, siteDirectory } from '../../../../collector/sites/site-settings.js';
import type { OutageReader } from '../../../../collector/outage/outage-types.js';
import type { HostState } from '../../../../collector/store/store.js';
import { summaryParagraph } from '../../../../collector/report/summary-paragraph.js';

const EMPTY: SiteMinute = { rxMbps: null, lossPct: null, latencyMs: null, portalsOk: null };

function sources(minute: (t: number) => SiteMinute): ReportSources {
  const minutes: SiteMinuteSource = { siteMinutes: () => ({ at: minute, portals: ['dvc'] }), saturation: () => new Map(), coarse: () => false };
  return {
    store: { listHosts: () => [{ site: 'xa-a', host: 'pc-01', firstSeen: 0 } as HostState], events: () => [], inventory: () => undefined } as unknown as ReportSources['store'],
    history: { series: () => [] },
    outages: { incidents: () => [], hostOutages: () => [], openIncidents: () => [], incident: () => undefined, counts: () => [] } as unknown as OutageReader,
    sites: siteDirectory({}, SiteSettingsSchema.parse({ name: 'UBND xã A' })),
    siteMinutes: () => minutes,
  };
}

describe('monthly report: honest availability', () => {
  it('an empty month says "không đủ số liệu", with 0 % coverage, and no percentage', () => {
    const r = buildReport(
      { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
      sources(() => EMPTY),
    ).sites[0]!;
    expect(r.availability.coveragePct).toBe(0);
    expect(r.availability.insufficientData).toBe(true);
    expect(r.availability.siteUpPct).toBeNull();
    expect(r.availability.centrePct).toBeNull();
    const text = summaryParagraph(r, 'vi');
    expect(text).toContain('không đủ số liệu');
    expect(text).not.toMatch(/100[,.]0/);
    const doc = JSON.stringify(
      reportDocument(
        buildReport(
          { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
          sources(() => EMPTY),
        ),
      ),
    );
    expect(doc).toContain('không đủ số liệu');
    expect(doc).not.toContain('100,00%');
  });

  it('counts measured minutes only and shows the coverage', () => {
    // Data on the first half of every working hour only.
    const r = buildReport(
      { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
      sources((t) => (Math.floor(t / 60_000) % 60 < 30 ? { ...EMPTY, lossPct: 0, portalsOk: true } : EMPTY)),
    ).sites[0]!;
    expect(r.availability.coveragePct).toBeGreaterThan(40);
    expect(r.availability.coveragePct).toBeLessThan(60);
    expect(r.availability.insufficientData).toBe(r.availability.coveragePct! < 50);
  });

  it('the current month excludes future days', () => {
    const full = buildReport(
      { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 11, 2) },
      sources(() => ({ ...EMPTY, portalsOk: true })),
    ).sites[0]!;
    // 10 November 2026, 12:00 local: 6 working days (2,3,4,5,6,9) and the morning of the 10th.
    const mid = buildReport(
      { site: 'xa-a', month: '2026-11', generatedAt: Date.UTC(2026, 10, 10, 5, 0) },
      sources(() => ({ ...EMPTY, portalsOk: true })),
    ).sites[0]!;
    expect(mid.availability.workingMs).toBe((6 * 7.5 + 4) * 3_600_000);
    expect(mid.availability.workingMs).toBeLessThan(full.availability.workingMs);
    expect(mid.availability.coveragePct).toBe(100);
    expect(mid.availability.siteUpPct).toBe(100);
  });
});
