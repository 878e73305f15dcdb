import type { Logger } from 'pino';
import type { ProvinceDigest } from '../notify/province-message.js';
import type { Notification, NotificationSink } from './alert-types.js';

/**
 * Fallback sink when no notifier channel is configured: the notification is written to
 * the log (one JSON line with its texts). The notifier outbox (issue 4, notifiers) replaces
 * it in the collector.
 */
export class LogNotificationSink implements NotificationSink {
  constructor(
    private readonly log: Logger,
    private readonly lang: 'vi' | 'en' = 'vi',
  ) {}
  enqueue(n: Notification): void {
    this.log.info(
      {
        notification: n.id,
        site: n.site,
        kind: n.kind,
        firing: n.firing.map((a) => a.rule),
        resolved: n.resolved.map((a) => a.rule),
        title: n.title[this.lang],
        text: n.text[this.lang],
      },
      'alert notification',
    );
  }
  enqueueProvince(d: ProvinceDigest): void {
    this.log.info({ notification: d.id, phase: d.phase, sitesInWave: d.sitesInWave, sitesTotal: d.sitesTotal, sitesBack: d.sitesBack, causes: d.causes }, 'province digest');
  }
}
