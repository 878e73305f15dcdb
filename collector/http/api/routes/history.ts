import { z } from 'zod';
import { HISTORY_METRICS, RESOLUTION_MS, RESOLUTIONS, type HistoryQuery, type HistoryReader, type Resolution } from '../../../store/history.js';
import { DEFAULT_MAX_POINTS, RAW_STEP_MS } from '../../../store/sqlite-history.js';
import { sendJsonText } from '../api-core.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { Id, RangeFields, resolveRange } from '../query-schemas.js';
import { accessOf, forbidSite } from '../auth/site-access.js';

/** An explicit resolution may not ask for more than this many points per series. */
export const MAX_POINTS_PER_SERIES = 10_000;

const HistoryQuery = z
  .object({
    site: Id,
    host: Id.optional(),
    metric: z.enum(HISTORY_METRICS),
    /** Series key: mount, interface, ping target or probe name (free text from the field). */
    key: z.string().min(1).max(256).optional(),
    ...RangeFields,
    resolution: z.enum([...RESOLUTIONS, 'auto']).default('auto'),
    /** What `auto` aims at per series. */
    maxPoints: z.coerce.number().int().min(10).max(2000).default(DEFAULT_MAX_POINTS),
  })
  .strict();

/** As the rollup path rounds: 3 decimals, integers from 100 up (finer than a chart shows). */
const round = (v: number) => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000);

export interface HistoryApiReader extends HistoryReader {
  chooseResolution(from: number, to: number, maxPoints?: number): Resolution;
  /** Fast path for rolled-up resolutions: points as JSON text. */
  seriesJson?(q: HistoryQuery & { resolution: Exclude<Resolution, 'raw'> }): Array<{ host: string; key: string; points: string }>;
}

/** `GET /api/history`: one metric for a host or a whole site, at a chosen or automatic resolution. */
export function historyRoutes(history: HistoryApiReader): ApiModule {
  return {
    name: 'history',
    mount(router, ctx) {
      router.get('/history', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(HistoryQuery, req.query, res);
        if (!q) return;
        if (!accessOf(res).allows(q.site)) return forbidSite(res, q.site);
        const range = resolveRange(q, ctx.clock.now());
        if (Array.isArray(range)) return sendError(res, 'bad_request', 'invalid range', range);
        if (q.resolution !== 'auto') {
          const step = q.resolution === 'raw' ? RAW_STEP_MS : RESOLUTION_MS[q.resolution];
          if ((range.to - range.from) / step > MAX_POINTS_PER_SERIES) {
            return sendError(res, 'bad_request', 'too many points', [
              `resolution: ${q.resolution} over this range gives more than ${MAX_POINTS_PER_SERIES} points per series; choose a coarser one or auto`,
            ]);
          }
        }
        const resolution = q.resolution === 'auto' ? history.chooseResolution(range.from, range.to, q.maxPoints) : q.resolution;
        const query = { site: q.site, host: q.host, metric: q.metric, key: q.key, ...range, maxPoints: q.maxPoints };
        const head = JSON.stringify({ metric: q.metric, resolution, from: range.from, to: range.to }).slice(0, -1);
        let parts: string[];
        if (resolution !== 'raw' && history.seriesJson) {
          parts = history.seriesJson({ ...query, resolution }).map((s) => `{"host":${JSON.stringify(s.host)},"key":${JSON.stringify(s.key)},"points":${s.points}}`);
        } else {
          parts = history
            .series({ ...query, resolution })
            .map((s) => JSON.stringify({ host: s.host, key: s.key, points: s.points.map((p) => [p.t, round(p.avg), round(p.min), round(p.max)]) }));
        }
        sendJsonText(res, `${head},"series":[${parts.join(',')}]}`);
      });
    },
  };
}
