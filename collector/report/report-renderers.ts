import type { ReportBundle } from './report-model.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';

/** Output formats of the report (one renderer per file, one line here). */
export const REPORT_FORMATS = ['md', 'html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportRenderer {
  contentType: string;
  extension: string;
  render(bundle: ReportBundle): string;
}

export const REPORT_RENDERERS: Record<ReportFormat, ReportRenderer> = {
  md: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: renderMarkdown },
  html: { contentType: 'text/html; charset=utf-8', extension: 'html', render: renderHtml },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv', render: renderCsv },
  // The model's key order is fixed by construction, so this is byte-stable.
  json: { contentType: 'application/json; charset=utf-8', extension: 'json', render: (b) => `${JSON.stringify(b, null, 2)}\n` },
};
