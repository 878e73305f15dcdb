import { reportDocument, type Block } from './report-document.js';
import type { ReportBundle } from './report-model.js';
import { barChart, escapeXml } from './svg-chart.js';

/**
 * The report as one self-contained HTML file (inline CSS, inline SVG charts, no scripts, no
 * external resources): it opens offline, prints on A4 and goes out as an e-mail body.
 */
const CSS = `body{font-family:"Times New Roman",Times,"Noto Serif",serif;font-size:14px;color:#111;max-width:1000px;margin:24px auto;padding:0 16px;line-height:1.45}
h1{font-size:20px;text-align:center;margin:8px 0 16px}h2{font-size:17px;border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:32px}h3{font-size:15px;margin:20px 0 8px}
table{border-collapse:collapse;margin:8px 0 12px;width:100%}th,td{border:1px solid #999;padding:3px 6px;vertical-align:top}th{background:#eef2f7;text-align:left}td.n{text-align:right;white-space:nowrap}
table.fields td:first-child{width:55%;background:#fafafa}ol.notes{font-size:12px;color:#333}svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
@media print{body{margin:0}h2{page-break-before:auto}svg.chart,table{page-break-inside:avoid}}`;

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
        `<table><thead><tr>${b.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
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

export function renderHtml(bundle: ReportBundle): string {
  const blocks = reportDocument(bundle);
  const title = blocks[0]?.kind === 'title' ? blocks[0].text : 'Canh';
  return (
    `<!DOCTYPE html>\n<html lang="${bundle.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeXml(title)}</title><style>${CSS}</style></head><body>\n` +
    blocks.map(block).join('\n') +
    `\n</body></html>\n`
  );
}
