import type { NotificationAlert, NotificationSink as NotifierOutbox } from '../notify/notification.js';
import type { ProvinceDigest } from '../notify/province-message.js';
import type { Notification, NotificationSink, NotifiedAlert } from './alert-types.js';

/**
 * The boundary to the notifiers (collector/notify/notification.ts): the engine's site
 * notification becomes the notifier's hand-off shape and goes into its durable outbox.
 * The engine's summary already carries the figures ("mất 30% gói … (bình thường 0%)"), so
 * no separate `values` are sent; the hint becomes the notifier's "what to check".
 */
export function toNotifierAlert(a: NotifiedAlert): NotificationAlert {
  return {
    fingerprint: a.fingerprint,
    rule: a.rule,
    severity: a.severity,
    site: a.site,
    host: a.host,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    summary: a.summary,
    description: { vi: '', en: '' },
    advice: a.hint,
    values: [],
  };
}

/** Alerts per list in one notification (the notifier accepts 500; a message stays readable). */
export const MAX_ALERTS_PER_MESSAGE = 100;

/** The notifier side of {@link NotifierOutboxSink}: alert notifications and province digests. */
export interface NotifierOutboxPort extends NotifierOutbox {
  enqueueProvince?(digest: ProvinceDigest): unknown;
}

export class NotifierOutboxSink implements NotificationSink {
  constructor(private readonly outbox: NotifierOutboxPort) {}
  enqueueProvince(d: ProvinceDigest): void {
    // Same transaction as the engine's state (alert-store.ts commit): durable or thrown.
    this.outbox.enqueueProvince?.(d);
  }
  enqueue(n: Notification): void {
    // Synchronous and durable (SQLite, same database): runs inside the engine's transaction.
    this.outbox.enqueue({
      id: n.id,
      site: n.site,
      siteName: n.siteName,
      createdAt: n.createdAt,
      // Lists are sorted most severe first by the engine; the rest are on the board.
      firing: n.firing.slice(0, MAX_ALERTS_PER_MESSAGE).map(toNotifierAlert),
      resolved: n.resolved.slice(0, MAX_ALERTS_PER_MESSAGE).map(toNotifierAlert),
    });
  }
}
