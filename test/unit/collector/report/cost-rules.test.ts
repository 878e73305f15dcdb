/**
 * Issue 17 point 3: the price list's validation, Vietnamese money formatting, and the cost
 * rules' "true or unknown": no recommendation, and no cost, without the data behind it.
 */
import { describe, expect, it } from 'vitest';
import { CollectorConfigSchema } from '../../../../collector/config.js';
import { pcCostLines, siteUpsLine } from '../../../../collector/report/cost-estimate.js';
import { DEFAULT_COST_RULES, DEFAULT_PRICE_LIST } from '../../../../collector/report/price-list.js';
import { renderMarkdown } from '../../../../collector/report/render-markdown.js';
import { fmtVnd } from '../../../../collector/report/report-format.js';
import { DEFAULT_METHOD, type PcHealth, type SiteReport } from '../../../../collector/report/report-model.js';
import { scorePc } from '../../../../collector/report/replacement-score.js';
import { ConfigError, loadConfig } from '../../../../common/config-loader.js';
import { coverageBundle } from '../../../helpers/report-coverage-fixture.js';

function problems(report: unknown): string[] {
  try {
    loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_TEST_PRICES', env: {}, overrides: { report } });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('report.prices and report.costRules', () => {
  it('defaults: VND placeholders for 2026, the evidence thresholds', () => {
    const c = CollectorConfigSchema.parse({});
    expect(c.report.prices).toEqual({ ssd: { sizeGb: 240, vnd: 850_000 }, ramModule: { sizeGb: 8, vnd: 950_000 }, newPc: { vnd: 16_500_000 }, ups: { vnd: 2_600_000 } });
    expect(c.report.costRules).toEqual({ memShortagePct: 10, pagingPerSec: 200, psiPct: 10, diskBusyHours: 5, upsPowerCuts: 2 });
    // A partial price list keeps the other defaults.
    const p = CollectorConfigSchema.parse({ report: { prices: { ssd: { vnd: 1_200_000 } } } }).report.prices;
    expect(p.ssd).toEqual({ sizeGb: 240, vnd: 1_200_000 });
    expect(p.newPc.vnd).toBe(16_500_000);
  });

  it('every problem at once, by path: negative, fractional, absurd, wrong type, unknown key with a suggestion', () => {
    const p = problems({
      prices: { ssd: { vnd: -1 }, ramModule: { vnd: 950_000.5, sizeGb: 0 }, newPc: { vnd: 16_500_000_000 }, ups: { vnd: '2.600.000' }, sdd: { vnd: 1 } },
      costRules: { upsPowerCuts: 0, memShortagePct: 150 },
    });
    expect(p).toContain('report.prices.ssd.vnd: must not be negative');
    expect(p).toContain('report.prices.ramModule.vnd: must be a whole number of đồng');
    expect(p.some((x) => x.startsWith('report.prices.ramModule.sizeGb: '))).toBe(true);
    expect(p).toContain('report.prices.newPc.vnd: must be at most 10,000,000,000 đồng');
    expect(p.some((x) => x.startsWith('report.prices.ups.vnd: ') && /number/i.test(x))).toBe(true);
    expect(p).toContain('report.prices.sdd: unknown key — did you mean report.prices.ssd?');
    expect(p.some((x) => x.startsWith('report.costRules.upsPowerCuts: '))).toBe(true);
    expect(p.some((x) => x.startsWith('report.costRules.memShortagePct: '))).toBe(true);
    expect(p).toHaveLength(8);
  });

  it('one price from the environment (CANH_COLLECTOR__REPORT__PRICES__NEW_PC__VND), the others kept', () => {
    const c = loadConfig(CollectorConfigSchema, { envPrefix: 'CANH_COLLECTOR', env: { CANH_COLLECTOR__REPORT__PRICES__NEW_PC__VND: '15800000' } });
    expect(c.report.prices.newPc.vnd).toBe(15_800_000);
    expect(c.report.prices.ssd.vnd).toBe(850_000);
  });

  it('a valid price list loads', () => {
    expect(problems({ prices: { ssd: { sizeGb: 256, vnd: 990_000 }, ups: { vnd: 3_100_000 } }, costRules: { upsPowerCuts: 5 } })).toEqual([]);
  });
});

