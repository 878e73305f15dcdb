import type { Alert, EngineState, GroupState, Notification, NotifiedAlert, Observation, Silence } from './alert-types.js';
import { fingerprint } from './fingerprint.js';
import { isFlapping, pruneTransitions } from './flap-damping.js';
import { isInhibited, type OpenIncidentView } from './inhibition.js';
import { renderNotification } from './messages.js';
import { silencedBy } from './silences.js';

/**
 * The alert engine (issue 4): one pure function of (state, input, now). No clock, no I/O:
 * the service around it reads the inputs, persists the returned state and hands the
 * returned notifications to the outbox in one transaction.
 */

/** How a rule's alerts are timed (from the rule's config). */
export interface RuleTiming {
  /** Pending duration: the firing condition must hold this long before the alert fires. */
  forMs: number;
  /** Repeat a still-firing alert this often (default: the engine's). */
  repeatIntervalMs?: number | undefined;
  /** `working_hours`: only starts and only notifies inside the site's working hours. */
  schedule: 'always' | 'working_hours';
  /** A site-level alert of this rule is inhibited by an open site incident (host alerts always are). */
  inhibitedByIncident: boolean;
}

export interface EngineSettings {
  /** Wait this long after a site's first new alert, to gather its companions into one message. */
  groupWaitMs: number;
  /** Minimum time between two messages for one site. */
  groupIntervalMs: number;
  /** Re-send a still-firing site group this often. */
  repeatIntervalMs: number;
  /**
   * Minimum time between a site's previous message and one that only tells resolutions
   * (default: `groupIntervalMs`). Short, so "power is back, it was a power cut" follows the
   * classification within seconds, not one group interval later (issue 13).
   */
  resolvedIntervalMs?: number | undefined;
  flapWindowMs: number;
  flapThreshold: number;
  /** An alert no rule reported on for this long is resolved (its subject went away). */
  staleAfterMs: number;
  /** Bound of the active state: new alerts beyond it are refused (counted in the result). */
  maxAlerts?: number | undefined;
}

export interface EvaluationInput {
  /** Everything the rules observed at this evaluation. */
  observations: readonly Observation[];
  /** Timing of every enabled rule; alerts of a rule not listed are resolved. */
  rules: Readonly<Record<string, RuleTiming>>;
  silences: readonly Silence[];
  openIncidents: readonly OpenIncidentView[];
  /** Pure schedule lookup: is `site` in working hours at `now`? */
  inWorkingHours(site: string): boolean;
  siteName(site: string): string;
  settings: EngineSettings;
}

export interface EvaluationResult {
  state: EngineState;
  notifications: Notification[];
  /** Alerts whose row changed (persist these). */
  changed: Alert[];
  /** Alerts dropped from the active state (settled; their rows stay as history). */
  removed: Alert[];
  /** New alerts refused because the state holds `maxAlerts` already. */
  refused: number;
}

function clone(state: EngineState): EngineState {
  const alerts: Record<string, Alert> = {};
  for (const [k, a] of Object.entries(state.alerts)) alerts[k] = { ...a, transitions: [...a.transitions] };
  const groups: Record<string, GroupState> = {};
  for (const [k, g] of Object.entries(state.groups)) groups[k] = { ...g };
  return { alerts, groups, nextId: state.nextId };
}

