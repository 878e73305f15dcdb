import { z } from 'zod';

/**
 * The hand-off between the alert engine (issue 4, collector/alerting/) and the notifiers
 * (collector/notify/): one {@link Notification} is one site's group at one evaluation —
 * the alerts that fire (new or repeated) and those that resolved. The engine decides WHAT
 * to say and WHEN; the notifiers decide HOW (channel texts, splitting, retries, limits).
 *
 * Texts come in both languages from the engine (it knows the figures); the notifiers pick
 * one per channel (Vietnamese by default) and add the subject, site, times and layout.
 * Times are epoch ms (collector clock).
 *
 * One zod schema gives the type and the validation (house style §5): the outbox stores the
 * notification as JSON and parses it back with {@link NotificationSchema} after a restart.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

export const LANGUAGES = ['vi', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A user-facing text in both languages (Vietnamese with correct diacritics). */
export const LocalizedTextSchema = z.object({
  vi: z.string().max(4000),
  en: z.string().max(4000),
});
export type LocalizedText = z.infer<typeof LocalizedTextSchema>;

/**
 * A figure behind an alert, e.g. packet loss 31 % (normal 0.5 %, limit 5 %). Rendered as
 * "how bad vs normal".
 */
export const AlertValueSchema = z.object({
  /** Machine name, e.g. `loss_pct`, `latency_p95_ms`, `disk_used_pct`. */
  key: z.string().min(1).max(64),
  label: LocalizedTextSchema,
  value: z.number(),
  /** Unit shown after the number: `%`, `ms`, `GB`, `Mbit/s`, `` (none). */
  unit: z.string().max(16).default(''),
  /** The site's or host's normal (baseline) value, when known. */
  normal: z.number().nullable().optional(),
  /** The threshold the rule compares with, when it has one. */
  limit: z.number().nullable().optional(),
});
export type AlertValue = z.input<typeof AlertValueSchema>;

export const NotificationAlertSchema = z.object({
  /** Dedup key of the alert (rule + labels); stable across evaluations. */
  fingerprint: z.string().min(1).max(256),
  /** Rule id, e.g. `site_congestion`, `power_cuts_frequent`, `host_disk_full`. */
  rule: z.string().min(1).max(128),
  severity: z.enum(SEVERITIES),
  site: z.string().min(1).max(128),
  /** The host the alert is about; null for a site-wide alert. */
  host: z.string().max(128).nullable(),
  /** When the condition started (not when it was first notified). */
  startsAt: z.number(),
  /** When it resolved; null while firing. */
  endsAt: z.number().nullable(),
  /** One line: what is wrong, with the figure ("Mất 31% gói tin tới cổng dịch vụ công"). */
  summary: LocalizedTextSchema,
  /** A few lines: details, comparison with normal. */
  description: LocalizedTextSchema,
  /** What to check first ("Kiểm tra modem/đường truyền của nhà mạng …"); optional. */
  advice: LocalizedTextSchema.optional(),
  values: z.array(AlertValueSchema).max(16).default([]),
});
export type NotificationAlert = z.input<typeof NotificationAlertSchema>;

export const NotificationSchema = z
  .object({
    /**
     * Idempotency key, unique per notification and stable if the engine re-emits the same
     * notification after a restart (e.g. `site:groupKey:evaluationTime`). The outbox accepts
     * an id once; a second enqueue with the same id is a no-op.
     */
    id: z.string().min(1).max(256),
    site: z.string().min(1).max(128),
    /** Display name of the site ("UBND xã Tân Phú"); defaults to the site id. */
    siteName: z.string().max(200).optional(),
    /** When the engine produced it. */
    createdAt: z.number(),
    /** Alerts that fire now (new, or repeated after the repeat interval). */
    firing: z.array(NotificationAlertSchema).max(500).default([]),
    /** Alerts that resolved since the last notification of this group. */
    resolved: z.array(NotificationAlertSchema).max(500).default([]),
    /**
     * Channel names to deliver to; omitted = every enabled channel. Lets a rule or a test
     * (`canh notify test --channel …`) target one channel.
     */
    channels: z.array(z.string().min(1).max(64)).max(32).optional(),
  })
  .refine((n) => n.firing.length + n.resolved.length > 0, { message: 'a notification needs at least one firing or resolved alert', path: ['firing'] });
/** What the engine builds (defaults such as `values: []` may be left out). */
export type Notification = z.input<typeof NotificationSchema>;
/** A notification after validation (defaults filled in). */
export type ParsedNotification = z.output<typeof NotificationSchema>;
export type ParsedNotificationAlert = z.output<typeof NotificationAlertSchema>;

export interface EnqueueResult {
  /** Deliveries (notification × channel) written to the outbox by this call. */
  queued: number;
  /** True when this notification id was already in the outbox (nothing new queued). */
  duplicate: boolean;
  /** Deliveries refused because the outbox is full (counted and logged). */
  dropped: number;
}

/**
 * Port the alert engine writes to. `enqueue` is synchronous and durable: when it returns,
 * every delivery is in the outbox (SQLite) and survives a restart; sending happens later,
 * with retries, rate limits and backoff. Throws only on an invalid notification.
 */
export interface NotificationSink {
  enqueue(notification: Notification): EnqueueResult;
}
