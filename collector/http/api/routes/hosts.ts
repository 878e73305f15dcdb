import { z } from 'zod';
import { isWorkingTime } from '../../../sites/schedule/working-hours.js';
import type { SiteDirectory } from '../../../sites/site-settings.js';
import type { Store } from '../../../store/store.js';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { Id, Lang, RangeFields, resolveRange } from '../query-schemas.js';
import { underSpec } from '../under-spec.js';
import { accessOf, forbidSite } from '../auth/site-access.js';

const HostParams = z.object({ site: Id, host: Id }).strict();
const HostQuery = z.object({ lang: Lang }).strict();
const ListQuery = z.object({ site: Id.optional() }).strict();
const SamplesQuery = z.object({ ...RangeFields, limit: z.coerce.number().int().min(1).max(5000).default(1000) }).strict();

export interface HostsRoutesDeps {
  store: Store;
  /** The site's working hours, for `workingNow` (an offline PC outside them is no alarm, issue 13 item 7). */
  sites: SiteDirectory;
  /** Hosts switched off cleanly (issue 13): `stopped`, "đã tắt máy", never out. */
  stoppedHosts?: ((site: string) => ReadonlyMap<string, number>) | undefined;
  /** Remote configuration of a PC (issue 16): the version published to it and its last report. */
  agentConfig?: ((site: string, host: string) => HostConfigState | null) | undefined;
  /** Self-update of a PC (issue 16): the version offered to it and its last update report. */
  agentUpdate?: ((site: string, host: string) => HostUpdateState | null) | undefined;
}

export interface HostUpdateState {
  offer: { version: string; seq: number; offeredAt: number } | null;
  report: { state: string; version: string; from: string; reason: string | null; at: number } | null;
}

export interface HostConfigState {
  /** Version published to the PC (null: none). */
  version: number | null;
  /** Its last report: `applied` or `refused` with the reason, for a version. */
  report: { version: number; hash: string; state: 'applied' | 'refused'; reason: string | null; at: number } | null;
}

/** `GET /api/hosts`, `GET /api/hosts/:site/:host`, `GET /api/hosts/:site/:host/samples`. */
export function hostsRoutes(deps: HostsRoutesDeps): ApiModule {
  const { store, sites } = deps;
  return {
    name: 'hosts',
    mount(router, ctx) {
      router.get('/hosts', ctx.requireRole('read'), (req, res) => {
        const q = ctx.parse(ListQuery, req.query, res);
        if (!q) return;
        const access = accessOf(res);
        if (q.site !== undefined && !access.allows(q.site)) return forbidSite(res, q.site);
        const hosts = store
          .listHosts(q.site)
          .filter((h) => access.allows(h.site))
          .map((h) => ({
            ...h,
            latest: store.latestSample(h.site, h.host) ?? null,
            config: deps.agentConfig?.(h.site, h.host) ?? null,
            update: deps.agentUpdate?.(h.site, h.host) ?? null,
          }));
        res.json({ hosts });
      });
      router.get('/hosts/:site/:host', ctx.requireRole('read'), (req, res) => {
        const p = ctx.parse(HostParams, req.params, res);
        const q = p && ctx.parse(HostQuery, req.query, res);
        if (!p || !q) return;
        if (!accessOf(res).allows(p.site)) return forbidSite(res, p.site);
        const h = store.getHost(p.site, p.host);
        if (!h) return sendError(res, 'not_found', `no host "${p.host}" at site "${p.site}"`);
        const inventory = store.inventory(h.site, h.host)?.data ?? null;
        res.json({
          host: h,
          siteName: sites.get(h.site).name,
          latest: store.latestSample(h.site, h.host) ?? null,
          inventory,
          underSpec: underSpec(inventory, q.lang),
          config: deps.agentConfig?.(h.site, h.host) ?? null,
          update: deps.agentUpdate?.(h.site, h.host) ?? null,
          stopped: h.state === 'offline' && !!deps.stoppedHosts?.(h.site).has(h.host),
          workingNow: isWorkingTime(sites.workingHours(h.site), ctx.clock.now()),
        });
      });
      router.get('/hosts/:site/:host/samples', ctx.requireRole('read'), (req, res) => {
        const p = ctx.parse(HostParams, req.params, res);
        const q = p && ctx.parse(SamplesQuery, req.query, res);
        if (!p || !q) return;
        if (!accessOf(res).allows(p.site)) return forbidSite(res, p.site);
        const range = resolveRange(q, ctx.clock.now());
        if (Array.isArray(range)) return sendError(res, 'bad_request', 'invalid range', range);
        res.json({ samples: store.samples(p.site, p.host, { ...range, limit: q.limit }) });
      });
    },
  };
}
