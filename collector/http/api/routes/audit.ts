import { z } from 'zod';
import { AUDIT_ACTIONS, csvField, type AuditLog } from '../../../audit/audit-log.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { EpochMs, Lang, resolveRange } from '../query-schemas.js';
import { CSV_BOM, csvSeparator } from '../../../report/render-csv.js';

/** Rows of one CSV answer at most (one synchronous query on the loop: kept well under 50 ms). */
export const AUDIT_CSV_MAX_ROWS = 5000;

const AuditQuery = z
  .object({
    from: EpochMs.optional(),
    to: EpochMs.optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    format: z.enum(['json', 'csv']).default('json'),
    /** CSV: Vietnamese headers and `;` (as the reports, for a Vietnamese spreadsheet), or English and `,`. */
    lang: Lang,
    limit: z.coerce.number().int().min(1).max(AUDIT_CSV_MAX_ROWS).optional(),
    before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

const CSV_HEAD = {
  vi: ['Mã', 'Thời điểm (UTC)', 'Hành động', 'Người thực hiện', 'Mã token', 'Qua', 'Địa chỉ', 'Đối tượng', 'Chi tiết'],
  en: ['id', 'time', 'action', 'actor', 'actorTokenId', 'via', 'client', 'target', 'details'],
};

/**
 * `GET /api/audit` (issue 14 item 8, admin of every site): the audit log, newest first, paged
 * with `before`; `format=csv` for the export (a spreadsheet-safe CSV, UTF-8 with BOM).
 */
export function auditRoutes(audit: AuditLog): ApiModule {
  return {
    name: 'audit',
    mount(router, ctx) {
      router.get('/audit', ctx.requireRole('admin', { allSites: true }), (req, res) => {
        const q = ctx.parse(AuditQuery, req.query, res);
        if (!q) return;
        const now = ctx.clock.now();
        // Default: the last 31 days (the longest range), not the last hour as the data lists.
        const range = resolveRange({ from: q.from ?? (q.to ?? now) - 31 * 86_400_000 + 1, to: q.to ?? now + 1 }, now);
        if (Array.isArray(range)) return sendError(res, 'bad_request', 'invalid range', range);
        const limit = q.limit ?? (q.format === 'csv' ? AUDIT_CSV_MAX_ROWS : 100);
        if (q.format === 'json' && limit > 1000) return sendError(res, 'bad_request', 'invalid request', ['limit: at most 1000 for JSON (5000 for CSV)']);
        const rows = audit.page({ ...range, action: q.action, limit: limit + 1, before: q.before });
        const page = rows.slice(0, limit);
        const next = rows.length > limit ? page[page.length - 1]!.id : null;
        if (q.format === 'json') return void res.json({ entries: page, next });
        const sep = csvSeparator(q.lang);
        const lines = [CSV_HEAD[q.lang].map((h) => csvField(h, sep)).join(sep)];
        for (const e of page) {
          lines.push([e.id, new Date(e.t).toISOString(), e.action, e.actor, e.actorTokenId, e.via, e.client, e.target, e.details].map((v) => csvField(v, sep)).join(sep));
        }
        if (next !== null) res.setHeader('X-Canh-Next-Before', String(next));
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader(
          'Content-Disposition',
          `attachment; filename="canh-audit-${new Date(range.from).toISOString().slice(0, 10)}-${new Date(range.to).toISOString().slice(0, 10)}.csv"`,
        );
        res.send(`${CSV_BOM}${lines.join('\r\n')}\r\n`);
      });
    },
  };
}
