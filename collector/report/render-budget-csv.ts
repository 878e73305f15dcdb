import { COST_TEXTS, evidenceText } from './cost-text.js';
import type { Lang, ReportBundle } from './report-model.js';
import { CSV_BOM, csvSeparator, num, quote } from './render-csv.js';

/**
 * The cost estimate as the annex of a budget request (issue 17 point 3): one row per
 * recommendation (site, PC, what, the evidence in words and as figures, quantity, unit
 * price, cost), for Excel like the report's CSV (UTF-8 with a BOM, CRLF, `;` and `,` for
 * Vietnamese). Amounts are whole đồng without grouping so the sheet can sum them; a
 * recommendation without enough data has an empty quantity and cost and says so.
 */
const HEAD: Record<Lang, string[]> = {
  vi: ['Mã đơn vị', 'Đơn vị', 'Mã máy', 'Tên máy', 'Đề xuất', 'Căn cứ', 'Số liệu', 'Số lượng', 'Đơn giá (đồng)', 'Thành tiền (đồng)', 'Ghi chú'],
  en: ['site', 'site_name', 'host', 'hostname', 'recommendation', 'evidence', 'figures', 'quantity', 'unit_price_vnd', 'cost_vnd', 'note'],
};

export function renderBudgetCsv(bundle: ReportBundle): string {
  const lang = bundle.lang;
  const C = COST_TEXTS[lang];
  const sep = csvSeparator(lang);
  const lines = [HEAD[lang].map((h) => quote(h, sep)).join(sep)];
  for (const r of bundle.sites) {
    for (const l of r.costs.lines) {
      const priced = l.status === 'priced';
      const figures = l.evidence.map((e) => `${e.key}=${e.value === null ? '' : typeof e.value === 'number' ? num(e.value, lang) : e.value}`).join(' ');
      lines.push(
        [
          quote(r.site, sep),
          quote(r.siteName, sep),
          quote(l.host ?? '', sep),
          quote(l.host === null ? C.wholeSite : (l.hostname ?? l.host), sep),
          quote(C.item(l.item, bundle.costs.prices), sep),
          quote(evidenceText(l, lang), sep),
          quote(figures, sep),
          priced ? String(l.quantity) : '',
          String(l.unitVnd),
          priced ? String(l.costVnd) : '',
          quote(priced ? '' : C.insufficient, sep),
        ].join(sep),
      );
    }
  }
  return CSV_BOM + lines.join('\r\n') + '\r\n';
}
