/**
 * Flap damping (Nagios/Zabbix style): an alert that changes state `threshold` times within
 * `windowMs` is "flapping" and stops notifying until it has calmed down to half of that
 * (hysteresis, so it does not flap between flapping and not). What the officer was last
 * told is then brought up to date in one message.
 */
export interface FlapSettings {
  windowMs: number;
  threshold: number;
}

export function pruneTransitions(transitions: readonly number[], now: number, s: FlapSettings): number[] {
  return transitions.filter((t) => now - t < s.windowMs);
}

export function isFlapping(wasFlapping: boolean, transitions: readonly number[], s: FlapSettings): boolean {
  if (wasFlapping) return transitions.length > Math.floor(s.threshold / 2);
  return transitions.length >= s.threshold;
}
