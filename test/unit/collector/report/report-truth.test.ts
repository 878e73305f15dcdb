import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildReport, UnknownSiteError } from '../../../../collector/report/report-builder.js';
import type { ReportBundle, SiteReport } from '../../../../collector/report/report-model.js';
import { monthRange, parseMonth } from '../../../../collector/report/report-period.js';
import { HOSTS, L, scenarioStore, SITE, SITE_NAME, TRUTH, type FilledStore } from '../../../helpers/report-scenario.js';

// Issue 7: a real SQLite store filled with a month whose every figure is known; the
// report must state exactly those figures.

vi.setConfig({ testTimeout: 120_000 });

let s: FilledStore;
let bundle: ReportBundle;
let r: SiteReport;

beforeAll(() => {
  s = scenarioStore();
  bundle = buildReport({ site: SITE, month: '2026-11' }, s.sources);
  r = bundle.sites[0]!;
}, 300_000); // the first test file run builds the scenario store (then cached)
afterAll(() => {
  s.store.close();
  rmSync(dirname(s.file), { recursive: true, force: true });
});

describe('month boundaries in local time (UTC+7)', () => {
  it('November starts at 17:00 UTC on 31 October and ends at 17:00 UTC on 30 November', () => {
    const m = monthRange(parseMonth('2026-11'), 'Asia/Ho_Chi_Minh');
    expect(m.from).toBe(Date.UTC(2026, 9, 31, 17));
    expect(m.to).toBe(Date.UTC(2026, 10, 30, 17));
    expect(r.from).toBe(m.from);
    expect(r.to).toBe(m.to);
  });

  it('a sample at 23:30 UTC on 31 October belongs to November', () => {
    const t = Date.UTC(2026, 9, 31, 23, 30);
    const series = s.sources.history.series({ site: SITE, host: 'pc-02', metric: 'cpu', from: r.from, to: r.to, resolution: 'raw' });
    expect(series[0]!.points.some((p) => p.t >= t && p.t < t + 60_000)).toBe(true);
    const october = monthRange(parseMonth('2026-10'), 'Asia/Ho_Chi_Minh');
    expect(t >= october.to).toBe(true);
  });

  it('counts a freeze at 06:30 on 1 November (23:30 UTC the day before) and not one at 00:30 on 1 December', () => {
    expect(r.hosts.find((h) => h.host === 'pc-02')!.freezes).toBe(1);
  });

  it('rejects a malformed month and an unknown site clearly', () => {
    expect(() => buildReport({ site: SITE, month: '2026-13' }, s.sources)).toThrow(/YYYY-MM/);
    expect(() => buildReport({ site: 'khong-co', month: '2026-11' }, s.sources)).toThrow(UnknownSiteError);
  });
});

describe('availability in working hours', () => {
  it('working time: 20 working days (weekends and the configured holiday excluded) × 7.5 h', () => {
    expect(r.availability.workingMs).toBe(TRUTH.workingMs);
    const days = r.network.days;
    expect(days).toHaveLength(30);
    expect(days.filter((d) => d.working)).toHaveLength(20);
    expect(days.find((d) => d.date === '2026-11-16')!.working).toBe(false);
    expect(days.find((d) => d.date === '2026-11-21')!.working).toBe(false);
    expect(days[0]!.date).toBe('2026-11-01');
  });

  it('site up and portals reachable', () => {
    const a = r.availability;
    expect(a.siteDownMs).toBe(TRUTH.siteDownMs);
    expect(a.siteUpPct).toBe(TRUTH.siteUpPct);
    expect(a.portalMinutesMeasured).toBe(TRUTH.portalMinutesMeasured);
    expect(a.portalMinutesOk).toBe(TRUTH.portalMinutesOk);
    expect(a.portalOkPct).toBe(TRUTH.portalOkPct);
    expect(a.centrePct).toBe(TRUTH.centrePct);
    expect(a.minutesWithoutData).toBe(0);
    expect(a.portals).toEqual(['dichvucong', 'motcua']);
  });
});

