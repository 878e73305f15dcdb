import { z } from 'zod';
import { EVENT_TYPES } from '../../../../contract/schemas.js';
import type { EventQuery } from '../../../store/sqlite-event-query.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { Cursor, encodeCursor, Id, Limit, RangeFields, resolveRange } from '../query-schemas.js';
import { COLLECTOR_SITE } from '../../../health/stall-events.js';

const EventsQuery = z
  .object({
    // `_collector`: the collector's own events (its stalls), beside the agents' sites.
    site: z.union([Id, z.literal(COLLECTOR_SITE)]).optional(),
    host: Id.optional(),
    type: z.enum(EVENT_TYPES).optional(),
    ...RangeFields,
    limit: Limit,
    before: Cursor.optional(),
  })
  .strict()
  .refine((q) => q.host === undefined || q.site !== undefined, { path: ['host'], message: 'needs site' });

/** `GET /api/events`: agent events, newest first, paged with `before`. */
export function eventsRoutes(events: EventQuery): ApiModule {
  return {
    name: 'events',
    mount(router, ctx) {
      router.get('/events', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(EventsQuery, req.query, res);
        if (!q) return;
        const range = resolveRange(q, ctx.clock.now());
        if (Array.isArray(range)) return sendError(res, 'bad_request', 'invalid range', range);
        // One more than asked tells whether there is a next page.
        const rows = events.page({ site: q.site, host: q.host, type: q.type, ...range, limit: q.limit + 1, before: q.before });
        const page = rows.slice(0, q.limit);
        const last = page[page.length - 1];
        res.json({ events: page, next: rows.length > q.limit && last ? encodeCursor(last.t, last.id) : null });
      });
    },
  };
}
