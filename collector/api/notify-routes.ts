import { z } from 'zod';
import type { NotifyService } from '../notify/notify-service.js';
import { testNotification } from '../notify/test-notification.js';
import { sendError } from './api-errors.js';
import type { ApiModule } from './api-module.js';
import { principalOf } from './auth/authenticator.js';

const TestBody = z.object({ channel: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a channel name from notify.channels') }).strict();

/**
 * `POST /api/notify/test {channel}` (admin): send a test notification through one channel
 * now, as `canh notify test` does, and say whether the channel accepted it.
 */
export function notifyRoutes(notify: Pick<NotifyService, 'sendNow' | 'notifiers'>): ApiModule {
  return {
    name: 'notify',
    mount(router, ctx) {
      router.post('/notify/test', ctx.requireRole('admin'), async (req, res, next) => {
        const body = ctx.parse(TestBody, req.body ?? {}, res);
        if (!body) return;
        if (!notify.notifiers.has(body.channel)) {
          return sendError(res, 'not_found', `no enabled channel "${body.channel}" (configured: ${[...notify.notifiers.keys()].join(', ') || 'none'})`);
        }
        try {
          const r = await notify.sendNow(body.channel, { kind: 'test', notification: testNotification(body.channel, ctx.clock) });
          ctx.log.info({ channel: body.channel, outcome: r.outcome.status, by: principalOf(res)?.tokenId }, 'test notification sent from the API');
          res.json({
            channel: body.channel,
            accepted: r.outcome.status === 'accepted',
            parts: r.parts,
            partsSent: r.partsSent,
            ...(r.outcome.status === 'accepted' ? {} : { error: r.outcome.status, reason: r.outcome.reason }),
          });
        } catch (err) {
          next(err);
        }
      });
    },
  };
}
