import { z } from 'zod';
import { LANGUAGES } from './notification.js';

/**
 * A monthly report (issue 7) as the notifier outbox carries it: one document per site and
 * month, already rendered by collector/report/ in one language. Each channel takes what it
 * can show (render.ts): e-mail the HTML report as the body, the short summary as the text
 * part and the CSV as an attachment; Zalo (Bot and OA) the summary; the webhook the summary,
 * the CSV figures and the API path of the full report. Same outbox, retries, rate limits,
 * idempotency and give-up records as alerts.
 */
export const REPORT_SUMMARY_MAX = 2000;

export const ReportMessageSchema = z.object({
  /** Idempotency key: `report:<site>:<YYYY-MM>` ({@link reportMessageId}). */
  id: z.string().min(1).max(256),
  site: z.string().min(1).max(128),
  siteName: z.string().max(200),
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'),
  createdAt: z.number(),
  /** The report's language (chosen by `report.schedule.lang`, not by the channel). */
  language: z.enum(LANGUAGES),
  subject: z.string().min(1).max(300),
  /** Self-contained HTML report (charts inline): the e-mail body. */
  html: z.string().min(1).max(8_000_000),
  /** Short summary (Zalo; the e-mail's plain-text part; the webhook's `text`). */
  summary: z.string().min(1).max(REPORT_SUMMARY_MAX),
  /** The report's figures as CSV (UTF-8; a BOM is added for the attachment when missing). */
  csv: z.string().max(8_000_000),
  csvFilename: z.string().min(1).max(200),
  /** Channel names; omitted = every enabled channel. */
  channels: z.array(z.string().min(1).max(64)).max(32).optional(),
});
export type ReportMessage = z.output<typeof ReportMessageSchema>;

export function reportMessageId(site: string, month: string): string {
  return `report:${site}:${month}`;
}

/**
 * What the webhook carries of a report: the summary, the figures (the CSV: section, site,
 * item, metric, value, unit) and the REST path of the full report (docs/api.md), not the
 * HTML (hundreds of KB that a receiver can fetch with an API token).
 */
export function webhookReport(r: ReportMessage): Record<string, unknown> {
  const q = new URLSearchParams({ site: r.site, month: r.month, format: 'html', lang: r.language });
  return { id: r.id, site: r.site, siteName: r.siteName, month: r.month, summary: r.summary, csvFilename: r.csvFilename, csv: r.csv, path: `/api/reports?${q.toString()}` };
}
