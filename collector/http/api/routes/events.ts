import { z } from 'zod';
import { EVENT_TYPES } from '../../../../contract/schemas.js';
import type { EventQuery } from '../../../store/sqlite-event-query.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { Cursor, encodeCursor, Id, Lang, Limit, RangeFields, resolveRange } from '../query-schemas.js';
import { COLLECTOR_SITE } from '../../../health/stall-events.js';
import { accessOf, forbidSite } from '../auth/site-access.js';

const EventsQuery = z
  .object({
    // `_collector`: the collector's own events (its stalls), beside the agents' sites.
    site: z.union([Id, z.literal(COLLECTOR_SITE)]).optional(),
    host: Id.optional(),
    type: z.enum(EVENT_TYPES).optional(),
    ...RangeFields,
    limit: Limit,
    before: Cursor.optional(),
    lang: Lang,
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
        // The collector's own events (`_collector`) are the province's: a scoped token sees its sites only.
        const filter = accessOf(res).filter(q.site);
        if (filter === 'forbidden') return forbidSite(res, q.site!);
        // One more than asked tells whether there is a next page.
        const rows = events.page({ ...filter, host: q.host, type: q.type, ...range, limit: q.limit + 1, before: q.before });
        const page = rows.slice(0, q.limit);
        const last = page[page.length - 1];
        // `text`: the event in the officer's language by its type; `message` stays the agent's English (issue 13 item 7).
        res.json({ events: page.map((e) => ({ ...e, text: eventText(e, q.lang) })), next: rows.length > q.limit && last ? encodeCursor(last.t, last.id) : null });
      });
    },
  };
}

const EVENT_TEXT: Partial<Record<(typeof EVENT_TYPES)[number], { vi: string; en: string }>> = {
  agent_start: { vi: 'Phần mềm giám sát đã khởi động', en: 'Monitoring software started' },
  agent_stop: { vi: 'Phần mềm giám sát đã dừng bình thường', en: 'Monitoring software stopped cleanly' },
  source_unavailable: { vi: 'Một nguồn số liệu không đọc được', en: 'A metric source is unavailable' },
  source_recovered: { vi: 'Nguồn số liệu đọc lại được', en: 'A metric source is available again' },
  outbox_overflow: { vi: 'Bộ đệm trên máy đầy, đã bỏ số liệu cũ nhất', en: 'Local buffer full: oldest data dropped' },
  config_reload: { vi: 'Đã nạp lại cấu hình', en: 'Configuration reloaded' },
  outage: { vi: 'Máy ngừng đột ngột (mất điện, treo hoặc sập)', en: 'Unexpected outage (power loss, hang or crash)' },
  planned_shutdown: { vi: 'Tắt hoặc khởi động lại máy có chủ đích', en: 'Planned shutdown or restart' },
  freeze: { vi: 'Máy không phản hồi một lúc (đứng máy)', en: 'The PC was unresponsive for a while' },
  sleep: { vi: 'Máy ở chế độ ngủ', en: 'The PC slept' },
  network_cut: { vi: 'Mất kết nối tới máy chủ thu thập', en: 'The collector was unreachable' },
  power_source: { vi: 'Thay đổi nguồn điện (lưới/pin, UPS)', en: 'Power source changed (mains/battery, UPS)' },
  clock_jump: { vi: 'Đồng hồ máy nhảy', en: 'The system clock jumped' },
  disk_health: { vi: 'Kiểm tra sức khỏe ổ cứng (SMART, lỗi đĩa)', en: 'Disk health check (SMART, disk errors)' },
};
/** The event by its type in `lang`, with the agent's version for a start (the English message had it); the agent's message for an unknown type. */
function eventText(e: { type: string; message: string; details: Record<string, unknown> | null }, lang: 'vi' | 'en'): string {
  const text = EVENT_TEXT[e.type as (typeof EVENT_TYPES)[number]]?.[lang];
  if (text === undefined) return e.message;
  const version = e.type === 'agent_start' && typeof e.details?.version === 'string' ? e.details.version.slice(0, 40) : undefined;
  return version ? `${text} (${lang === 'vi' ? 'phiên bản' : 'version'} ${version})` : text;
}