describe('VND formatting', () => {
  it('Vietnamese: dots between thousands, the đồng sign; English: commas, VND', () => {
    expect(fmtVnd(1_250_000, 'vi')).toBe('1.250.000 ₫');
    expect(fmtVnd(850_000, 'vi')).toBe('850.000 ₫');
    expect(fmtVnd(0, 'vi')).toBe('0 ₫');
    expect(fmtVnd(999, 'vi')).toBe('999 ₫');
    expect(fmtVnd(1_000, 'vi')).toBe('1.000 ₫');
    expect(fmtVnd(1_234_567_890, 'vi')).toBe('1.234.567.890 ₫');
    expect(fmtVnd(1_250_000.4, 'vi')).toBe('1.250.000 ₫');
    expect(fmtVnd(1_250_000, 'en')).toBe('1,250,000 VND');
    expect(fmtVnd(null, 'vi')).toBe('–');
  });
});

/** A PC of a fully measured month, with what the test sets. */
function pc(over: Partial<PcHealth>): PcHealth {
  const base = {
    host: 'pc-01',
    hostname: 'MAY-01',
    coveragePct: 98,
    freezes: 0,
    crashes: 0,
    cpuSaturatedHours: 0,
    memSaturatedHours: 0,
    disksNearlyFull: [],
    diskHealth: null,
    diskBusyHours: null,
    memPressurePct: null,
    powerBackup: false,
    hardware: { cpu: 'Intel Core i5-10400', cores: 6, cpuYear: 2019, ageClass: 'ageing' as const, ramGb: 8, diskType: 'SSD' as const, os: 'Windows 11', osSupported: true },
    ...over,
  };
  return { ...base, ...scorePc(base, DEFAULT_METHOD), ...over };
}
const lines = (p: PcHealth) => pcCostLines('xa-a', p, DEFAULT_METHOD, DEFAULT_COST_RULES, DEFAULT_PRICE_LIST, 2026).map((l) => `${l.item}:${l.status}:${l.costVnd}`);

