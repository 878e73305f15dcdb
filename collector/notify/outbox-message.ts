import { z } from 'zod';
import { LocalizedTextSchema, NotificationSchema, SEVERITIES } from './notification.js';
import { ProvinceDigestSchema } from './province-message.js';
import { ReportMessageSchema } from './report-message.js';

/** One alert in the daily digest: how often it fired that day and whether it is over. */
export const DigestAlertSchema = z.object({
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  host: z.string().nullable(),
  summary: LocalizedTextSchema,
  /** Start of the first occurrence notified that day. */
  firstAt: z.number(),
  /** Notifications that carried it (firing or repeated). */
  count: z.number().int().min(0),
  /** End of the last occurrence; null while it still fires. */
  resolvedAt: z.number().nullable(),
});
export type DigestAlert = z.infer<typeof DigestAlertSchema>;

export const DigestSchema = z.object({
  /** `digest:<YYYY-MM-DD>` in the digest's time zone: one digest per day, whatever fires. */
  id: z.string(),
  day: z.string(),
  from: z.number(),
  to: z.number(),
  sites: z.array(
    z.object({
      site: z.string(),
      siteName: z.string().optional(),
      alerts: z.array(DigestAlertSchema),
    }),
  ),
});
export type Digest = z.infer<typeof DigestSchema>;

/** What the outbox carries: an alert notification from the engine, a daily digest, a province digest or a monthly report. */
export const OutboxMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('alert'), notification: NotificationSchema }),
  z.object({ kind: z.literal('digest'), digest: DigestSchema }),
  z.object({ kind: z.literal('test'), notification: NotificationSchema }),
  z.object({ kind: z.literal('report'), report: ReportMessageSchema }),
  z.object({ kind: z.literal('province'), province: ProvinceDigestSchema }),
]);
export type OutboxMessage = z.output<typeof OutboxMessageSchema>;

export function messageId(m: OutboxMessage): string {
  if (m.kind === 'digest') return m.digest.id;
  if (m.kind === 'report') return m.report.id;
  if (m.kind === 'province') return m.province.id;
  return m.notification.id;
}
