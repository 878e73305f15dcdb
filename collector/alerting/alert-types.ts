import type { ProvinceDigest } from '../notify/province-message.js';

/**
 * The alerting model (DESIGN "Alerting model", issue 4): rules observe, the engine decides
 * (pending, hysteresis, dedup, grouping, repeat, inhibition, silences, flap damping,
 * schedules), the notifier sends. Everything here is plain data so the engine stays a pure
 * function of (state, input, now) and its state can be persisted as rows.
 */

export type Lang = 'vi' | 'en';
/** A user-facing text in both languages (Vietnamese is the default). */
export interface Localized {
  vi: string;
  en: string;
  /** The text states its own start, end and length (e.g. "Mất điện 08:14–08:16 (2 phút 30 giây)"): a resolved line adds no times. */
  timed?: boolean;
}

export type Severity = 'warning' | 'critical';

/**
 * What one rule says about one subject at one evaluation. The engine turns a stream of
 * these into alert state. `condition` carries the hysteresis: a rule says `firing` when its
 * firing condition holds, `recovered` only when its (separate, stricter) recovery condition
 * holds, and `hold` in between, which keeps the alert as it is.
 */
export interface Observation {
  rule: string;
  site: string;
  /** null for a site-level alert. */
  host: string | null;
  /** Extra identity inside (rule, site, host), e.g. a portal name; '' when none. */
  key: string;
  condition: 'firing' | 'recovered' | 'hold';
  severity: Severity;
  /** The figure that matters (loss %, disk %, count…), for the API and the message. */
  value: number | null;
  /** Short text: what, how bad vs normal (figures from the data). */
  summary: Localized;
  /** What to check. */
  hint: Localized;
  /** When the problem began, when the data tells (e.g. hosts offline since); default: first seen. */
  since?: number | undefined;
  /**
   * With `recovered`: what the resolved message says instead of the firing summary: the
   * figures that ended the alert, not the last bad ones (issue 13 item 5), or the cause
   * learnt meanwhile ("Mất điện 08:14–08:16 (2 phút 30 giây), 5/5 máy khởi động lại").
   * Without it the alert keeps its summary.
   */
  resolvedSummary?: Localized | undefined;
}

export type AlertState = 'pending' | 'firing' | 'resolved';
/** What the officer was last told about an alert. */
export type NotifiedState = 'none' | 'firing' | 'resolved';

/** One alert instance (a fingerprint's life from pending to resolved). */
export interface Alert {
  /** Stable row id (assigned by the engine from state.nextId). */
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  host: string | null;
  key: string;
  severity: Severity;
  state: AlertState;
  /** When the problem began (the "since" in messages). */
  activeSince: number;
  /** When the engine first saw the firing condition (the pending duration counts from here). */
  pendingSince: number;
  /** When it turned firing; null while pending. */
  startsAt: number | null;
  endsAt: number | null;
  value: number | null;
  summary: Localized;
  hint: Localized;
  /** Last time a rule reported on this fingerprint (stale alerts resolve). */
  lastSeen: number;
  silenced: boolean;
  inhibited: boolean;
  flapping: boolean;
  /** Times of pending→firing and firing→resolved changes inside the flap window. */
  transitions: number[];
  notified: NotifiedState;
  /** Last time this alert was part of a sent notification. */
  notifiedAt: number | null;
}

/** Notification timing per site group (Alertmanager's group wait / interval / repeat). */
export interface GroupState {
  site: string;
  /** When the group first had something unsent (group wait counts from here). */
  changedSince: number | null;
  lastSentAt: number | null;
  /** Sequence of notifications sent for this site (for idempotent ids). */
  seq: number;
}

export interface EngineState {
  /** Active alerts (pending/firing) and resolved ones not yet settled, by fingerprint. */
  alerts: Record<string, Alert>;
  groups: Record<string, GroupState>;
  nextId: number;
}

export function emptyState(): EngineState {
  return { alerts: {}, groups: {}, nextId: 1 };
}

export interface SilenceMatchers {
  rule?: string | undefined;
  site?: string | undefined;
  host?: string | undefined;
}

/** A silence or maintenance window: matching alerts are not notified while it is active. */
export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  startsAt: number;
  endsAt: number;
  author: string;
  comment: string;
}

/** An alert as it appears in a notification. */
export interface NotifiedAlert {
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  host: string | null;
  key: string;
  severity: Severity;
  state: 'firing' | 'resolved';
  /** When the problem began (first seen), epoch ms. */
  startsAt: number;
  endsAt: number | null;
  value: number | null;
  summary: Localized;
  hint: Localized;
  /** true when this alert is new since the site's previous notification. */
  isNew: boolean;
}

/**
 * One message for one site (grouping): what fires and what was resolved since the last
 * one. `id` is stable across restarts (site + per-site sequence), so an outbox can refuse
 * a second copy. `text` is rendered in both languages; channels pick one.
 */
export interface Notification {
  id: string;
  site: string;
  siteName: string;
  createdAt: number;
  kind: 'alert' | 'repeat' | 'resolved';
  firing: NotifiedAlert[];
  resolved: NotifiedAlert[];
  /** Subject line, e.g. `[CẢNH BÁO] UBND xã Tân Phú: 2 vấn đề`. */
  title: Localized;
  /** Plain text body (short; Zalo allows 2,000 characters). */
  text: Localized;
}

/**
 * Port to the notifier (issue 4, `notifiers` branch): a durable outbox. `enqueue` is
 * called inside the engine's state transaction, so it must be synchronous and must throw
 * when the notification could not be recorded (the state change is then rolled back and
 * retried at the next evaluation: nothing lost, nothing sent twice).
 */
export interface NotificationSink {
  enqueue(notification: Notification): void;
  /**
   * A province digest (many sites down together, issue 12 item 6), with the same contract
   * as `enqueue` (synchronous, durable, throws when not recorded). Optional: a sink without
   * it drops province digests (the per-site messages still go).
   */
  enqueueProvince?(digest: ProvinceDigest): void;
}
