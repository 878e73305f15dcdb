import type { ApiModule } from '../api-module.js';
import type { StreamHub } from '../stream-hub.js';
import { accessOf } from '../auth/site-access.js';

/** `GET /api/stream` (docs/api.md, role `read`): the board's live updates, Server-Sent Events from the {@link StreamHub}. */
export function streamRoutes(hub: StreamHub): ApiModule {
  return {
    name: 'stream',
    mount(router, ctx) {
      router.get('/stream', ctx.requireRole('read'), (req, res) => {
        if (Object.keys(req.query as object).length) {
          return void res.status(400).json({ error: 'bad_request', message: 'invalid request', reasons: ['(query): no parameters expected'] });
        }
        const access = accessOf(res);
        if (!hub.attach(req, res, access.all ? null : (site) => access.allows(site)))
          res.status(503).setHeader('Retry-After', '30').json({ error: 'unavailable', message: 'too many live-update connections; try again later' });
      });
    },
  };
}
