import type { ReportBundle } from './report-model.js';
import { renderBudgetCsv } from './render-budget-csv.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';

/** Output formats of the report (one renderer per file, one line here). */
export const REPORT_FORMATS = ['md', 'html', 'csv', 'json', 'budget'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportRenderer {
  contentType: string;
  extension: string;
  render(bundle: ReportBundle): string;
  /** File name stem per language, when not the report's own (`canh-bao-cao` / `canh-report`). */
  stem?: Record<'vi' | 'en', string>;
}

export const REPORT_RENDERERS: Record<ReportFormat, ReportRenderer> = {
  md: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: renderMarkdown },
  html: { contentType: 'text/html; charset=utf-8', extension: 'html', render: renderHtml },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv', render: renderCsv },
  // The model's key order is fixed by construction, so this is byte-stable.
  // The cost estimate alone, one row per recommendation: the annex of a budget request (issue 17 point 3).
  budget: { contentType: 'text/csv; charset=utf-8', extension: 'csv', render: renderBudgetCsv, stem: { vi: 'canh-du-toan', en: 'canh-budget' } },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json', render: (b) => `${JSON.stringify(b, null, 2)}\n` },
};
