import { z } from 'zod';
import { ID_PATTERN } from '../../../../contract/topics.js';
import type { OutageCountReader, OutageReader } from '../../../outage/outage-types.js';
import type { ApiContext, ApiModule } from '../api-module.js';
import { accessOf, forbidSite } from '../auth/site-access.js';

/** docs/api.md: ranges default to the last hour and span at most 31 days; limit 1..1000 (100). */
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
export const MAX_RANGE_MS = 31 * DAY_MS;
/** Counts per week/month need longer ranges than lists: at most a year (a monthly report over 12 months). */
export const MAX_COUNT_RANGE_MS = 366 * DAY_MS;

const id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');
const epochMs = z.coerce.number().int('must be an integer epoch-ms').min(0).max(4_102_444_800_000);
const limit = z.coerce.number().int().min(1).max(1000).default(100);
const cursor = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

function ranged<T extends { from?: number | undefined; to?: number | undefined }>(maxMs: number, now: () => number) {
  return (q: T, ctx: z.RefinementCtx) => {
    const to = q.to ?? now();
    const from = q.from ?? to - HOUR_MS;
    if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after `to`' });
    else if (to - from > maxMs) ctx.addIssue({ code: 'custom', path: ['to'], message: `range longer than ${Math.round(maxMs / DAY_MS)} days` });
  };
}

export interface OutageApiDeps {
  outages: OutageReader & OutageCountReader;
  /** Time zone of the calendar for counts (a site's working-hours zone; Asia/Ho_Chi_Minh). */
  timezone: (site: string | undefined) => string;
}

/**
 * `GET /api/incidents`, `/api/incidents/counts`, `/api/incidents/:id`, `/api/outages`
 * (docs/api.md, role `read`): site incidents and host outages, newest first, paged by id.
 */
export function outageRoutes(deps: OutageApiDeps): ApiModule {
  return {
    name: 'outages',
    mount(router, ctx: ApiContext) {
      const now = () => ctx.clock.now();
      const listFields = { site: id.optional(), from: epochMs.optional(), to: epochMs.optional(), limit, before: cursor.optional() };
      const listQuery = z.object(listFields).strict().superRefine(ranged(MAX_RANGE_MS, now));
      const outageQuery = z
        .object({ ...listFields, host: id.optional() })
        .strict()
        .superRefine(ranged(MAX_RANGE_MS, now));
      const countQuery = z
        .object({
          site: id.optional(),
          period: z.enum(['day', 'week', 'month']).default('day'),
          from: epochMs.optional(),
          to: epochMs.optional(),
        })
        .strict()
        .superRefine(ranged(MAX_COUNT_RANGE_MS, now));
      const idParam = z.object({ id: cursor }).strict();

      const window = (q: { from?: number | undefined; to?: number | undefined }) => {
        const to = q.to ?? now();
        return { from: q.from ?? to - HOUR_MS, to };
      };

      router.get('/incidents/counts', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(countQuery, req.query, res);
        if (!q) return;
        const filter = accessOf(res).filter(q.site);
        if (filter === 'forbidden') return forbidSite(res, q.site!);
        const { from, to } = window(q);
        res.json({ counts: deps.outages.counts({ ...filter, period: q.period, from, to, timezone: deps.timezone(q.site) }) });
      });

      router.get('/incidents/:id', ctx.requireRole('read'), (req, res) => {
        const p = ctx.parse(idParam, req.params, res);
        if (!p) return;
        const incident = deps.outages.incident(p.id);
        // Another site's incident is as unknown as a missing one: ids do not reveal other sites' incidents.
        if (!incident || !accessOf(res).allows(incident.site)) {
          res.status(404).json({ error: 'not_found', message: `Không tìm thấy sự cố ${p.id}` });
          return;
        }
        res.json({ incident });
      });

      router.get('/incidents', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(listQuery, req.query, res);
        if (!q) return;
        const filter = accessOf(res).filter(q.site);
        if (filter === 'forbidden') return forbidSite(res, q.site!);
        const incidents = deps.outages.incidents({ ...filter, ...window(q), limit: q.limit, before: q.before });
        res.json({ incidents, next: incidents.length === q.limit ? incidents[incidents.length - 1]!.id : null });
      });

      router.get('/outages', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(outageQuery, req.query, res);
        if (!q) return;
        const filter = accessOf(res).filter(q.site);
        if (filter === 'forbidden') return forbidSite(res, q.site!);
        const outages = deps.outages.hostOutages({ ...filter, host: q.host, ...window(q), limit: q.limit, before: q.before });
        res.json({ outages, next: outages.length === q.limit ? outages[outages.length - 1]!.id : null });
      });
    },
  };
}
