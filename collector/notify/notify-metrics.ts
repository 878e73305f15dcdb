import type { Counter, MetricsRegistry } from '../../common/metrics-registry.js';

/** Counters of the notifiers in /metrics (labels: configured channel names, fixed reasons). */
export interface NotifyMetrics {
  enqueued: Counter;
  duplicates: Counter;
  sent: Counter;
  partsSent: Counter;
  retries: Counter;
  attemptFailures: Counter;
  failed: Counter;
  rateLimited: Counter;
  sendSeconds: Counter;
  oaRefreshes: Counter;
  digests: Counter;
  provinceDigests: Counter;
}

export function notifyMetrics(r: MetricsRegistry): NotifyMetrics {
  return {
    enqueued: r.counter('canh_notify_enqueued_total', 'Deliveries (notification x channel) written to the outbox'),
    duplicates: r.counter('canh_notify_duplicate_enqueues_total', 'Notifications enqueued again with a known id (nothing queued)'),
    sent: r.counter('canh_notify_sent_total', 'Deliveries accepted by the channel service'),
    partsSent: r.counter('canh_notify_parts_sent_total', 'Messages accepted (a long Zalo text is several parts)'),
    retries: r.counter('canh_notify_retries_total', 'Attempts that failed and were rescheduled'),
    attemptFailures: r.counter('canh_notify_attempt_failures_total', 'Failed send attempts by outcome (retriable, permanent)'),
    failed: r.counter('canh_notify_failed_total', 'Deliveries given up, by reason (gave_up, permanent, overflow, bad_payload)'),
    rateLimited: r.counter('canh_notify_rate_limited_total', 'Times a channel waited for its rate limit'),
    sendSeconds: r.counter('canh_notify_send_seconds_total', 'Time spent in send requests'),
    oaRefreshes: r.counter('canh_notify_oa_token_refreshes_total', 'Zalo OA access token refreshes by result'),
    digests: r.counter('canh_notify_digests_total', 'Daily digests queued'),
    provinceDigests: r.counter('canh_notify_province_digests_total', 'Province digests queued (many sites down together), by phase (wave, summary)'),
  };
}
