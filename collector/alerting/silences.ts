import type { Alert, Silence, SilenceMatchers } from './alert-types.js';

/**
 * Silences and maintenance windows (issue 4): an alert matching an active silence is kept
 * and recorded, but not notified. Matchers are equality on rule/site/host; a missing
 * matcher matches anything; a silence with no matcher at all matches nothing (an empty
 * silence must not mute every site by accident: the API refuses it too).
 */
export type SilenceStatus = 'pending' | 'active' | 'expired';

export function silenceStatus(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceStatus {
  if (now >= s.endsAt) return 'expired';
  return now < s.startsAt ? 'pending' : 'active';
}

export function hasMatcher(m: SilenceMatchers): boolean {
  return m.rule !== undefined || m.site !== undefined || m.host !== undefined;
}

export function matches(m: SilenceMatchers, a: Pick<Alert, 'rule' | 'site' | 'host'>): boolean {
  if (!hasMatcher(m)) return false;
  if (m.rule !== undefined && m.rule !== a.rule) return false;
  if (m.site !== undefined && m.site !== a.site) return false;
  if (m.host !== undefined && m.host !== a.host) return false;
  return true;
}

/** The active silence that mutes `a`, if any. */
export function silencedBy(silences: readonly Silence[], a: Pick<Alert, 'rule' | 'site' | 'host'>, now: number): Silence | undefined {
  return silences.find((s) => silenceStatus(s, now) === 'active' && matches(s.matchers, a));
}
