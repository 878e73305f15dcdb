import { z } from 'zod';
import { sendError } from '../api-errors.js';
import type { ApiModule } from '../api-module.js';
import { principalOf } from '../auth/authenticator.js';
import type { TokenStore } from '../auth/token-store.js';

const CreateBody = z
  .object({
    /** Free text, shown escaped (who or what the token is for). */
    name: z.string().trim().min(1).max(64),
    role: z.enum(['read', 'admin']),
  })
  .strict();
const IdParam = z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }).strict();
const NoQuery = z.object({}).strict();

/** `GET/POST/DELETE /api/tokens[/:id]` (admin). */
export function tokensRoutes(tokens: TokenStore): ApiModule {
  return {
    name: 'tokens',
    mount(router, ctx) {
      router.get('/tokens', ctx.requireRole('admin'), (req, res) => {
        if (!ctx.parse(NoQuery, req.query, res)) return;
        res.json({ tokens: tokens.list() });
      });
      router.post('/tokens', ctx.requireRole('admin'), (req, res) => {
        const body = ctx.parse(CreateBody, req.body ?? {}, res);
        if (!body) return;
        const created = tokens.create(body.name, body.role, ctx.clock.now());
        ctx.log.info({ tokenId: created.id, role: created.role, by: principalOf(res)?.tokenId }, 'API token created');
        res.status(201).json(created);
      });
      router.delete('/tokens/:id', ctx.requireRole('admin'), (req, res) => {
        const p = ctx.parse(IdParam, req.params, res);
        if (!p) return;
        if (!tokens.revoke(p.id, ctx.clock.now())) return sendError(res, 'not_found', `no active token ${p.id}`);
        ctx.log.info({ tokenId: p.id, by: principalOf(res)?.tokenId }, 'API token revoked');
        res.status(204).end();
      });
    },
  };
}