describe('no recommendation without data', () => {
  it('low RAM: measured shortage → RAM; measured and enough → nothing; unknown → "không đủ số liệu", no cost', () => {
    const hw = { ...pc({}).hardware!, ramGb: 4 };
    expect(lines(pc({ hardware: hw, memPressurePct: 35 }))).toEqual(['ram:priced:950000']);
    expect(lines(pc({ hardware: hw, memPressurePct: 9.9 }))).toEqual([]);
    expect(lines(pc({ hardware: hw, memPressurePct: null }))).toEqual(['ram:insufficient:0']);
    // Memory saturated for hours is evidence too (an agent without pressure figures).
    expect(lines(pc({ hardware: hw, memPressurePct: null, memSaturatedHours: 3 }))).toEqual(['ram:priced:950000']);
    // A PC measured 20 % of the month: its "no shortage" is not known.
    expect(lines(pc({ hardware: hw, memPressurePct: 0, coveragePct: 20 }))).toEqual(['ram:insufficient:0']);
    // 8 GB: RAM is not in question.
    expect(lines(pc({ memPressurePct: 80 }))).toEqual([]);
  });

  it('HDD: busy → SSD; not busy → nothing; no disk activity figures → "không đủ số liệu"', () => {
    const hw = { ...pc({}).hardware!, diskType: 'HDD' as const };
    expect(lines(pc({ hardware: hw, diskBusyHours: 5 }))).toEqual(['ssd:priced:850000']);
    expect(lines(pc({ hardware: hw, diskBusyHours: 4.9 }))).toEqual([]);
    expect(lines(pc({ hardware: hw, diskBusyHours: null }))).toEqual(['ssd:insufficient:0']);
    // An SSD without health figures is not guessed either way: no line (the site notes the unknown disk health).
    expect(lines(pc({ diskBusyHours: 100 }))).toEqual([]);
  });

  it('a failing disk is replaced whatever its type and score; a disk with old, stable bad sectors is not', () => {
    const disk = {
      device: 'sda',
      model: 'X',
      checks: 2,
      state: 'warning' as const,
      predictedFailure: false,
      badSectors: 8,
      badSectorsRise: 0,
      errorEvents: 0,
      wearPct: null,
      powerOnHours: null,
      failing: false,
    };
    expect(lines(pc({ diskHealth: [disk] }))).toEqual([]);
    const failing = pc({ diskHealth: [{ ...disk, badSectorsRise: 8, failing: true }] });
    expect(failing.recommendation).toBe('upgrade');
    expect(lines(failing)).toEqual(['ssd:priced:850000']);
  });

  it('a PC to replace: a new PC and nothing else; without enough of its month measured, not costed', () => {
    const hw = { ...pc({}).hardware!, cpuYear: 2011, ageClass: 'old' as const, ramGb: 4, diskType: 'HDD' as const, osSupported: false };
    const old = pc({ hardware: hw, freezes: 5, memPressurePct: 50, diskBusyHours: 30 });
    expect(old.recommendation).toBe('replace');
    expect(lines(old)).toEqual(['new_pc:priced:16500000']);
    const thin = pc({ hardware: hw, coveragePct: 10 });
    expect(thin.recommendation).toBe('replace');
    const l = pcCostLines('xa-a', thin, DEFAULT_METHOD, DEFAULT_COST_RULES, DEFAULT_PRICE_LIST, 2026);
    expect(l.map((x) => [x.item, x.status, x.costVnd])).toEqual([['new_pc', 'insufficient', 0]]);
    expect(l[0]!.evidence).toEqual([
      { key: 'age', value: 15 },
      { key: 'cpu_year', value: 2011 },
      { key: 'coverage', value: 10 },
    ]);
  });

  it('UPS: enough cuts → one per PC without a UPS; too few → none; a month without enough data → "không đủ số liệu"', () => {
    const site = (inWorkingHours: number, insufficientData: boolean, backups: boolean[]) =>
      ({
        site: 'xa-a',
        powerCuts: { count: inWorkingHours + 1, totalMs: 0, longestMs: 0, inWorkingHours, workingMs: inWorkingHours * 600_000 },
        availability: { insufficientData },
        hosts: backups.map((b, i) => pc({ host: `pc-${i}`, powerBackup: b })),
      }) as unknown as SiteReport;
    expect(siteUpsLine(site(2, false, [false, true, false]), DEFAULT_COST_RULES, DEFAULT_PRICE_LIST)).toMatchObject({ status: 'priced', quantity: 2, costVnd: 5_200_000 });
    expect(siteUpsLine(site(1, false, [false]), DEFAULT_COST_RULES, DEFAULT_PRICE_LIST)).toBeNull();
    expect(siteUpsLine(site(3, false, [true]), DEFAULT_COST_RULES, DEFAULT_PRICE_LIST)).toBeNull();
    expect(siteUpsLine(site(1, true, [false]), DEFAULT_COST_RULES, DEFAULT_PRICE_LIST)).toMatchObject({ status: 'insufficient', costVnd: 0 });
    // Cuts recorded in a thin month are facts: enough of them still call for UPS.
    expect(siteUpsLine(site(2, true, [false]), DEFAULT_COST_RULES, DEFAULT_PRICE_LIST)).toMatchObject({ status: 'priced', quantity: 1 });
  });

  it('an empty month: nothing priced, the report says why', () => {
    const b = coverageBundle('empty', 'vi');
    expect(b.sites[0]!.costs.lines.map((l) => [l.item, l.status, l.costVnd])).toEqual([['ups', 'insufficient', 0]]);
    expect(b.costs.totalVnd).toBe(0);
    const md = renderMarkdown(b);
    expect(md).toContain('| 1 | Toàn đơn vị | Trang bị bộ lưu điện (UPS) | không đủ số liệu về mất điện | – | 2.600.000 ₫ | không đủ số liệu |');
    expect(md).not.toContain('| Tổng cộng |');
    expect(md).toContain('1/1 máy chưa có số liệu sức khỏe ổ cứng trong tháng');
  });

  it('a normal month without problems: no line, "no proposal needs funding"', () => {
    const b = coverageBundle('normal', 'en');
    expect(b.sites[0]!.costs.lines).toEqual([]);
    expect(renderMarkdown(b)).toContain('No proposal needs funding this month.');
  });
});
