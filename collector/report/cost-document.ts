import { COST_ITEMS, type CostLine, type SiteCosts } from './cost-estimate.js';
import { COST_TEXTS, evidenceText } from './cost-text.js';
import type { Block } from './report-document.js';
import { fmtNum, fmtVnd } from './report-format.js';
import type { Lang, ReportBundle, SiteReport } from './report-model.js';

/**
 * The cost estimate's blocks of the report (issue 17 point 3), for the Markdown and HTML
 * renderings: per site the priced recommendations with their evidence, the totals per item
 * and per PC; for several sites, the total of each site and of the province.
 */

const pcName = (l: Pick<CostLine, 'host' | 'hostname'>, whole: string) => (l.host === null ? whole : l.hostname && l.hostname !== l.host ? `${l.hostname} (${l.host})` : l.host);

function itemTotalsTable(costs: Pick<SiteCosts, 'byItem' | 'totalVnd'>, bundle: ReportBundle, lang: Lang): Block {
  const C = COST_TEXTS[lang];
  const prices = bundle.costs.prices;
  const unit = { new_pc: prices.newPc.vnd, ssd: prices.ssd.vnd, ram: prices.ramModule.vnd, ups: prices.ups.vnd };
  return {
    kind: 'table',
    head: [C.head.item, C.head.quantity, C.head.unitPrice, C.head.cost],
    numeric: [false, true, true, true],
    rows: [
      ...COST_ITEMS.filter((i) => costs.byItem[i].quantity > 0).map((i) => [
        C.item(i, prices),
        fmtNum(costs.byItem[i].quantity, 0, lang),
        fmtVnd(unit[i], lang),
        fmtVnd(costs.byItem[i].costVnd, lang),
      ]),
      [C.total, '', '', fmtVnd(costs.totalVnd, lang)],
    ],
  };
}

/** The site's cost section (its heading number given by the report). */
export function siteCostBlocks(r: SiteReport, bundle: ReportBundle, lang: Lang, number: number): Block[] {
  const C = COST_TEXTS[lang];
  const costs = r.costs;
  const prices = bundle.costs.prices;
  const b: Block[] = [
    { kind: 'heading', level: 3, text: `${number}. ${C.section}` },
    { kind: 'para', text: C.intro },
  ];
  if (costs.lines.length === 0) b.push({ kind: 'para', text: r.availability.insufficientData ? C.noneInsufficient : C.none });
  else {
    b.push({
      kind: 'table',
      head: [C.head.rank, C.head.pc, C.head.recommendation, C.head.evidence, C.head.quantity, C.head.unitPrice, C.head.cost],
      numeric: [true, false, false, false, true, true, true],
      rows: costs.lines.map((l, i) => [
        String(i + 1),
        pcName(l, C.wholeSite),
        C.item(l.item, prices),
        evidenceText(l, lang),
        l.status === 'priced' ? fmtNum(l.quantity, 0, lang) : '–',
        fmtVnd(l.unitVnd, lang),
        l.status === 'priced' ? fmtVnd(l.costVnd, lang) : C.insufficient,
      ]),
    });
    if (costs.totalVnd > 0) b.push(itemTotalsTable(costs, bundle, lang));
    if (costs.pcs.length > 0) {
      b.push({ kind: 'para', text: `${C.perPc}:` });
      b.push({
        kind: 'table',
        head: [C.head.pc, C.head.cost],
        numeric: [false, true],
        rows: costs.pcs.map((p) => [pcName(p, C.wholeSite), fmtVnd(p.costVnd, lang)]),
      });
    }
  }
  if (costs.pcsWithoutDiskHealth > 0) b.push({ kind: 'para', text: C.diskHealthUnknown(costs.pcsWithoutDiskHealth, r.hosts.length) });
  b.push({ kind: 'list', ordered: false, items: C.method(prices, bundle.costs.rules, bundle.method.saturationPct, lang) });
  return b;
}

/** For a report over several sites: each site's total and the province's, by item. */
export function overviewCostBlocks(bundle: ReportBundle, lang: Lang): Block[] {
  const C = COST_TEXTS[lang];
  return [
    { kind: 'heading', level: 2, text: C.overview },
    {
      kind: 'table',
      head: [C.head.site, ...COST_ITEMS.map((i) => C.item(i, bundle.costs.prices)), C.head.cost],
      numeric: [false, ...COST_ITEMS.map(() => true), true],
      rows: [
        ...bundle.sites.map((s) => [`${s.siteName} (${s.site})`, ...COST_ITEMS.map((i) => fmtNum(s.costs.byItem[i].quantity, 0, lang)), fmtVnd(s.costs.totalVnd, lang)]),
        [C.provinceTotal, ...COST_ITEMS.map((i) => fmtNum(bundle.costs.byItem[i].quantity, 0, lang)), fmtVnd(bundle.costs.totalVnd, lang)],
      ],
    },
    itemTotalsTable(bundle.costs, bundle, lang),
  ];
}
