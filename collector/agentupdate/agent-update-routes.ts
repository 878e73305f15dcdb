import { resolve } from 'node:path';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RELEASE_VERSION } from '../../contract/agent-update.js';
import { ID_PATTERN } from '../../contract/topics.js';
import { sendError } from '../http/api/api-errors.js';
import type { ApiModule } from '../http/api/api-module.js';
import { principalOf } from '../http/api/auth/authenticator.js';
import { accessOf, forbidSite } from '../http/api/auth/site-access.js';
import type { Store } from '../store/store.js';
import type { AgentUpdateService } from './agent-update-service.js';
import { releaseFile, type AgentUpdateStore } from './agent-update-store.js';

const Id = z.string().regex(ID_PATTERN, 'must be a lowercase slug [a-z0-9_-], 1-63 chars');
const ListQuery = z.object({ site: Id.optional() }).strict();
const RolloutBody = z
  .object({
    version: z.string().regex(RELEASE_VERSION, 'must be a release version (1.2.3)'),
    /** Share of all PCs in the first stage (0..1); 1: everyone at once. */
    share: z.number().min(0).max(1).default(0.1),
    sites: z.array(Id).max(1000).default([]),
    /** Offer during working hours too. */
    force: z.boolean().default(false),
  })
  .strict();

const who = (p: ReturnType<typeof principalOf>) => (p ? `token ${p.tokenId} (${p.name})` : 'unknown');

export interface AgentUpdateRoutesDeps {
  store: AgentUpdateStore;
  service: AgentUpdateService;
  hosts: Pick<Store, 'listHosts'>;
}

/**
 * Agent updates (issue 16 item 2), admins only:
 * `GET /api/agent-update[?site=S]` (releases, the rollout and its progress, each PC's
 * version, offer and last report, within the token's sites), and for admins of every site
 * (a rollout spans the province): `PUT /api/agent-update/rollout {version, share, sites, force}`,
 * `DELETE /api/agent-update/rollout` (stop offering; the offers are withdrawn).
 */
export function agentUpdateRoutes(deps: AgentUpdateRoutesDeps): ApiModule {
  const { store, service, hosts } = deps;
  return {
    name: 'agent-update',
    mount(router, ctx) {
      router.get('/agent-update', ctx.requireRole('admin'), (req, res) => {
        const q = ctx.parse(ListQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        if (q.site !== undefined && !access.allows(q.site)) return forbidSite(res, q.site);
        const offers = new Map(store.offers().map((o) => [`${o.site}/${o.host}`, o]));
        const reports = new Map(store.reports().map((r) => [`${r.site}/${r.host}`, r]));
        const list = hosts
          .listHosts(q.site)
          .filter((h) => access.allows(h.site))
          .map((h) => {
            const k = `${h.site}/${h.host}`;
            const o = offers.get(k);
            const r = reports.get(k);
            return {
              site: h.site,
              host: h.host,
              hostname: h.hostname,
              state: h.state,
              agentVersion: h.agentVersion,
              offer: o ? { version: o.version, seq: o.seq, until: o.until, offeredAt: o.offeredAt } : null,
              report: r ? { state: r.state, version: r.version, from: r.from, reason: r.reason, at: r.at } : null,
            };
          });
        res.json({ releases: store.releases(), rollout: service.status(), hosts: list });
      });
      router.put('/agent-update/rollout', ctx.requireRole('admin'), (req, res) => {
        if (!accessOf(res).all) return sendError(res, 'forbidden', 'a rollout spans every site: it needs an admin of every site');
        const body = ctx.parse(RolloutBody, req.body ?? {}, res);
        if (!body) return;
        if (store.releasesOf(body.version).length === 0) return sendError(res, 'bad_request', `no published release ${body.version} (canh release publish)`);
        store.setRollout({ ...body, startedAt: ctx.clock.now(), startedBy: who(principalOf(res)) });
        ctx.audit(req, res, { action: 'agent_update_rollout', target: `version ${body.version}`, details: { share: body.share, sites: body.sites.join(','), force: body.force } });
        void service.evaluate().then(() => res.json({ rollout: service.status() }));
      });
      router.delete('/agent-update/rollout', ctx.requireRole('admin'), (req, res) => {
        if (!accessOf(res).all) return sendError(res, 'forbidden', 'a rollout spans every site: it needs an admin of every site');
        if (!store.clearRollout()) return sendError(res, 'not_found', 'no rollout in progress');
        ctx.audit(req, res, { action: 'agent_update_stop', target: 'rollout', details: {} });
        void service.evaluate().then(() => res.status(204).end());
      });
    },
  };
}

/**
 * `GET /install/releases/<version>/<file>`: a published release package, without
 * authentication (like the install packages: it holds no secret, and the agents check its
 * signature against their pinned key).
 */
export function releaseFilesRouter(store: AgentUpdateStore, dataDir: string, log: Logger): Router {
  const router = express.Router();
  router.get('/:version/:file', (req, res, next) => {
    const { version, file } = req.params;
    const r = store.releasesOf(version).find((x) => x.file === file);
    if (!r) return res.status(404).json({ error: 'not_found', message: 'no such release' });
    res.setHeader('X-Checksum-Sha256', r.sha256);
    res.sendFile(resolve(releaseFile(dataDir, r.version, r.file)), { dotfiles: 'deny', headers: { 'Content-Type': 'application/gzip' } }, (err) => {
      if (err && !res.headersSent) next(err);
      else if (err) log.debug({ err: err.message }, 'release download ended early');
    });
  });
  return router;
}