describe('power cuts and network cuts', () => {
  it('4 power cuts, 3 h 12 min in total, 2 in working hours, longest 1 h', () => {
    expect(r.powerCuts).toEqual(TRUTH.powerCuts);
  });

  it('1 network cut of 20 min in working hours; single-PC crashes are not site incidents', () => {
    expect(r.networkCuts).toEqual(TRUTH.networkCuts);
    expect(r.otherOutages.count).toBe(0);
  });

  it('lists them in order with the cut across midnight of the last day clipped to November', () => {
    expect(r.outages.map((o) => [o.cause, o.start])).toEqual([
      ['power_cut', L(2, '10:00')],
      ['power_cut', L(9, '12:00')],
      ['power_cut', L(19, '16:30')],
      ['network_cut', L(25, '14:00')],
      ['power_cut', L(30, '23:28')],
    ]);
    const last = r.outages[4]!;
    expect(last.end).toBe(L(31, '00:28'));
    expect(last.durationMs).toBe(32 * 60_000);
    expect(last.clipped).toBe(true);
    expect(last.workingMs).toBe(0);
    expect(r.outages[1]!.workingMs).toBe(0); // lunch break
    expect(r.outages[2]!.workingMs).toBe(30 * 60_000);
    expect(r.outages.every((o) => o.hosts === HOSTS.length)).toBe(true);
  });
});

describe('peak-hour network quality', () => {
  it('congestion minutes: usage ≥ 80 % of the line or loss ≥ 5 %, working time only', () => {
    expect(r.network.congestedMinutes).toBe(TRUTH.congestedMinutes);
    expect(r.network.worstDays).toEqual(TRUTH.worstDays);
    const day = (d: string) => r.network.days.find((x) => x.date === d)!;
    expect(day('2026-11-03').congestedMinutes).toBe(60);
    expect(day('2026-11-16').congestedMinutes).toBe(0); // holiday
    expect(day('2026-11-21').congestedMinutes).toBe(0); // Saturday
  });

  it('latency per working hour, line usage against the contracted speed', () => {
    const hour = (h: number) => r.network.hours.find((x) => x.hour === h)!;
    // 07:30–11:30 and 13:30–17:00: no working minute between 12:00 and 13:00.
    expect(r.network.hours.map((h) => h.hour)).toEqual([7, 8, 9, 10, 11, 13, 14, 15, 16]);
    expect(hour(7).minutes).toBe(20 * 30);
    expect(hour(11).minutes).toBe(20 * 30);
    expect(hour(13).minutes).toBe(20 * 30);
    expect(hour(9).latencyMs).toBe(TRUTH.hour9LatencyMs);
    expect(hour(8).latencyMs).toBe(TRUTH.hour8LatencyMs);
    expect(hour(14).latencyMs).toBe(TRUTH.hour14LatencyMs);
    expect(hour(9).congestedMinutes).toBe(60);
    expect(hour(8).lossPct).toBe(0.38); // 45 min × 10 % / 1200 min = 0.375, rounded to 2 decimals
    expect(r.network.lineMbps).toBe(20);
    expect(r.network.usageMaxPct).toBe(TRUTH.usageMaxPct);
    expect(r.network.usageMeanMbps).toBe(TRUTH.usageMeanMbps);
  });
});

describe('PCs and the replacement list', () => {
  it('freezes, crashes, hours of saturation in working hours, disks nearly full', () => {
    for (const h of r.hosts) {
      expect(h.freezes, h.host).toBe(TRUTH.freezes[h.host] ?? 0);
      expect(h.crashes, h.host).toBe(TRUTH.crashes[h.host] ?? 0);
      expect(h.cpuSaturatedHours, h.host).toBe(TRUTH.cpuSaturatedHours[h.host] ?? 0);
      expect(h.memSaturatedHours, h.host).toBe(TRUTH.memSaturatedHours[h.host] ?? 0);
      expect(h.disksNearlyFull, h.host).toEqual(h.host === 'pc-04' ? [{ mount: 'C:', usedPct: 95 }] : []);
    }
  });

  it('hardware from the inventory: CPU launch year and age class, RAM, disk type, OS support', () => {
    const hw = (host: string) => r.hosts.find((h) => h.host === host)!.hardware!;
    expect(hw('pc-01')).toMatchObject({ cpuYear: 2011, ageClass: 'old', ramGb: 4, diskType: 'HDD', osSupported: false });
    expect(hw('pc-03')).toMatchObject({ cpuYear: 2019, ageClass: 'ageing', osSupported: true });
    expect(hw('pc-04')).toMatchObject({ cpuYear: 2023, ageClass: 'recent', diskType: 'NVMe' });
    expect(hw('pc-05')).toMatchObject({ cpuYear: 2014, ageClass: 'old', ramGb: 2, osSupported: false });
    expect(r.hosts.find((h) => h.host === 'pc-01')!.hostname).toBe('MAY-MOT-CUA-01');
  });

  it('ranked proposals with the evidence behind every point', () => {
    for (const h of r.hosts) {
      expect(h.score, h.host).toBe(TRUTH.scores[h.host]);
      expect(h.scoreItems.reduce((s, i) => s + i.points, 0)).toBe(h.score);
    }
    expect(r.proposals).toEqual(TRUTH.proposals);
    const pc1 = r.hosts.find((h) => h.host === 'pc-01')!;
    expect(pc1.recommendation).toBe('replace');
    expect(pc1.scoreItems.map((i) => i.key)).toEqual(['cpu_old', 'ram_low', 'hdd', 'os_unsupported', 'freezes', 'crashes', 'cpu_saturated']);
    expect(pc1.scoreItems.find((i) => i.key === 'freezes')).toEqual({ key: 'freezes', points: 15, value: 6 });
    const pc2 = r.hosts.find((h) => h.host === 'pc-02')!;
    expect(pc2.recommendation).toBe('upgrade');
    expect(pc2.actions).toEqual(['os']);
  });
});