export function evaluate(prev: EngineState, input: EvaluationInput, now: number): EvaluationResult {
  const state = clone(prev);
  const s = input.settings;
  const flap = { windowMs: s.flapWindowMs, threshold: s.flapThreshold };
  const changed = new Map<string, Alert>();
  const touch = (a: Alert) => changed.set(a.fingerprint, a);
  const seen = new Set<string>();
  let refused = 0;
  let active = Object.keys(state.alerts).length;

  const resolve = (a: Alert) => {
    if (a.state === 'pending') {
      // Never fired: forget it, unless the officer still believes an earlier instance fires.
      if (a.notified !== 'firing') {
        delete state.alerts[a.fingerprint];
        changed.set(a.fingerprint, { ...a, state: 'resolved', endsAt: now });
        return;
      }
    } else {
      a.transitions.push(now);
    }
    a.state = 'resolved';
    a.endsAt = now;
    touch(a);
  };

  // 1. Observations → alert state (pending duration, hysteresis, dedup by fingerprint).
  for (const o of input.observations) {
    const timing = input.rules[o.rule];
    if (!timing) continue;
    const fp = fingerprint(o.rule, o.site, o.host, o.key);
    if (seen.has(fp)) continue; // one observation per fingerprint and round: the first wins
    seen.add(fp);
    let a = state.alerts[fp];
    const working = timing.schedule === 'always' || input.inWorkingHours(o.site);
    let condition = o.condition;
    if (!working && condition === 'firing') {
      // Outside working hours a schedule-bound rule starts nothing; what already fires stays as it is.
      condition = a?.state === 'firing' ? 'hold' : 'recovered';
    }
    if (a && a.state !== 'resolved' && condition !== 'recovered') {
      // A resolved alert keeps the figures it fired with (the message says what it was).
      a.lastSeen = now;
      a.severity = o.severity;
      a.value = o.value;
      a.summary = o.summary;
      a.hint = o.hint;
    }
    if (condition === 'firing') {
      if (!a || a.state === 'resolved') {
        if (!a && active >= (s.maxAlerts ?? Infinity)) {
          refused++;
          continue;
        }
        if (!a) active++;
        const carried = a;
        a = {
          id: state.nextId++,
          fingerprint: fp,
          rule: o.rule,
          site: o.site,
          host: o.host,
          key: o.key,
          severity: o.severity,
          state: 'pending',
          activeSince: Math.min(o.since ?? now, now),
          pendingSince: now,
          startsAt: null,
          endsAt: null,
          value: o.value,
          summary: o.summary,
          hint: o.hint,
          lastSeen: now,
          silenced: false,
          inhibited: false,
          flapping: carried?.flapping ?? false,
          transitions: carried ? [...carried.transitions] : [],
          // A resolution not yet told: the officer still believes it fires.
          notified: carried?.notified === 'firing' ? 'firing' : 'none',
          notifiedAt: carried?.notifiedAt ?? null,
        };
        state.alerts[fp] = a;
        touch(a);
      }
      if (a.state === 'pending' && now - a.pendingSince >= timing.forMs) {
        a.state = 'firing';
        a.startsAt = now;
        a.transitions.push(now);
      }
      touch(a);
    } else if (condition === 'recovered') {
      if (a && a.state !== 'resolved') {
        a.lastSeen = now;
        if (o.resolvedSummary) {
          a.summary = o.resolvedSummary;
          a.value = o.value;
        }
        resolve(a);
      }
    } else if (a && a.state !== 'resolved') {
      touch(a);
    }
  }

  // 2. Alerts nobody reported on: rule disabled or subject gone.
  for (const a of Object.values(state.alerts)) {
    if (a.state === 'resolved' || seen.has(a.fingerprint)) continue;
    if (!input.rules[a.rule] || now - a.lastSeen >= s.staleAfterMs) resolve(a);
  }

  // 3. Silences, inhibition, flapping: decide what may be told.
  for (const a of Object.values(state.alerts)) {
    const timing = input.rules[a.rule];
    const silenced = !!silencedBy(input.silences, a, now);
    const inhibited = a.state !== 'resolved' ? isInhibited(input.openIncidents, a.site, a.host, timing?.inhibitedByIncident ?? false) : a.inhibited;
    const transitions = pruneTransitions(a.transitions, now, flap);
    const flapping = isFlapping(a.flapping, transitions, flap);
    if (silenced !== a.silenced || inhibited !== a.inhibited || flapping !== a.flapping || transitions.length !== a.transitions.length) {
      a.silenced = silenced;
      a.inhibited = inhibited;
      a.flapping = flapping;
      a.transitions = transitions;
      touch(a);
    }
  }

  // 4. Grouping by site: one notification per site with what fires and what was resolved.
  const notifications: Notification[] = [];
  const bySite = new Map<string, Alert[]>();
  for (const a of Object.values(state.alerts)) {
    const list = bySite.get(a.site);
    if (list) list.push(a);
    else bySite.set(a.site, [a]);
  }
  for (const site of new Set([...bySite.keys(), ...Object.keys(state.groups)])) {
    const alerts = bySite.get(site) ?? [];
    let g = state.groups[site];
    if (!g) g = state.groups[site] = { site, changedSince: null, lastSentAt: null, seq: 0 };
    const working = input.inWorkingHours(site);
    const tellable = (a: Alert) => {
      const t = input.rules[a.rule];
      return !a.silenced && !a.inhibited && !a.flapping && (!t || t.schedule === 'always' || working);
    };
    // Resolutions the officer was told the start of. Silenced ones settle quietly.
    for (const a of alerts) {
      if (a.state === 'resolved' && a.notified === 'firing' && a.silenced) {
        a.notified = 'resolved';
        touch(a);
      }
    }
    const firing = alerts.filter((a) => a.state === 'firing' && tellable(a));
    const newFiring = firing.filter((a) => a.notified !== 'firing');
    const resolved = alerts.filter((a) => a.state === 'resolved' && a.notified === 'firing' && !a.flapping);
    let kind: Notification['kind'] | undefined;
    if (newFiring.length || resolved.length) {
      g.changedSince ??= now;
      const interval = newFiring.length ? s.groupIntervalMs : Math.min(s.groupIntervalMs, s.resolvedIntervalMs ?? s.groupIntervalMs);
      if (now - g.changedSince >= s.groupWaitMs && (g.lastSentAt === null || now - g.lastSentAt >= interval)) {
        kind = newFiring.length ? 'alert' : 'resolved';
      }
    } else {
      g.changedSince = null;
      const due = firing.some((a) => {
        const every = input.rules[a.rule]?.repeatIntervalMs ?? s.repeatIntervalMs;
        return a.notifiedAt !== null && now - a.notifiedAt >= every;
      });
      if (due && firing.length) kind = 'repeat';
    }
    if (kind) {
      g.seq += 1;
      const view = (a: Alert, st: 'firing' | 'resolved'): NotifiedAlert => ({
        id: a.id,
        fingerprint: a.fingerprint,
        rule: a.rule,
        site: a.site,
        host: a.host,
        key: a.key,
        severity: a.severity,
        state: st,
        startsAt: a.activeSince,
        endsAt: st === 'resolved' ? a.endsAt : null,
        value: a.value,
        summary: a.summary,
        hint: a.hint,
        isNew: a.notified !== 'firing',
      });
      const order = (x: Alert, y: Alert) => (x.severity === y.severity ? x.activeSince - y.activeSince : x.severity === 'critical' ? -1 : 1);
      const base = {
        siteName: input.siteName(site),
        kind,
        firing: [...firing].sort(order).map((a) => view(a, 'firing')),
        resolved: [...resolved].sort(order).map((a) => view(a, 'resolved')),
      };
      const vi = renderNotification(base, 'vi');
      const en = renderNotification(base, 'en');
      notifications.push({
        id: `${site}@${now}`,
        site,
        createdAt: now,
        ...base,
        title: { vi: vi.title, en: en.title },
        text: { vi: vi.text, en: en.text },
      });
      for (const a of firing) {
        a.notified = 'firing';
        a.notifiedAt = now;
        touch(a);
      }
      for (const a of resolved) {
        a.notified = 'resolved';
        a.notifiedAt = now;
        touch(a);
      }
      g.lastSentAt = now;
      g.changedSince = null;
    }
  }

  // 5. Settle: resolved alerts leave the active state once told (or not to be told) and
  //    past the flap window (their transitions are what flap damping counts).
  const removed: Alert[] = [];
  for (const a of Object.values(state.alerts)) {
    if (a.state !== 'resolved' || a.notified === 'firing') continue;
    if (now - (a.endsAt ?? now) >= s.flapWindowMs || a.transitions.length === 0) {
      delete state.alerts[a.fingerprint];
      removed.push(a);
    }
  }
  for (const [site, g] of Object.entries(state.groups)) {
    if (!bySite.has(site) && (g.lastSentAt === null || now - g.lastSentAt >= s.groupIntervalMs)) delete state.groups[site];
  }
  return { state, notifications, changed: [...changed.values()], removed, refused };
}
