import { localTime } from '../schedule/working-hours.js';
import { buildReport, type ReportSources } from './report-builder.js';
import type { Lang, ReportBundle } from './report-model.js';
import { monthId, previousMonth } from './report-period.js';
import { REPORT_RENDERERS, type ReportFormat } from './report-renderers.js';

/**
 * One place that turns a request into a rendered report, for the CLI, the API route and
 * the monthly job: build from the sources, render in the asked format, name the file.
 */
export interface RenderedReport {
  bundle: ReportBundle;
  body: string;
  contentType: string;
  /** e.g. `canh-bao-cao-tan-phu-2026-11.html` */
  filename: string;
}

export interface ReportRenderRequest {
  site: string;
  month: string;
  format: ReportFormat;
  lang: Lang;
  generatedAt?: number | null;
}

export class ReportService {
  constructor(private readonly sources: ReportSources) {}

  render(req: ReportRenderRequest): RenderedReport {
    const bundle = buildReport({ site: req.site, month: req.month, lang: req.lang, generatedAt: req.generatedAt ?? null }, this.sources);
    return this.renderBundle(bundle, req.format);
  }

  renderBundle(bundle: ReportBundle, format: ReportFormat): RenderedReport {
    const r = REPORT_RENDERERS[format];
    const site = bundle.sites.length === 1 ? bundle.sites[0]!.site : 'all';
    const stem = bundle.lang === 'vi' ? 'canh-bao-cao' : 'canh-report';
    return { bundle, body: r.render(bundle), contentType: r.contentType, filename: `${stem}-${site}-${bundle.month}.${r.extension}` };
  }
}

/** The last complete month at `now` in `timezone` (what a report "for last month" means). */
export function lastCompleteMonth(now: number, timezone: string): string {
  const lt = localTime(now, timezone);
  return previousMonth({ id: monthId(lt.year, lt.month), year: lt.year, month: lt.month }).id;
}
