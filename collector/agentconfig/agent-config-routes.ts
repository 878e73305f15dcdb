import { z } from 'zod';
import { ID_PATTERN } from '../../contract/topics.js';
import { sendError } from '../http/api/api-errors.js';
import type { ApiModule } from '../http/api/api-module.js';
import { principalOf } from '../http/api/auth/authenticator.js';
import { accessOf, forbidSite } from '../http/api/auth/site-access.js';
import type { AgentConfigService } from './agent-config-service.js';
import { partProblem, type AgentConfigStore } from './agent-config-store.js';

const Id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');
const Target = z.object({ site: Id, host: Id.optional() }).strict();
const ListQuery = z.object({ site: Id.optional() }).strict();
const SetBody = z.object({ site: Id, host: Id.optional(), config: z.record(z.string(), z.unknown()) }).strict();

const who = (p: ReturnType<typeof principalOf>) => (p ? `token ${p.tokenId} (${p.name})` : 'unknown');

export interface AgentConfigRoutesDeps {
  store: AgentConfigStore;
  service: AgentConfigService;
}

/**
 * Remote agent configuration (issue 16 item 1), admins only, within their site scope:
 * `GET /api/agent-config[?site=S]` (every setting), `GET /api/agent-config/host?site=S&host=H`
 * (one PC: its settings, the site's, the effective part, what was published and its last
 * report), `PUT /api/agent-config {site, host?, config}`, `DELETE /api/agent-config?site=S[&host=H]`.
 */
export function agentConfigRoutes(deps: AgentConfigRoutesDeps): ApiModule {
  const { store, service } = deps;
  return {
    name: 'agent-config',
    mount(router, ctx) {
      router.get('/agent-config', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(ListQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        if (q.site !== undefined && !access.allows(q.site)) return forbidSite(res, q.site);
        res.json({ settings: store.all().filter((s) => access.allows(s.site) && (q.site === undefined || s.site === q.site)) });
      });
      router.get('/agent-config/host', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(Target.required({ host: true }), req.query, res);
        if (!q) return;
        if (!accessOf(res).allows(q.site)) return forbidSite(res, q.site);
        res.json({
          site: store.get(q.site, null) ?? null,
          host: store.get(q.site, q.host) ?? null,
          effective: store.effective(q.site, q.host),
          published: store.published(q.site, q.host) ?? null,
          report: store.report(q.site, q.host) ?? null,
        });
      });
      router.put('/agent-config', ctx.requireRole('admin'), (req, res) => {
        const body = ctx.parse(SetBody, req.body ?? {}, res);
        if (!body) return;
        if (!accessOf(res).allows(body.site)) return forbidSite(res, body.site);
        const problem = partProblem(body.config);
        if (problem) return sendError(res, 'bad_request', `invalid agent configuration: ${problem}`, [problem]);
        const saved = store.set(body.site, body.host ?? null, body.config, who(principalOf(res)), ctx.clock.now());
        ctx.audit(req, res, {
          action: 'agent_config_set',
          target: body.host ? `agent ${body.site}/${body.host}` : `site ${body.site}`,
          details: { keys: Object.keys(body.config).join(',') },
        });
        service.syncTarget(body.site, body.host ?? null);
        void service.syncIfChanged();
        res.json({ settings: saved, published: body.host ? (store.published(body.site, body.host) ?? null) : null });
      });
      router.delete('/agent-config', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(Target, req.query, res);
        if (!q) return;
        if (!accessOf(res).allows(q.site)) return forbidSite(res, q.site);
        if (!store.clear(q.site, q.host ?? null)) return sendError(res, 'not_found', `no agent configuration for ${q.host ? `${q.site}/${q.host}` : `site ${q.site}`}`);
        ctx.audit(req, res, { action: 'agent_config_clear', target: q.host ? `agent ${q.site}/${q.host}` : `site ${q.site}`, details: {} });
        service.syncTarget(q.site, q.host ?? null);
        void service.syncIfChanged();
        res.status(204).end();
      });
    },
  };
}
