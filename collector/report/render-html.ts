import { reportDocument, type Block } from './report-document.js';
import type { ReportBundle } from './report-model.js';
import { fmtMonth } from './report-format.js';
import { REPORT_TEXTS } from './report-text.js';
import { barChart, escapeXml } from './svg-chart.js';

/**
 * The report as one self-contained HTML file (inline CSS, inline SVG charts, no scripts, no
 * external resources): it opens offline, prints on A4 and goes out as an e-mail body. Served
 * under the collector's CSP (`style-src 'self' 'unsafe-inline'`, no inline script), so
 * everything the printout needs is CSS.
 */
const SCREEN_CSS = `body{font-family:"Times New Roman",Times,"Noto Serif",serif;font-size:14px;color:#111;max-width:1000px;margin:24px auto;padding:0 16px;line-height:1.45}
h1{font-size:20px;text-align:center;margin:8px 0 16px}h2{font-size:17px;border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:20px 0 8px}
table{border-collapse:collapse;margin:8px 0 12px;width:100%}th,td{border:1px solid #999;padding:3px 6px;vertical-align:top}th{background:#eef2f7;text-align:left}td.n{text-align:right;white-space:nowrap}
table.fields td:first-child{width:55%;background:#fafafa}ol.notes{font-size:12px;color:#333}svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
table.pcs th,table.pcs td{overflow-wrap:anywhere}
table.sheet,table.sheet>tbody,table.sheet>tbody>tr,table.sheet>tbody>tr>td{display:block;border:0;padding:0;margin:0}table.sheet>thead{display:none}`;

/**
 * Print → PDF on A4 portrait (issue 13 item 6). The running head (unit and month) is the
 * header group of a CSS table wrapping the whole report: Chromium and Firefox repeat a
 * table's header group at the top of every page it spans, where `position: running()` is
 * not implemented and a fixed element would cover the text. The wide PC table wraps inside
 * the 186 mm of the page (smaller type, words broken anywhere); rows, charts and the small
 * field tables are never split, headings stay with what follows, backgrounds go.
 */
const PRINT_CSS = `@page{size:A4 portrait;margin:12mm 12mm 14mm}
@page{@bottom-right{content:counter(page) " / " counter(pages);font-family:"Times New Roman",Times,"Noto Serif",serif;font-size:9pt;color:#444}}
@media print{body{max-width:none;margin:0;padding:0;font-size:10.5pt;line-height:1.3;color:#000;background:none}
table.sheet{display:table;width:100%;margin:0}table.sheet>thead{display:table-header-group}table.sheet>tbody{display:table-row-group}table.sheet>tbody>tr{display:table-row}table.sheet>tbody>tr>td{display:table-cell}table.sheet>*>tr>*{border:0;padding:0;font-size:inherit;font-weight:normal;text-align:left}
.running-head{display:flex;justify-content:space-between;gap:12px;font-size:9pt;color:#333;border-bottom:0.5pt solid #666;padding-bottom:2pt;margin-bottom:6pt}
h1{font-size:14pt;margin:0 0 10pt}h2{font-size:12.5pt;margin-top:14pt;border-bottom-color:#000}h3{font-size:11pt;margin:10pt 0 4pt}
h1,h2,h3{break-after:avoid;page-break-after:avoid}h2,h3{break-inside:avoid}
table{font-size:9pt;margin:4pt 0 8pt}th,td{padding:1.5pt 3pt}th,table.fields td:first-child{background:none}thead{display:table-header-group}
tr,th,td{break-inside:avoid;page-break-inside:avoid}table.fields,svg.chart{break-inside:avoid;page-break-inside:avoid}
table.sheet>tbody>tr,table.sheet>tbody>tr>td{break-inside:auto;page-break-inside:auto}
table.pcs{font-size:7.5pt;table-layout:auto}table.pcs td.n{white-space:normal}
p{orphans:3;widows:3}ol.notes{font-size:8.5pt;color:#000}svg.chart{margin:4pt 0}}`;

function block(b: Block): string {
  switch (b.kind) {
    case 'title':
      return `<h1>${escapeXml(b.text)}</h1>`;
    case 'heading':
      return `<h${b.level}>${escapeXml(b.text)}</h${b.level}>`;
    case 'para':
      return `<p>${escapeXml(b.text)}</p>`;
    case 'fields':
      return `<table class="fields"><tbody>${b.rows.map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`).join('')}</tbody></table>`;
    case 'table':
      return (
        `<table${b.name ? ` class="${b.name}"` : ''}><thead><tr>${b.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
        b.rows.map((r) => `<tr>${r.map((c, i) => `<td${b.numeric[i] ? ' class="n"' : ''}>${escapeXml(c)}</td>`).join('')}</tr>`).join('') +
        `</tbody></table>`
      );
    case 'chart':
      return barChart(b.chart);
    case 'list': {
      const tag = b.ordered ? 'ol' : 'ul';
      return `<${tag}>${b.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</${tag}>`;
    }
    case 'footnotes':
      return `<ol class="notes">${b.items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ol>`;
  }
}

/** The unit and month printed at the top of every page. */
function runningHead(bundle: ReportBundle): string {
  const T = REPORT_TEXTS[bundle.lang];
  const unit = bundle.sites.length === 1 ? bundle.sites[0]!.siteName : T.severalUnits(bundle.sites.length);
  return `<div class="running-head"><span>${escapeXml(unit)}</span><span>${escapeXml(T.runningHead(fmtMonth(bundle.month, bundle.lang)))}</span></div>`;
}

export function renderHtml(bundle: ReportBundle): string {
  const blocks = reportDocument(bundle);
  const title = blocks[0]?.kind === 'title' ? blocks[0].text : 'Canh';
  return (
    `<!DOCTYPE html>\n<html lang="${bundle.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeXml(title)}</title><style>${SCREEN_CSS}\n${PRINT_CSS}</style></head><body>\n` +
    `<table class="sheet"><thead><tr><th>${runningHead(bundle)}</th></tr></thead><tbody><tr><td>\n` +
    blocks.map(block).join('\n') +
    `\n</td></tr></tbody></table>\n</body></html>\n`
  );
}
