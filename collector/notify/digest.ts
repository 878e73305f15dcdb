/**
 * The daily digest (issue 4: "a daily digest option (node-cron)"): at the configured time,
 * a summary of the day's alerts per site, built from the notifications the outbox queued
 * in the last 24 hours, and queued like any message (id `digest:<day>`, so a second run on
 * the same day, e.g. after a restart, queues nothing).
 */
import cron from 'node-cron';
import type { ParsedNotification, ParsedNotificationAlert } from './notification.js';
import type { Digest, DigestAlert, OutboxMessage } from './outbox-message.js';
import { dayOf } from './render-words.js';

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

/** Pure: the digest of the alert notifications queued in (from, to]. */
export function buildDigest(messages: readonly OutboxMessage[], from: number, to: number, timeZone: string): Digest {
  const sites = new Map<string, { siteName?: string | undefined; alerts: Map<string, DigestAlert> }>();
  const touch = (n: ParsedNotification, a: ParsedNotificationAlert, firing: boolean): void => {
    let s = sites.get(n.site);
    if (!s) sites.set(n.site, (s = { siteName: n.siteName, alerts: new Map() }));
    if (n.siteName) s.siteName = n.siteName;
    const prev = s.alerts.get(a.fingerprint);
    const entry: DigestAlert = prev ?? { rule: a.rule, severity: a.severity, host: a.host, summary: a.summary, firstAt: a.startsAt, count: 0, resolvedAt: null };
    if (SEVERITY_RANK[a.severity] < SEVERITY_RANK[entry.severity]) entry.severity = a.severity;
    entry.firstAt = Math.min(entry.firstAt, a.startsAt);
    if (firing) {
      entry.count++;
      entry.resolvedAt = null;
      entry.summary = a.summary;
    } else {
      entry.resolvedAt = a.endsAt ?? n.createdAt;
    }
    s.alerts.set(a.fingerprint, entry);
  };
  for (const m of messages) {
    if (m.kind !== 'alert') continue;
    for (const a of m.notification.firing) touch(m.notification, a, true);
    for (const a of m.notification.resolved) touch(m.notification, a, false);
  }
  const day = dayOf(to - 1, timeZone);
  return {
    id: `digest:${day}`,
    day,
    from,
    to,
    sites: [...sites.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([site, s]) => ({
        site,
        ...(s.siteName ? { siteName: s.siteName } : {}),
        alerts: [...s.alerts.values()].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.firstAt - b.firstAt),
      })),
  };
}

/** Port for the schedule, so tests run the digest without waiting for the wall clock. */
export interface DigestScheduler {
  schedule(expression: string, timeZone: string, run: () => void): { stop(): void };
}

export const cronScheduler: DigestScheduler = {
  schedule(expression, timeZone, run) {
    const task = cron.schedule(expression, run, { timezone: timeZone, name: 'canh-notify-digest', noOverlap: true });
    return {
      stop: () => {
        void task.stop();
        void task.destroy();
      },
    };
  },
};
