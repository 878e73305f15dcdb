import { z } from 'zod';
import { diagnoseFreeze, type FreezeDiagnosisParams } from '../../../diagnosis/freeze-cause.js';
import type { EventQuery } from '../../../store/sqlite-event-query.js';
import type { Store } from '../../../store/store.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { accessOf, forbidSite } from '../auth/site-access.js';
import { EpochMs, Id, Lang, MAX_RANGE_MS } from '../query-schemas.js';

/** Default range of the host page: the last 7 days. */
const DEFAULT_FREEZE_RANGE_MS = 7 * 86_400_000;
/**
 * Bounds of the reads behind one answer, on the event loop: ≤ 50 freezes, each the samples of
 * its window and up to 2 minutes after it (the one whose interval covers it), ~20 at 15 s.
 */
const MAX_FREEZES = 50;
const AFTER_MS = 120_000;
const SAMPLES_PER_FREEZE = 200;
const MAX_DISK_CHECKS = 500;
const PROCESSES_SHOWN = 5;

const HostParams = z.object({ site: Id, host: Id }).strict();
const FreezesQuery = z
  .object({
    from: EpochMs.optional(),
    to: EpochMs.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_FREEZES).default(20),
    lang: Lang,
  })
  .strict();

export interface FreezesRoutesDeps {
  store: Store;
  events: EventQuery;
  params: FreezeDiagnosisParams;
}

/**
 * `GET /api/hosts/:site/:host/freezes` (issue 17 point 2): the PC's freezes, newest first,
 * each with its likely cause and the figures behind it (collector/diagnosis/freeze-cause.ts)
 * and the top processes listed after it. Site scopes apply (accessOf).
 */
export function freezesRoutes(deps: FreezesRoutesDeps): ApiModule {
  const { store, events, params } = deps;
  return {
    name: 'freezes',
    mount(router, ctx) {
      router.get('/hosts/:site/:host/freezes', ctx.requireRole('read'), (req, res) => {
        const p = ctx.parse(HostParams, req.params, res);
        const q = p && ctx.parse(FreezesQuery, req.query, res);
        if (!p || !q) return;
        if (!accessOf(res).allows(p.site)) return forbidSite(res, p.site);
        if (!store.getHost(p.site, p.host)) return sendError(res, 'not_found', `no host "${p.host}" at site "${p.site}"`);
        const to = q.to ?? ctx.clock.now();
        const from = q.from ?? to - DEFAULT_FREEZE_RANGE_MS;
        if (from > to) return sendError(res, 'bad_request', 'invalid range', ['from: must not be after to']);
        if (to - from > MAX_RANGE_MS) return sendError(res, 'bad_request', 'invalid range', ['to: the range must be at most 31 days']);
        const freezes = events.page({ site: p.site, host: p.host, type: 'freeze', from, to, limit: q.limit });
        if (!freezes.length) return res.json({ freezes: [], from, to });
        // One read of the disk checks around all of them.
        const starts = freezes.map((f) => f.start ?? f.t);
        const ends = freezes.map((f) => f.end ?? f.t);
        const checks = events.page({
          site: p.site,
          host: p.host,
          type: 'disk_health',
          from: Math.min(...starts) - params.diskHealthBeforeHours * 3_600_000,
          to: Math.max(...ends) + params.diskHealthAfterHours * 3_600_000 + 1,
          limit: MAX_DISK_CHECKS,
        });
        const out = freezes.map((f) => {
          const start = f.start ?? f.t;
          const end = f.end ?? f.t;
          // The window before, and enough after for the sample whose interval covers the freeze.
          const samples = store.samples(p.site, p.host, { from: start - params.windowSeconds * 1000, to: end + AFTER_MS, limit: SAMPLES_PER_FREEZE });
          const d = diagnoseFreeze(f, samples, checks, params);
          const processes = Array.isArray(f.details?.processes) ? (f.details.processes as unknown[]).slice(0, PROCESSES_SHOWN) : [];
          return {
            t: f.t,
            start,
            end,
            durationMs: typeof f.details?.durationMs === 'number' ? f.details.durationMs : end - start,
            cause: d.cause,
            text: d.causes[0]!.text[q.lang],
            causes: d.causes.map((c) => ({ kind: c.kind, text: c.text[q.lang], evidence: c.evidence })),
            samples: d.samples,
            processes,
          };
        });
        res.json({ freezes: out, from, to });
      });
    },
  };
}
