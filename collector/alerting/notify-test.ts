import type { Clock } from '../../common/clock.js';
import type { NotifyTestResult } from '../api/routes/alerts.js';
import type { NotifyService } from '../notify/notify-service.js';

/**
 * `POST /api/notify/test` and `canh notify test`: a short test message sent on one channel
 * now (not through the outbox), so the officer sees at once whether Zalo/email works.
 */
export function notifyTester(notify: Pick<NotifyService, 'sendNow'>, clock: Clock): (channel: string) => Promise<NotifyTestResult> {
  return async (channel) => {
    const now = clock.now();
    const r = await notify.sendNow(channel, {
      kind: 'test',
      notification: {
        id: `test@${now}`,
        site: 'canh',
        siteName: 'Canh',
        createdAt: now,
        firing: [
          {
            fingerprint: 'test',
            rule: 'notify_test',
            severity: 'info',
            site: 'canh',
            host: null,
            startsAt: now,
            endsAt: null,
            summary: { vi: 'Tin nhắn thử: kênh cảnh báo hoạt động tốt', en: 'Test message: the alert channel works' },
            description: { vi: '', en: '' },
            values: [],
          },
        ],
        resolved: [],
      },
    });
    return r.outcome.status === 'accepted' ? { ok: true } : { ok: false, detail: r.outcome.reason };
  };
}
