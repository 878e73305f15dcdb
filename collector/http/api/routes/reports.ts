import { z } from 'zod';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { accessOf, forbidSite } from '../auth/site-access.js';
import { Id, Lang } from '../query-schemas.js';
import { JobError } from '../../../jobs/job-errors.js';
import { UnknownSiteError } from '../../../report/report-builder.js';
import { parseMonth } from '../../../report/report-period.js';
import { REPORT_FORMATS } from '../../../report/report-renderers.js';
import { lastCompleteMonth, type ReportService } from '../../../report/report-service.js';

const ReportQuery = z
  .object({
    site: z.union([z.literal('all'), Id]),
    /** Default: the last complete month (Vietnam time). */
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
      .optional(),
    format: z.enum(REPORT_FORMATS).default('json'),
    lang: Lang,
  })
  .strict();

/**
 * `GET /api/reports?site=&month=YYYY-MM&format=json|md|html|csv&lang=vi|en` (docs/api.md):
 * the monthly report of one site or of every site (`site=all`), role `read`. JSON is the
 * report model; the other formats come with their content type, and CSV/HTML/Markdown
 * with a download file name.
 */
export function reportsRoutes(service: ReportService, opts: { timezone?: string } = {}): ApiModule {
  const tz = opts.timezone ?? 'Asia/Ho_Chi_Minh';
  return {
    name: 'reports',
    mount(router, ctx) {
      router.get('/reports', ctx.requireRole('read'), async (req, res) => {
        const q = ctx.parse(ReportQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        if (q.site === 'all' && !access.all) return sendError(res, 'forbidden', 'site=all is the report of every site: this token is scoped to some sites; ask for each of them');
        if (q.site !== 'all' && !access.allows(q.site)) return forbidSite(res, q.site);
        const month = q.month ?? lastCompleteMonth(ctx.clock.now(), tz);
        try {
          parseMonth(month);
        } catch (err) {
          return sendError(res, 'bad_request', 'invalid request', [`month: ${(err as Error).message}`]);
        }
        let out;
        try {
          // Built in a worker thread (collector/report/report-runner.ts): the loop only waits.
          out = await service.renderCached({ site: q.site, month, format: q.format, lang: q.lang }, ctx.clock.now());
        } catch (err) {
          if (err instanceof UnknownSiteError) return sendError(res, 'not_found', err.message);
          if (err instanceof JobError && err.retryable) {
            res.setHeader('Retry-After', '60');
            return sendError(res, 'unavailable', err.message);
          }
          throw err;
        }
        res.setHeader('Content-Type', out.contentType);
        if (q.format !== 'json') res.setHeader('Content-Disposition', `inline; filename="${out.filename}"`);
        res.send(out.body);
      });
    },
  };
}
