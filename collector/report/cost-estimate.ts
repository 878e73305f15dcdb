import { pcInsufficient } from './known-figures.js';
import type { CostRules, PriceList } from './price-list.js';
import type { PcHealth, ReportMethod, SiteReport } from './report-model.js';

/**
 * The budget request with numbers (issue 17 point 3): the report's recommendations priced
 * with the province's price list (`report.prices`), each citing the figures it rests on,
 * per PC, per site and for every site of the report (the province for `all`).
 *
 * True or unknown (issue 13 item 6): nothing is priced without its evidence. Where the
 * figure that decides an item is missing (an agent without disk activity or memory
 * pressure, a PC or month under the coverage threshold), the item is listed as
 * `insufficient` ("không đủ số liệu") at no cost, never guessed either way.
 *
 * Rules, per PC:
 * - `new_pc`: the PC's replacement score proposes replacing it (collector/report/
 *   replacement-score.ts: old CPU and enough points), with enough of its working time
 *   measured; it then needs nothing else.
 * - `ssd`: a disk failing by its health checks (failure predicted, bad sectors rising, disk
 *   errors: the `disk_failing` evidence), or an HDD system disk busy (≥ the saturation
 *   threshold) for `costRules.diskBusyHours` working hours or more.
 * - `ram`: under 8 GB of RAM and short of memory (paging or PSI) for `costRules.memShortagePct`
 *   of its working time or more, or memory saturated for an hour or more.
 * Per site:
 * - `ups`: `costRules.upsPowerCuts` power cuts or more in working hours; one per PC that has
 *   not reported running on battery (a PC with a UPS or a battery reports `power_source`).
 */
export type CostItem = 'new_pc' | 'ssd' | 'ram' | 'ups';
export const COST_ITEMS: readonly CostItem[] = ['new_pc', 'ssd', 'ram', 'ups'];

/** One figure behind a recommendation; `value` null: the figure is not known. */
export interface CostEvidence {
  key: string;
  value: number | string | null;
}

export interface CostLine {
  site: string;
  /** The PC (null for a site item: UPS). */
  host: string | null;
  hostname: string | null;
  item: CostItem;
  /** `priced`: the evidence holds; `insufficient`: the deciding figures are missing, not costed. */
  status: 'priced' | 'insufficient';
  evidence: CostEvidence[];
  quantity: number;
  unitVnd: number;
  /** quantity × unit price; 0 when `insufficient`. */
  costVnd: number;
}

export interface ItemTotal {
  quantity: number;
  costVnd: number;
}

export interface PcCost {
  host: string;
  hostname: string;
  costVnd: number;
}

export interface SiteCosts {
  lines: CostLine[];
  /** PCs with a priced line, with their cost, most expensive first. */
  pcs: PcCost[];
  byItem: Record<CostItem, ItemTotal>;
  totalVnd: number;
  /** PCs of the site whose disk health is unknown (no check in the month: an older agent, or not available). */
  pcsWithoutDiskHealth: number;
}

/** The prices and rules used, and the total over every site of the report. */
export interface CostEstimate {
  prices: PriceList;
  rules: CostRules;
  byItem: Record<CostItem, ItemTotal>;
  totalVnd: number;
  /** Sites with a priced line. */
  sites: number;
}

const emptyTotals = (): Record<CostItem, ItemTotal> => ({
  new_pc: { quantity: 0, costVnd: 0 },
  ssd: { quantity: 0, costVnd: 0 },
  ram: { quantity: 0, costVnd: 0 },
  ups: { quantity: 0, costVnd: 0 },
});

function unitPrice(item: CostItem, prices: PriceList): number {
  switch (item) {
    case 'new_pc':
      return prices.newPc.vnd;
    case 'ssd':
      return prices.ssd.vnd;
    case 'ram':
      return prices.ramModule.vnd;
    case 'ups':
      return prices.ups.vnd;
  }
}

/** Evidence items of the replacement score that justify a new PC (hardware and the month's figures). */
function replacementEvidence(pc: PcHealth, year: number): CostEvidence[] {
  const out: CostEvidence[] = [];
  const hw = pc.hardware;
  if (hw?.cpuYear) out.push({ key: 'age', value: year - hw.cpuYear }, { key: 'cpu_year', value: hw.cpuYear });
  for (const s of pc.scoreItems) {
    if (s.key === 'cpu_old' || s.key === 'cpu_ageing') continue;
    if (s.key === 'ram_low') out.push({ key: 'ram_gb', value: s.value });
    else if (s.key === 'hdd') out.push({ key: 'disk_type', value: 'HDD' });
    else if (s.key === 'disk_failing') out.push(...diskFailingEvidence(pc));
    else out.push({ key: s.key, value: s.value });
  }
  return out;
}

function diskFailingEvidence(pc: PcHealth): CostEvidence[] {
  const d = pc.diskHealth?.find((x) => x.failing);
  if (!d) return [];
  const out: CostEvidence[] = [];
  if (d.predictedFailure) out.push({ key: 'predicted_failure', value: d.model ? `${d.model} (${d.device})` : d.device });
  if (d.badSectors !== null && d.badSectors > 0) out.push({ key: 'bad_sectors', value: d.badSectors });
  if (d.badSectorsRise !== null && d.badSectorsRise > 0) out.push({ key: 'bad_sectors_rise', value: d.badSectorsRise });
  if (d.errorEvents > 0) out.push({ key: 'disk_errors', value: d.errorEvents });
  return out;
}

