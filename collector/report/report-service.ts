import { localTime } from '../sites/schedule/working-hours.js';
import { buildReport, type ReportSources } from './report-builder.js';
import type { Lang, ReportBundle } from './report-model.js';
import { monthId, previousMonth } from './report-period.js';
import { REPORT_RENDERERS, type ReportFormat } from './report-renderers.js';
import { InlineReportRunner, type ReportFile, type ReportRunner, type ReportRunRequest, type ReportRunResult } from './report-runner.js';

/**
 * One place that turns a request into a rendered report, for the CLI, the API route and
 * the monthly job: build from the sources, render in the asked format, name the file.
 */
export interface RenderedReport extends ReportFile {
  bundle: ReportBundle;
}

export interface ReportRenderRequest {
  site: string;
  month: string;
  format: ReportFormat;
  lang: Lang;
  generatedAt?: number | null;
}

/** Rendered reports kept for repeated requests (a province report takes about a minute). */
export const REPORT_CACHE_ENTRIES = 16;
export const REPORT_CACHE_MS = 10 * 60_000;

export class ReportService {
  private readonly cache = new Map<string, { at: number; out: ReportFile }>();
  /** Builds in progress, so a repeated request waits for the same build. */
  private readonly building = new Map<string, Promise<ReportFile>>();
  /** Cached answers given, and entries evicted because the cache was full. */
  cacheHits = 0;
  cacheEvictions = 0;
  /** Where reports are built: a worker thread in the collector, in-process by default. */
  readonly runner: ReportRunner;

  constructor(
    private readonly sources: ReportSources,
    deps: { runner?: ReportRunner } = {},
  ) {
    this.runner = deps.runner ?? new InlineReportRunner(this);
  }

  /**
   * One report through the {@link runner} and a small cache (at most
   * {@link REPORT_CACHE_ENTRIES}, each for {@link REPORT_CACHE_MS}): the API answers a
   * repeated request without recomputing the month, and concurrent identical requests
   * share one build.
   */
  async renderCached(req: ReportRenderRequest, now: number): Promise<ReportFile> {
    const key = JSON.stringify([req.site, req.month, req.format, req.lang, req.generatedAt ?? null]);
    const hit = this.cache.get(key);
    if (hit && now - hit.at < REPORT_CACHE_MS && now >= hit.at) {
      this.cacheHits++;
      return hit.out;
    }
    const pending = this.building.get(key);
    if (pending) {
      this.cacheHits++;
      return pending;
    }
    const build = this.runner
      .run({ site: req.site, month: req.month, lang: req.lang, generatedAt: req.generatedAt ?? null, formats: [req.format] })
      .then((r) => {
        const out = r.files[0]!;
        this.cache.delete(key);
        this.cache.set(key, { at: now, out });
        while (this.cache.size > REPORT_CACHE_ENTRIES) {
          this.cache.delete(this.cache.keys().next().value!);
          this.cacheEvictions++;
        }
        return out;
      })
      .finally(() => this.building.delete(key));
    this.building.set(key, build);
    return build;
  }

  /** Build once and render in each asked format, synchronously (what a runner executes). */
  run(req: ReportRunRequest): ReportRunResult {
    const bundle = buildReport({ site: req.site, month: req.month, lang: req.lang, generatedAt: req.generatedAt ?? null }, this.sources);
    const files = req.formats.map((f) => {
      const { bundle: _b, ...file } = this.renderBundle(bundle, f);
      return file;
    });
    return req.withBundle ? { files, bundle } : { files };
  }

  render(req: ReportRenderRequest): RenderedReport {
    const bundle = buildReport({ site: req.site, month: req.month, lang: req.lang, generatedAt: req.generatedAt ?? null }, this.sources);
    return this.renderBundle(bundle, req.format);
  }

  renderBundle(bundle: ReportBundle, format: ReportFormat): RenderedReport {
    const r = REPORT_RENDERERS[format];
    const site = bundle.sites.length === 1 ? bundle.sites[0]!.site : 'all';
    const stem = r.stem?.[bundle.lang] ?? (bundle.lang === 'vi' ? 'canh-bao-cao' : 'canh-report');
    return { bundle, body: r.render(bundle), contentType: r.contentType, filename: `${stem}-${site}-${bundle.month}.${r.extension}` };
  }
}

/** The last complete month at `now` in `timezone` (what a report "for last month" means). */
export function lastCompleteMonth(now: number, timezone: string): string {
  const lt = localTime(now, timezone);
  return previousMonth({ id: monthId(lt.year, lt.month), year: lt.year, month: lt.month }).id;
}