describe('change vs the previous month and the summary', () => {
  it('October headline: 2 power cuts, 40 min', () => {
    expect(r.previous).not.toBeNull();
    expect(r.previous!.powerCuts).toBe(TRUTH.previousPowerCuts);
    expect(r.previous!.powerCutMs).toBe(TRUTH.previousPowerCutMs);
    expect(r.headline.powerCuts).toBe(4);
    expect(r.headline.freezes).toBe(7);
    expect(r.headline.crashes).toBe(2);
  });

  it('the generated paragraph states the figures in formal Vietnamese', async () => {
    const { summaryParagraph } = await import('../../../../collector/report/summary-paragraph.js');
    const text = summaryParagraph(r, 'vi');
    expect(text).toContain(SITE_NAME);
    expect(text).toContain('4 lần mất điện với tổng thời gian 3 giờ 12 phút (2 lần trong giờ làm việc, lần dài nhất 1 giờ)');
    expect(text).toContain('195 phút');
    expect(text).toContain('đề xuất thay thế 2 máy và nâng cấp 1 máy');
    // October was sampled every 30 min (about 3 % of its working minutes): below the coverage
    // threshold, so no change is computed from it (issue 13 item 6), though its 2 cuts are recorded.
    expect(r.previous!.insufficientData).toBe(true);
    expect(text).toContain('Không so sánh với tháng trước vì tháng trước không đủ số liệu.');
    expect(text).not.toContain('số lần mất điện tăng');
    const en = summaryParagraph(r, 'en');
    expect(en).toContain('4 power cuts totalling 3 h 12 min (2 in working hours, longest 1 h)');
  });
});

it('site "all" lists every site of the store in id order', () => {
  const all = buildReport({ site: 'all', month: '2026-11' }, s.sources);
  expect(all.sites.map((x) => x.site)).toEqual([SITE]);
});

describe('1-minute rollups past retention', () => {
  it('counts from the 15-minute rollups instead, and says so', () => {
    const c = scenarioStore();
    try {
      // As retention would: the 1-minute buckets before 10 November are gone.
      c.db.prepare('DELETE FROM rollup_1m WHERE t < ?').run(L(10, '00:00'));
      const r2 = buildReport({ site: SITE, month: '2026-11' }, c.sources).sites[0]!;
      expect(r2.notes).toContain('coarse_history');
      // The congestion windows are whole quarters of an hour: the same minutes.
      expect(r2.network.congestedMinutes).toBe(TRUTH.congestedMinutes);
      expect(r2.network.days.find((d) => d.date === '2026-11-03')!.congestedMinutes).toBe(60);
      expect(r2.hosts.find((h) => h.host === 'pc-01')!.cpuSaturatedHours).toBe(3);
      expect(r2.powerCuts).toEqual(TRUTH.powerCuts);
      expect(r.notes).not.toContain('coarse_history');
    } finally {
      c.store.close();
      rmSync(dirname(c.file), { recursive: true, force: true });
    }
  });
});
