import { z } from 'zod';
import { sendError } from '../api-errors.js';
import { ROLES, type ApiModule } from '../api-module.js';
import { principalOf } from '../auth/authenticator.js';
import type { TokenStore } from '../auth/token-store.js';
import { Id } from '../query-schemas.js';

const CreateBody = z
  .object({
    /** Free text, shown escaped (who or what the token is for). */
    name: z.string().trim().min(1).max(64),
    role: z.enum(ROLES),
    /** Sites the token may see (issue 14 item 7); absent or null: every site. */
    sites: z.array(Id).min(1, 'give at least one site, or leave sites out for every site').max(500).nullable().optional(),
  })
  .strict();
const IdParam = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();
const NoQuery = z.object({}).strict();

/** `GET/POST/DELETE /api/tokens[/:id]` (admin of every site: a scoped admin could mint itself a wider token). */
export function tokensRoutes(tokens: TokenStore): ApiModule {
  return {
    name: 'tokens',
    mount(router, ctx) {
      const admin = ctx.requireRole('admin', { allSites: true });
      router.get('/tokens', admin, (req, res) => {
        if (!ctx.parse(NoQuery, req.query, res)) return;
        res.json({ tokens: tokens.list() });
      });
      router.post('/tokens', admin, (req, res) => {
        const body = ctx.parse(CreateBody, req.body ?? {}, res);
        if (!body) return;
        const created = tokens.create(body.name, body.role, ctx.clock.now(), body.sites ?? null);
        ctx.audit(req, res, { action: 'token_create', target: `token ${created.id}`, details: { name: created.name, role: created.role, sites: created.sites } });
        ctx.log.info({ tokenId: created.id, role: created.role, sites: created.sites, by: principalOf(res)?.tokenId }, 'API token created');
        res.status(201).json(created);
      });
      router.delete('/tokens/:id', admin, (req, res) => {
        const p = ctx.parse(IdParam, req.params, res);
        if (!p) return;
        if (!tokens.revoke(p.id, ctx.clock.now())) return sendError(res, 'not_found', `no active token ${p.id}`);
        ctx.audit(req, res, { action: 'token_revoke', target: `token ${p.id}`, details: { name: tokens.get(p.id)?.name } });
        ctx.log.info({ tokenId: p.id, by: principalOf(res)?.tokenId }, 'API token revoked');
        res.status(204).end();
      });
    },
  };
}
