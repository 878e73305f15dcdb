import type { Clock } from '../../common/clock.js';
import type { NotifyTestResult } from '../http/api/routes/alerts.js';
import type { NotifyService } from '../notify/notify-service.js';
import { testNotification } from '../notify/test-notification.js';

/**
 * `POST /api/notify/test`: the same test message as `canh notify test`, sent on one channel
 * now (not through the outbox), so the officer sees at once whether Zalo/email works.
 */
export function notifyTester(notify: Pick<NotifyService, 'sendNow'>, clock: Clock): (channel: string) => Promise<NotifyTestResult> {
  return async (channel) => {
    const r = await notify.sendNow(channel, { kind: 'test', notification: testNotification(channel, clock) });
    return r.outcome.status === 'accepted' ? { ok: true } : { ok: false, detail: r.outcome.reason };
  };
}
