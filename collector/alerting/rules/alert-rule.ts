import { z } from 'zod';
import type { HostState } from '../../store/store.js';
import type { SiteIncident } from '../../outage/outage-types.js';
import type { Localized, Observation, Severity } from '../alert-types.js';
import type { Baseline } from '../baselines.js';
import type { WindowEvent, WindowSample } from '../metric-windows.js';
import type { SampleWindow } from '../sample-window.js';

/**
 * The port of an alert rule (issue 4 built-in rules; house style §2: one file per rule,
 * one registry line). A rule is a pure function of (context, params): it reads the
 * snapshot and says, per subject, whether its firing condition, its recovery condition or
 * neither holds. Timing (pending, repeat, schedule) is the engine's.
 */

export interface SiteView {
  site: string;
  name: string;
  /** Contracted line speed, Mbit/s. */
  lineMbps: number | undefined;
  inWorkingHours: boolean;
  hosts: HostState[];
  /** Open site incidents (outage collector). */
  openIncidents: SiteIncident[];
  /**
   * Hosts switched off cleanly (agent stopped by SIGTERM / a shutdown) and not back, with the
   * time they stopped (issue 13): not out, never alerted on.
   */
  stopped?: ReadonlyMap<string, number> | undefined;
}

export interface RuleContext {
  now: number;
  sites: readonly SiteView[];
  /** A host's samples at or after `from` (aggregates and callbacks: sample-window.ts). */
  window(site: string, host: string, from: number): SampleWindow;
  /** The newest sample of a host if it is at or after `from` (kept longer than the windows). */
  lastSample(site: string, host: string, from: number): WindowSample | undefined;
  events(site: string, host: string, from: number): WindowEvent[];
  baseline(site: string, series: string): Baseline | undefined;
  /** Site incidents overlapping [from, to] (empty when no outage collector runs). */
  incidents(site: string, from: number, to: number): SiteIncident[];
  /** Working time in [from, to), ms, of `site`. */
  workingMs(site: string, from: number, to: number): number;
}

/** Params every rule has (tunable in `alerting.rules.<name>`). */
export function commonParams(d: { forSeconds: number; schedule: 'always' | 'working_hours'; severity: Severity; repeatMinutes?: number; inhibitedByIncident?: boolean }) {
  return {
    enabled: z.boolean().default(true),
    /** Pending duration: the condition must hold this long. */
    forSeconds: z
      .number()
      .min(0)
      .max(7 * 86_400)
      .default(d.forSeconds),
    /** Re-send while firing this often; default `alerting.repeatMinutes`. */
    repeatMinutes:
      d.repeatMinutes === undefined
        ? z
            .number()
            .min(1)
            .max(30 * 1440)
            .optional()
        : z
            .number()
            .min(1)
            .max(30 * 1440)
            .default(d.repeatMinutes),
    /** `working_hours`: starts and notifies only in the site's working hours. */
    schedule: z.enum(['always', 'working_hours']).default(d.schedule),
    severity: z.enum(['warning', 'critical']).default(d.severity),
    /** A site-level alert of this rule is held back while a site incident is open. */
    inhibitedByIncident: z.boolean().default(d.inhibitedByIncident ?? false),
  };
}

export interface CommonParams {
  enabled: boolean;
  forSeconds: number;
  repeatMinutes?: number | undefined;
  schedule: 'always' | 'working_hours';
  severity: Severity;
  inhibitedByIncident: boolean;
}

export interface AlertRule<P extends CommonParams = CommonParams> {
  readonly name: string;
  /** One line for docs and `canh alerts rules`. */
  readonly description: Localized;
  readonly params: z.ZodType<P>;
  evaluate(ctx: RuleContext, params: P): Observation[];
}

/** Helper: an observation of `rule` with the rule's severity. */
export function observe(
  rule: string,
  p: CommonParams,
  o: Omit<Observation, 'rule' | 'severity' | 'key' | 'host'> & { key?: string; host?: string | null; severity?: Severity },
): Observation {
  return { ...o, rule, severity: o.severity ?? p.severity, key: o.key ?? '', host: o.host ?? null };
}

/** q-quantile of values (nearest rank). */
export function quantile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
}
