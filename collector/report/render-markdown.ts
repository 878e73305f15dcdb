import { reportDocument, type Block } from './report-document.js';
import type { ReportBundle } from './report-model.js';

/**
 * The report as Markdown, for pasting into the commune's periodic report (tables in GFM
 * syntax). Charts are left out: their data is in the tables and in the CSV.
 */
const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function block(b: Block): string | null {
  switch (b.kind) {
    case 'title':
      return `# ${b.text}`;
    case 'heading':
      return `${'#'.repeat(b.level)} ${b.text}`;
    case 'para':
      return b.text;
    case 'fields':
      return ['| | |', '|---|---|', ...b.rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`)].join('\n');
    case 'table':
      return [`| ${b.head.map(cell).join(' | ')} |`, `|${b.numeric.map((n) => (n ? '---:' : '---')).join('|')}|`, ...b.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
        '\n',
      );
    case 'chart':
      return null;
    case 'list':
      return b.items.map((i, k) => (b.ordered ? `${k + 1}. ${i}` : `- ${i}`)).join('\n');
    case 'footnotes':
      return b.items.map((i, k) => `${k + 1}. ${i}`).join('\n');
  }
}

export function renderMarkdown(bundle: ReportBundle): string {
  return `${reportDocument(bundle)
    .map(block)
    .filter((s): s is string => s !== null)
    .join('\n\n')}\n`;
}
