import type { Clock } from '../../common/clock.js';
import { NotificationSchema, type ParsedNotification } from './notification.js';

/**
 * The message of `canh notify test --channel NAME`: an info alert naming the channel, in
 * both languages, addressed to that channel only. Sent with `NotifyService.sendNow`.
 */
export function testNotification(channel: string, clock: Clock): ParsedNotification {
  const now = clock.now();
  return NotificationSchema.parse({
    id: `test:${channel}:${now}`,
    site: 'canh',
    siteName: 'Canh',
    createdAt: now,
    channels: [channel],
    firing: [
      {
        fingerprint: `test:${channel}`,
        rule: 'notify_test',
        severity: 'info',
        site: 'canh',
        host: null,
        startsAt: now,
        endsAt: null,
        summary: { vi: `Tin nhắn thử: kênh "${channel}" hoạt động`, en: `Test message: channel "${channel}" works` },
        description: {
          vi: 'Nếu bạn đọc được tin này, cảnh báo của Canh sẽ đến được đây.',
          en: 'If you can read this, Canh alerts will reach you here.',
        },
      },
    ],
  });
}