/** The lines of one PC (none when nothing is proposed or nothing is in question). */
export function pcCostLines(site: string, pc: PcHealth, method: ReportMethod, rules: CostRules, prices: PriceList, year: number): CostLine[] {
  const line = (item: CostItem, status: CostLine['status'], evidence: CostEvidence[]): CostLine => {
    const unit = unitPrice(item, prices);
    return { site, host: pc.host, hostname: pc.hostname, item, status, evidence, quantity: 1, unitVnd: unit, costVnd: status === 'priced' ? unit : 0 };
  };
  const thin = pcInsufficient(pc.coveragePct, method.minCoveragePct);
  const hw = pc.hardware;
  if (pc.recommendation === 'replace') {
    // Replacing rests on what the PC did in the month as well as on its age: not without its figures.
    if (thin)
      return [
        line('new_pc', 'insufficient', [...replacementEvidence(pc, year).filter((e) => e.key === 'age' || e.key === 'cpu_year'), { key: 'coverage', value: pc.coveragePct }]),
      ];
    return [line('new_pc', 'priced', replacementEvidence(pc, year))];
  }
  const out: CostLine[] = [];
  const failing = diskFailingEvidence(pc);
  if (failing.length > 0) out.push(line('ssd', 'priced', failing));
  else if (hw?.diskType === 'HDD') {
    if (pc.diskBusyHours === null)
      out.push(
        line('ssd', 'insufficient', [
          { key: 'disk_type', value: 'HDD' },
          { key: 'disk_busy', value: null },
        ]),
      );
    else if (pc.diskBusyHours >= rules.diskBusyHours)
      out.push(
        line('ssd', 'priced', [
          { key: 'disk_type', value: 'HDD' },
          { key: 'disk_busy', value: pc.diskBusyHours },
        ]),
      );
  }
  if (hw?.ramGb != null && hw.ramGb < 7.9) {
    const ram: CostEvidence = { key: 'ram_gb', value: hw.ramGb };
    const pressure = pc.memPressurePct !== null && pc.memPressurePct >= rules.memShortagePct;
    const saturated = pc.memSaturatedHours >= 1;
    if (pressure || saturated) {
      out.push(
        line('ram', 'priced', [
          ram,
          ...(pressure ? [{ key: 'mem_pressure', value: pc.memPressurePct }] : []),
          ...(saturated ? [{ key: 'mem_saturated', value: pc.memSaturatedHours }] : []),
        ]),
      );
    } else if (pc.memPressurePct === null || thin) {
      out.push(line('ram', 'insufficient', [ram, { key: 'mem_pressure', value: thin ? null : pc.memPressurePct }]));
    }
  }
  return out;
}

/** The site's UPS line, when power cuts call for one or the month has too little data to tell. */
export function siteUpsLine(r: Pick<SiteReport, 'site' | 'powerCuts' | 'availability' | 'hosts'>, rules: CostRules, prices: PriceList): CostLine | null {
  const base = { site: r.site, host: null, hostname: null, item: 'ups' as const, unitVnd: prices.ups.vnd };
  const cuts = r.powerCuts;
  if (r.availability.insufficientData && cuts.inWorkingHours < rules.upsPowerCuts) {
    // Too little data to say the site has few cuts.
    return { ...base, status: 'insufficient', evidence: [{ key: 'power_cuts', value: cuts.count > 0 ? cuts.count : null }], quantity: 0, costVnd: 0 };
  }
  if (cuts.inWorkingHours < rules.upsPowerCuts) return null;
  const without = r.hosts.filter((h) => !h.powerBackup).length;
  if (without === 0) return null;
  return {
    ...base,
    status: 'priced',
    evidence: [
      { key: 'power_cuts', value: cuts.count },
      { key: 'power_cuts_working', value: cuts.inWorkingHours },
      { key: 'power_cut_working_min', value: Math.round(cuts.workingMs / 60_000) },
      { key: 'pcs_without_backup', value: without },
    ],
    quantity: without,
    costVnd: without * prices.ups.vnd,
  };
}

/** Every line of a site, PCs in the report's order then the site's UPS, with the totals. */
export function siteCosts(
  r: Pick<SiteReport, 'site' | 'powerCuts' | 'availability' | 'hosts'>,
  method: ReportMethod,
  rules: CostRules,
  prices: PriceList,
  year: number,
): SiteCosts {
  const lines = r.hosts.flatMap((pc) => pcCostLines(r.site, pc, method, rules, prices, year));
  const ups = siteUpsLine(r, rules, prices);
  if (ups) lines.push(ups);
  const byItem = emptyTotals();
  const perPc = new Map<string, PcCost>();
  for (const l of lines) {
    if (l.status !== 'priced') continue;
    byItem[l.item].quantity += l.quantity;
    byItem[l.item].costVnd += l.costVnd;
    if (l.host !== null) {
      const p = perPc.get(l.host) ?? { host: l.host, hostname: l.hostname ?? l.host, costVnd: 0 };
      p.costVnd += l.costVnd;
      perPc.set(l.host, p);
    }
  }
  return {
    lines,
    pcs: [...perPc.values()].sort((a, b) => b.costVnd - a.costVnd || a.host.localeCompare(b.host)),
    byItem,
    totalVnd: COST_ITEMS.reduce((s, i) => s + byItem[i].costVnd, 0),
    pcsWithoutDiskHealth: r.hosts.filter((h) => h.diskHealth === null).length,
  };
}

/** The total over the report's sites. */
export function costEstimate(sites: ReadonlyArray<{ costs: SiteCosts }>, rules: CostRules, prices: PriceList): CostEstimate {
  const byItem = emptyTotals();
  for (const s of sites) {
    for (const i of COST_ITEMS) {
      byItem[i].quantity += s.costs.byItem[i].quantity;
      byItem[i].costVnd += s.costs.byItem[i].costVnd;
    }
  }
  return { prices, rules, byItem, totalVnd: COST_ITEMS.reduce((s, i) => s + byItem[i].costVnd, 0), sites: sites.filter((s) => s.costs.totalVnd > 0).length };
}
