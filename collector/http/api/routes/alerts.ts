import type { Response } from 'express';
import { z } from 'zod';
import { ID_PATTERN } from '../../../../contract/topics.js';
import type { AlertStore } from '../../../alerting/alert-store.js';
import { RULE_NAMES } from '../../../alerting/alerting-config.js';
import { silenceStatus } from '../../../alerting/silences.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { accessOf, forbidSite } from '../auth/site-access.js';

/**
 * Alerts and silences (issue 4, docs/api.md): `GET /api/alerts`, `GET/POST/DELETE
 * /api/silences`, `POST /api/notify/test` (delegates to the notifiers).
 */

export interface NotifyTestResult {
  ok: boolean;
  /** Short reason when not ok (e.g. `no enabled channel named "zalo"`, `HTTP 401`). */
  detail?: string | undefined;
}

export interface AlertsRoutesDeps {
  alerts: AlertStore;
  /** Language of alert summaries in lists (default vi). */
  lang?: 'vi' | 'en';
  /** Send a test notification on `channel` now (the notifier service). */
  notifyTest?: ((channel: string) => Promise<NotifyTestResult>) | undefined;
  /** Longest silence accepted, ms (default 90 days). */
  maxSilenceMs?: number;
}

const id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-]');
const cursor = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const AlertsQuery = z
  .object({
    state: z.enum(['active', 'resolved', 'all']).default('active'),
    site: id.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    before: cursor.optional(),
    lang: z.enum(['vi', 'en']).optional(),
  })
  .strict();

const SilencesQuery = z.object({ state: z.enum(['active', 'pending', 'expired', 'all']).default('all') }).strict();

const Matchers = z
  .object({
    rule: z.enum(RULE_NAMES as [string, ...string[]]).optional(),
    site: id.optional(),
    host: id.optional(),
  })
  .strict()
  .refine((m) => m.rule !== undefined || m.site !== undefined || m.host !== undefined, 'give at least one of rule, site, host (a silence of everything is refused)');

const SilenceBody = z
  .object({
    matchers: Matchers,
    startsAt: z.number().int().min(0).optional(),
    endsAt: z.number().int().min(0),
    comment: z.string().trim().min(1, 'say why (shown to the other officers)').max(500),
  })
  .strict();

const IdParam = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();
const NotifyBody = z.object({ channel: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a channel name') }).strict();
const NoQuery = z.object({}).strict();

function bad(res: Response, message: string, reasons: string[] = []): void {
  res.status(400).json({ error: 'bad_request', message, reasons });
}

/** Who is acting: the API token's or session's name (set by the API core's auth). */
function authorOf(res: Response): string {
  const p = res.locals.principal as { name?: unknown } | undefined;
  return typeof p?.name === 'string' && p.name ? p.name.slice(0, 100) : 'api';
}

export function alertsRoutes(deps: AlertsRoutesDeps): ApiModule {
  const maxSilenceMs = deps.maxSilenceMs ?? 90 * 86_400_000;
  return {
    name: 'alerts',
    mount(router, ctx) {
      router.get('/alerts', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(AlertsQuery, req.query, res);
        if (!q) return;
        const filter = accessOf(res).filter(q.site);
        if (filter === 'forbidden') return forbidSite(res, q.site!);
        res.json(deps.alerts.listAlerts({ state: q.state, ...filter, limit: q.limit, before: q.before }, q.lang ?? deps.lang ?? 'vi'));
      });

      router.get('/silences', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(SilencesQuery, req.query, res);
        if (!q) return;
        const now = ctx.clock.now();
        const access = accessOf(res);
        // Expired ones of the last week stay listed (who silenced what, and until when).
        // A scoped token sees the silences of its sites only (not those of every site).
        const silences = deps.alerts
          .silences({ since: now - 7 * 86_400_000 })
          .filter((s) => access.all || (s.matchers.site !== undefined && access.allows(s.matchers.site)))
          .map((s) => ({
            id: Number(s.id),
            matchers: s.matchers,
            startsAt: s.startsAt,
            endsAt: s.endsAt,
            author: s.author,
            comment: s.comment,
            createdAt: s.createdAt,
            state: silenceStatus(s, now),
          }))
          .filter((s) => q.state === 'all' || s.state === q.state);
        res.json({ silences });
      });

      // Operators silence (issue 14 item 7); a scoped one only its own sites, so its silence must name one.
      router.post('/silences', ctx.requireRole('operator'), (req, res) => {
        const body = ctx.parse(SilenceBody, req.body ?? {}, res);
        if (!body) return;
        const access = accessOf(res);
        if (!access.all) {
          if (body.matchers.site === undefined) {
            return sendError(res, 'forbidden', 'this token is scoped to some sites: a silence must name one of them (matchers.site)');
          }
          if (!access.allows(body.matchers.site)) return forbidSite(res, body.matchers.site);
        }
        const now = ctx.clock.now();
        const startsAt = body.startsAt ?? now;
        if (body.endsAt <= startsAt) return bad(res, 'endsAt must be after startsAt', ['endsAt: must be after startsAt']);
        if (body.endsAt <= now) return bad(res, 'endsAt is in the past', ['endsAt: must be in the future']);
        if (body.endsAt - startsAt > maxSilenceMs) return bad(res, `a silence lasts at most ${Math.round(maxSilenceMs / 86_400_000)} days`, ['endsAt: too far after startsAt']);
        const author = authorOf(res);
        const newId = deps.alerts.addSilence({ matchers: body.matchers, startsAt, endsAt: body.endsAt, author, comment: body.comment }, now);
        ctx.audit(req, res, { action: 'silence_create', target: `silence ${newId}`, details: { matchers: body.matchers, startsAt, endsAt: body.endsAt, comment: body.comment } });
        ctx.log.info({ silence: newId, matchers: body.matchers, startsAt, endsAt: body.endsAt, author }, 'silence created');
        res.status(201).json({ id: newId });
      });

      router.delete('/silences/:id', ctx.requireRole('operator'), (req, res) => {
        const p = ctx.parse(IdParam, req.params, res);
        if (!p) return;
        if (!ctx.parse(NoQuery, req.query, res)) return;
        const access = accessOf(res);
        const s = deps.alerts.silenceSite(p.id);
        // Another site's silence (or one of every site) is as unknown to a scoped token as a missing one.
        if (!s || (!access.all && (s.site === null || !access.allows(s.site))) || !deps.alerts.expireSilence(p.id, ctx.clock.now())) {
          res.status(404).json({ error: 'not_found', message: `no silence ${p.id}` });
          return;
        }
        ctx.audit(req, res, { action: 'silence_expire', target: `silence ${p.id}`, details: { site: s.site } });
        ctx.log.info({ silence: p.id, author: authorOf(res) }, 'silence expired');
        res.status(204).end();
      });

      router.post('/notify/test', ctx.requireRole('admin', { allSites: true }), async (req, res) => {
        const body = ctx.parse(NotifyBody, req.body ?? {}, res);
        if (!body) return;
        if (!deps.notifyTest) {
          res.status(404).json({ error: 'not_found', message: 'no notifier is configured' });
          return;
        }
        try {
          const r = await deps.notifyTest(body.channel);
          if (r.ok) res.json({ ok: true });
          else res.status(502).json({ ok: false, error: 'internal', message: r.detail ?? 'the channel did not accept the message' });
        } catch (err) {
          res.status(404).json({ error: 'not_found', message: (err as Error).message });
        }
      });
    },
  };
}
