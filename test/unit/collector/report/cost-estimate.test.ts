/**
 * Issue 17 point 3: the budget request with numbers. A real SQLite store filled with a
 * month whose every figure is known (test/helpers/report-cost-scenario.ts); the report's
 * evidence, recommendations and costs must be exactly those, in every rendering.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildReport } from '../../../../collector/report/report-builder.js';
import type { ReportBundle, SiteReport } from '../../../../collector/report/report-model.js';
import { REPORT_RENDERERS } from '../../../../collector/report/report-renderers.js';
import { ReportService } from '../../../../collector/report/report-service.js';
import { MinuteHistory } from '../../../../collector/report/minute-history.js';
import { HistorySiteMinutes } from '../../../../collector/report/site-minutes.js';
import { CSV_BOM } from '../../../../collector/report/render-csv.js';
import { zaloSummary } from '../../../../collector/report/zalo-summary.js';
import { DEFAULT_PRICE_LIST, PriceListSchema } from '../../../../collector/report/price-list.js';
import { parseCsv } from '../../../helpers/csv-parse.js';
import { COST_SITE, COST_SITE_2, COST_TRUTH, costScenarioStore, type CostStore } from '../../../helpers/report-cost-scenario.js';

vi.setConfig({ testTimeout: 120_000 });

let s: CostStore;
let bundle: ReportBundle;
let r: SiteReport;
const pc = (host: string) => r.hosts.find((h) => h.host === host)!;

beforeAll(() => {
  s = costScenarioStore();
  bundle = buildReport({ site: COST_SITE, month: '2026-11' }, s.sources);
  r = bundle.sites[0]!;
}, 300_000);
afterAll(() => {
  s.store.close();
  rmSync(s.dir, { recursive: true, force: true });
});

describe('the evidence per PC', () => {
  it('disk health from the month’s checks: bad sectors 80 → 120 (+40), 2 disk errors, failing', () => {
    expect(pc('pc-a').diskHealth).toEqual([
      {
        device: 'PhysicalDisk0',
        model: 'KINGSTON SA400S37240G',
        checks: 3,
        state: 'warning',
        predictedFailure: false,
        badSectors: 120,
        badSectorsRise: 40,
        errorEvents: 2,
        wearPct: null,
        powerOnHours: 20_000,
        failing: true,
      },
    ]);
    expect(pc('pc-b').diskHealth![0]).toMatchObject({ failing: false, badSectors: 0, badSectorsRise: 0 });
    // Only an unreadable check: its disk health is unknown, not good.
    expect(pc('pc-e').diskHealth).toBeNull();
  });

  it('memory shortage, busy disk and CPU saturation in working hours, as generated', () => {
    for (const h of r.hosts) {
      // 9,360 of 9,450 working minutes measured (three 30-minute power cuts).
      expect(h.coveragePct, h.host).toBe(99.05);
      expect(h.memPressurePct, h.host).toBe(h.host === 'pc-e' ? null : (COST_TRUTH.memPressurePct[h.host] ?? 0));
      expect(h.diskBusyHours, h.host).toBe(h.host === 'pc-e' ? null : (COST_TRUTH.diskBusyHours[h.host] ?? 0));
      expect(h.cpuSaturatedHours, h.host).toBe(COST_TRUTH.cpuSaturatedHours[h.host] ?? 0);
      expect(h.powerBackup, h.host).toBe(h.host === 'pc-f');
    }
  });

  it('the history port (the fallback past the 1-minute rollups) finds the same figures as the SQL over the rollups', () => {
    const viaPort = buildReport({ site: COST_SITE, month: '2026-11' }, { ...s.sources, siteMinutes: () => new HistorySiteMinutes(new MinuteHistory(s.sources.history)) }).sites[0]!;
    const figures = (x: SiteReport) => x.hosts.map((h) => [h.host, h.coveragePct, h.cpuSaturatedHours, h.diskBusyHours, h.memPressurePct]);
    expect(figures(viaPort)).toEqual(figures(r));
    expect(viaPort.costs).toEqual(r.costs);
  });

  it('the replacement score weighs the new evidence', () => {
    expect(Object.fromEntries(r.hosts.map((h) => [h.host, [h.score, h.recommendation]]))).toEqual({
      'pc-a': [45, 'upgrade'],
      'pc-b': [40, 'upgrade'],
      'pc-c': [40, 'upgrade'],
      'pc-d': [85, 'replace'],
      'pc-e': [45, 'upgrade'],
      'pc-f': [0, 'none'],
    });
    expect(pc('pc-a').scoreItems.find((i) => i.key === 'disk_failing')).toEqual({ key: 'disk_failing', points: 30, value: 'KINGSTON SA400S37240G (PhysicalDisk0)' });
    expect(pc('pc-a').actions).toEqual(['ssd']);
    expect(pc('pc-b').scoreItems.find((i) => i.key === 'mem_pressure')).toEqual({ key: 'mem_pressure', points: 10, value: 20.19 });
    expect(pc('pc-c').scoreItems.find((i) => i.key === 'disk_busy')).toEqual({ key: 'disk_busy', points: 10, value: 10.5 });
  });
});

describe('recommendations and costs', () => {
  it('one line per recommendation, each with its figures; nothing priced without them', () => {
    const lines = r.costs.lines.map((l) => [l.host, l.item, l.status, Object.fromEntries(l.evidence.map((e) => [e.key, e.value])), l.quantity, l.unitVnd, l.costVnd]);
    expect(lines).toEqual([
      ['pc-a', 'ssd', 'priced', { bad_sectors: 120, bad_sectors_rise: 40, disk_errors: 2 }, 1, 850_000, 850_000],
      ['pc-b', 'ram', 'priced', { ram_gb: 4, mem_pressure: 20.19 }, 1, 950_000, 950_000],
      ['pc-c', 'ssd', 'priced', { disk_type: 'HDD', disk_busy: 10.5 }, 1, 850_000, 850_000],
      [
        'pc-d',
        'new_pc',
        'priced',
        { age: 15, cpu_year: 2011, ram_gb: 4, disk_type: 'HDD', os_unsupported: 'Microsoft Windows 10 Pro 10.0.19045', cpu_saturated: 21 },
        1,
        16_500_000,
        16_500_000,
      ],
      // An older agent: the figures that decide are missing, so "không đủ số liệu", no cost.
      ['pc-e', 'ssd', 'insufficient', { disk_type: 'HDD', disk_busy: null }, 1, 850_000, 0],
      ['pc-e', 'ram', 'insufficient', { ram_gb: 4, mem_pressure: null }, 1, 950_000, 0],
      [null, 'ups', 'priced', { power_cuts: 3, power_cuts_working: 3, power_cut_working_min: 90, pcs_without_backup: 5 }, 5, 2_600_000, 13_000_000],
    ]);
    expect(r.costs.pcsWithoutDiskHealth).toBe(1);
  });

  it('totals per item, per PC and for the site', () => {
    expect(r.costs.byItem).toEqual({
      new_pc: { quantity: 1, costVnd: 16_500_000 },
      ssd: { quantity: 2, costVnd: 1_700_000 },
      ram: { quantity: 1, costVnd: 950_000 },
      ups: { quantity: 5, costVnd: 13_000_000 },
    });
    expect(r.costs.totalVnd).toBe(COST_TRUTH.anBinhVnd);
    expect(r.costs.pcs.map((p) => [p.host, p.costVnd])).toEqual([
      ['pc-d', 16_500_000],
      ['pc-b', 950_000],
      ['pc-a', 850_000],
      ['pc-c', 850_000],
    ]);
  });

  it('the province (site=all): each site and the sum', () => {
    const all = buildReport({ site: 'all', month: '2026-11' }, s.sources);
    expect(all.sites.map((x) => [x.site, x.costs.totalVnd])).toEqual([
      [COST_SITE, COST_TRUTH.anBinhVnd],
      [COST_SITE_2, COST_TRUTH.binhMinhVnd],
    ]);
    const x = all.sites[1]!.costs.lines;
    expect(x).toHaveLength(1);
    expect(x[0]).toMatchObject({ host: 'pc-x', item: 'ssd', status: 'priced', evidence: [{ key: 'predicted_failure', value: 'WDC WDS240G2G0A (0)' }] });
    expect(all.costs.totalVnd).toBe(COST_TRUTH.provinceVnd);
    expect(all.costs.byItem.ssd).toEqual({ quantity: 3, costVnd: 2_550_000 });
    expect(all.costs.sites).toBe(2);
    const md = REPORT_RENDERERS.md.render(all);
    expect(md).toContain('## Dự toán kinh phí của các đơn vị');
    expect(md).toContain('| UBND xã An Bình (an-binh) | 1 | 2 | 1 | 5 | 32.150.000 ₫ |');
    expect(md).toContain('| Tổng cộng các đơn vị | 1 | 3 | 1 | 5 | 33.000.000 ₫ |');
  });

  it('the province’s prices are the ones used', () => {
    const prices = PriceListSchema.parse({ ssd: { sizeGb: 256, vnd: 1_000_000 }, ups: { vnd: 3_000_000 } });
    const b = buildReport({ site: COST_SITE, month: '2026-11' }, { ...s.sources, prices });
    const c = b.sites[0]!.costs;
    expect(c.byItem.ssd.costVnd).toBe(2_000_000);
    expect(c.byItem.ups.costVnd).toBe(15_000_000);
    expect(c.byItem.ram.costVnd).toBe(DEFAULT_PRICE_LIST.ramModule.vnd);
    expect(c.totalVnd).toBe(16_500_000 + 2_000_000 + 950_000 + 15_000_000);
    expect(REPORT_RENDERERS.md.render(b)).toContain(
      '| MAY-MOT-CUA-A (pc-a) | Thay ổ cứng SSD 256 GB | ổ cứng 120 sector lỗi, tăng 40 trong tháng, 2 lỗi đọc/ghi đĩa trong nhật ký hệ thống | 1 | 1.000.000 ₫ | 1.000.000 ₫ |',
    );
  });

  it('stricter rules: fewer lines, never a guess', () => {
    const b = buildReport(
      { site: COST_SITE, month: '2026-11' },
      { ...s.sources, costRules: { memShortagePct: 25, pagingPerSec: 200, psiPct: 10, diskBusyHours: 11, upsPowerCuts: 4 } },
    );
    const items = b.sites[0]!.costs.lines.map((l) => `${l.host}:${l.item}:${l.status}`);
    expect(items).toEqual(['pc-a:ssd:priced', 'pc-d:new_pc:priced', 'pc-e:ssd:insufficient', 'pc-e:ram:insufficient']);
  });
});

describe('renderings', () => {
  it('Markdown (Vietnamese): the section, evidence in words, VND amounts, totals, the prices used', () => {
    const md = REPORT_RENDERERS.md.render(bundle);
    expect(md).toContain('### 7. Dự toán kinh phí thay thế, nâng cấp (ước tính)');
    expect(md).toContain(
      '| 1 | MAY-MOT-CUA-A (pc-a) | Thay ổ cứng SSD 240 GB | ổ cứng 120 sector lỗi, tăng 40 trong tháng, 2 lỗi đọc/ghi đĩa trong nhật ký hệ thống | 1 | 850.000 ₫ | 850.000 ₫ |',
    );
    expect(md).toContain('| 2 | MAY-MOT-CUA-B (pc-b) | Thêm RAM 8 GB | RAM 4 GB, thiếu bộ nhớ 20% giờ làm việc | 1 | 950.000 ₫ | 950.000 ₫ |');
    expect(md).toContain(
      '| 3 | MAY-KE-TOAN (pc-c) | Thay ổ cứng SSD 240 GB | ổ đĩa hệ thống là ổ cứng cơ (HDD), ổ đĩa bận liên tục 10,5 giờ làm việc | 1 | 850.000 ₫ | 850.000 ₫ |',
    );
    expect(md).toContain(
      '| 4 | MAY-CU (pc-d) | Thay máy tính mới | máy 15 năm tuổi, CPU ra mắt năm 2011, RAM 4 GB, ổ đĩa hệ thống là ổ cứng cơ (HDD), hệ điều hành Microsoft Windows 10 Pro 10.0.19045 đã hết hỗ trợ bảo mật, CPU quá tải 21 giờ làm việc | 1 | 16.500.000 ₫ | 16.500.000 ₫ |',
    );
    expect(md).toContain(
      '| 5 | MAY-PHIEN-BAN-CU (pc-e) | Thay ổ cứng SSD 240 GB | ổ đĩa hệ thống là ổ cứng cơ (HDD), không đủ số liệu về mức bận của ổ đĩa | – | 850.000 ₫ | không đủ số liệu |',
    );
    expect(md).toContain('| 6 | MAY-PHIEN-BAN-CU (pc-e) | Thêm RAM 8 GB | RAM 4 GB, không đủ số liệu về tình trạng thiếu bộ nhớ | – | 950.000 ₫ | không đủ số liệu |');
    expect(md).toContain(
      '| 7 | Toàn đơn vị | Trang bị bộ lưu điện (UPS) | mất điện 3 lần/tháng, 3 lần trong giờ làm việc, mất 1 giờ 30 phút làm việc, 5 máy chưa có UPS | 5 | 2.600.000 ₫ | 13.000.000 ₫ |',
    );
    expect(md).toContain('| Tổng cộng |  |  | 32.150.000 ₫ |');
    expect(md).toContain('| MAY-CU (pc-d) | 16.500.000 ₫ |');
    expect(md).toContain('1/6 máy chưa có số liệu sức khỏe ổ cứng trong tháng');
    expect(md).toContain('ổ SSD 240 GB 850.000 ₫; RAM 8 GB 950.000 ₫; máy tính mới 16.500.000 ₫; bộ lưu điện (UPS) 2.600.000 ₫');
    expect(md).toContain(
      'ổ cứng có dấu hiệu hỏng +30 (và luôn được đề xuất nâng cấp); mỗi giờ làm việc ổ đĩa bận từ 90% +1 (tối đa 15); mỗi 2% thời gian làm việc thiếu bộ nhớ +1 (tối đa 15)',
    );
    // The proposals table words the new criteria too.
    expect(md).toContain('ổ cứng KINGSTON SA400S37240G (PhysicalDisk0) có dấu hiệu hỏng (+30)');
  });

  it('HTML (English): the same figures in English, amounts in VND', () => {
    const en = buildReport({ site: COST_SITE, month: '2026-11', lang: 'en' }, s.sources);
    const html = REPORT_RENDERERS.html.render(en);
    expect(html).toContain('<h3>7. Estimated cost of the replacements and upgrades</h3>');
    expect(html).toContain(
      '<td>Fit an SSD 240 GB</td><td>120 bad sectors, up 40 in the month, 2 disk I/O errors in the system log</td><td class="n">1</td><td class="n">850,000 VND</td>',
    );
    expect(html).toContain('<td>Add RAM 8 GB</td><td>4 GB of RAM, short of memory 20% of working time</td>');
    expect(html).toContain('<td class="n">not enough data</td>');
    expect(html).toContain('<td>Total</td><td class="n"></td><td class="n"></td><td class="n">32,150,000 VND</td>');
  });

  it('the Zalo summary gives the site’s total; nothing when nothing is priced', () => {
    expect(zaloSummary(r, 'vi')).toContain('\n• Dự toán kinh phí thay thế, nâng cấp (ước tính): 32.150.000 ₫\n');
    expect(zaloSummary(r, 'en')).toContain('\n• Estimated cost of replacements and upgrades: 32,150,000 VND\n');
    const none = { ...r, costs: { ...r.costs, lines: [], pcs: [], totalVnd: 0 } };
    expect(zaloSummary(none, 'vi')).not.toContain('Dự toán');
  });

  it('CSV: the cost rows, figures as metrics, an insufficient line without a cost', () => {
    const rows = parseCsv(REPORT_RENDERERS.csv.render(bundle).slice(1), ';');
    const get = (item: string, metric: string, section = 'cost') => rows.find((x) => x[0] === section && x[1] === COST_SITE && x[2] === item && x[3] === metric)?.[4];
    expect(get('1', 'host')).toBe('pc-a');
    expect(get('1', 'recommendation')).toBe('ssd');
    expect(get('1', 'evidence.bad_sectors')).toBe('120');
    expect(get('1', 'evidence.bad_sectors_rise')).toBe('40');
    expect(get('1', 'cost')).toBe('850000');
    expect(get('2', 'evidence.mem_pressure')).toBe('20,19');
    expect(get('5', 'status')).toBe('insufficient');
    expect(get('5', 'evidence.disk_busy')).toBe('');
    expect(get('5', 'cost')).toBe('');
    expect(get('7', 'quantity')).toBe('5');
    expect(get('all', 'cost', 'cost_total')).toBe(String(COST_TRUTH.anBinhVnd));
    expect(rows.every((x) => x.length === 6)).toBe(true);
  });

  it('budget CSV: one row per recommendation, ready for Excel, with the file name of a budget annex', () => {
    const out = new ReportService(s.sources).render({ site: 'all', month: '2026-11', format: 'budget', lang: 'vi' });
    expect(out.filename).toBe('canh-du-toan-all-2026-11.csv');
    expect(out.contentType).toBe('text/csv; charset=utf-8');
    expect(out.body.startsWith(CSV_BOM)).toBe(true);
    expect(out.body).toContain('\r\n');
    const rows = parseCsv(out.body.slice(1), ';');
    expect(rows[0]).toEqual(['Mã đơn vị', 'Đơn vị', 'Mã máy', 'Tên máy', 'Đề xuất', 'Căn cứ', 'Số liệu', 'Số lượng', 'Đơn giá (đồng)', 'Thành tiền (đồng)', 'Ghi chú']);
    expect(rows.slice(1)).toHaveLength(8);
    expect(rows[1]).toEqual([
      'an-binh',
      'UBND xã An Bình',
      'pc-a',
      'MAY-MOT-CUA-A',
      'Thay ổ cứng SSD 240 GB',
      'ổ cứng 120 sector lỗi, tăng 40 trong tháng, 2 lỗi đọc/ghi đĩa trong nhật ký hệ thống',
      'bad_sectors=120 bad_sectors_rise=40 disk_errors=2',
      '1',
      '850000',
      '850000',
      '',
    ]);
    expect(rows[5]).toEqual([
      'an-binh',
      'UBND xã An Bình',
      'pc-e',
      'MAY-PHIEN-BAN-CU',
      'Thay ổ cứng SSD 240 GB',
      'ổ đĩa hệ thống là ổ cứng cơ (HDD), không đủ số liệu về mức bận của ổ đĩa',
      'disk_type=HDD disk_busy=',
      '',
      '850000',
      '',
      'không đủ số liệu',
    ]);
    expect(rows[7]!.slice(2, 10)).toEqual([
      '',
      'Toàn đơn vị',
      'Trang bị bộ lưu điện (UPS)',
      'mất điện 3 lần/tháng, 3 lần trong giờ làm việc, mất 1 giờ 30 phút làm việc, 5 máy chưa có UPS',
      'power_cuts=3 power_cuts_working=3 power_cut_working_min=90 pcs_without_backup=5',
      '5',
      '2600000',
      '13000000',
    ]);
    expect(rows[8]!.slice(0, 5)).toEqual(['binh-minh', 'UBND phường Bình Minh', 'pc-x', 'MAY-TIEP-DAN', 'Thay ổ cứng SSD 240 GB']);
    // What a commune sums in its sheet: the province total.
    expect(rows.slice(1).reduce((sum, x) => sum + Number(x[9] || 0), 0)).toBe(COST_TRUTH.provinceVnd);
    const en = new ReportService(s.sources).render({ site: COST_SITE, month: '2026-11', format: 'budget', lang: 'en' });
    expect(en.filename).toBe('canh-budget-an-binh-2026-11.csv');
    expect(parseCsv(en.body.slice(1), ',')[0]![0]).toBe('site');
  });
});
