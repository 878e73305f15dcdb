/**
 * Hand-made snapshots for the alert rules, which are pure functions of (context, params)
 * (collector/alerting/rules/alert-rule.ts): one site `xa-a` on Tuesday 24/11/2026 09:30
 * Vietnam time, hosts, samples, events, baselines and incidents as a test gives them.
 */
import { AlertingConfigSchema } from '../../collector/alerting/alerting-config.js';
import type { Baseline } from '../../collector/alerting/baselines.js';
import type { WindowEvent, WindowSample } from '../../collector/alerting/metric-windows.js';
import type { CommonParams, RuleContext, SiteView } from '../../collector/alerting/rules/alert-rule.js';
import { arrayWindow } from '../../collector/alerting/sample-window.js';
import { BUILT_IN_RULES } from '../../collector/alerting/rules/registry.js';
import type { SiteIncident } from '../../collector/outage/outage-types.js';
import { workingMs, WorkingHoursSchema } from '../../collector/sites/schedule/working-hours.js';
import type { HostState } from '../../collector/store/store.js';

export const NOW = Date.parse('2026-11-24T09:30:00+07:00'); // Tuesday

const config = AlertingConfigSchema.parse({});

/** A built-in rule with its default params (overridable), as a function of a context. */
export function rule(name: string, over: Record<string, unknown> = {}) {
  const r = BUILT_IN_RULES.find((x) => x.name === name);
  if (!r) throw new Error(`no built-in rule ${name}`);
  const key = name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const params = { ...(config.rules as Record<string, CommonParams>)[key]!, ...over };
  return (ctx: RuleContext) => r.evaluate(ctx, params);
}

export function host(h: string, state: HostState['state'] = 'online', over: Partial<HostState> = {}): HostState {
  return {
    site: 'xa-a',
    host: h,
    hostname: h.toUpperCase(),
    state,
    stateSince: NOW - 600_000,
    lastSeen: NOW - 600_000,
    boot: 'b',
    osBoot: null,
    agentVersion: '0.1',
    lastSkewMs: 0,
    clockSkewMs: null,
    clockSkewSince: null,
    firstSeen: 0,
    ...over,
  };
}

export function sample(over: Partial<WindowSample>, t = NOW - 30_000): WindowSample {
  return { t, cpu: null, memPct: null, disks: [], ping: [], http: [], rxBps: null, txBps: null, ...over };
}

export const ping = (target: string, lossPct: number, rttP95: number | null, role: 'gateway' | 'configured' = 'configured') => ({
  target,
  role,
  lossPct,
  rttP95,
  rttMedian: rttP95,
});

export function ruleContext(opts: {
  hosts?: HostState[];
  samples?: Record<string, WindowSample[]>;
  events?: Record<string, WindowEvent[]>;
  baselines?: Record<string, Partial<Baseline>>;
  incidents?: SiteIncident[];
  /** Open site incidents of the site (the outage collector's). */
  openIncidents?: SiteIncident[];
  /** Hosts switched off cleanly, with when they stopped. */
  stopped?: ReadonlyMap<string, number>;
  lineMbps?: number;
  now?: number;
}): RuleContext {
  const wh = WorkingHoursSchema.parse({});
  const now = opts.now ?? NOW;
  const site: SiteView = {
    site: 'xa-a',
    name: 'Xã A',
    lineMbps: opts.lineMbps,
    inWorkingHours: true,
    hosts: opts.hosts ?? [host('pc1')],
    openIncidents: opts.openIncidents ?? [],
    stopped: opts.stopped,
  };
  return {
    now,
    sites: [site],
    window: (_s, h, from) => arrayWindow((opts.samples?.[h] ?? []).filter((x) => x.t >= from)),
    lastSample: (_s, h, from) =>
      (opts.samples?.[h] ?? [])
        .filter((x) => x.t >= from)
        .sort((a, b) => a.t - b.t)
        .at(-1),
    events: (_s, h, from) => (opts.events?.[h] ?? []).filter((x) => x.t >= from),
    baseline: (_s, series) =>
      opts.baselines?.[series] ? ({ site: 'xa-a', series, loss: 0, latency: null, n: 100, updated: 0, ...opts.baselines[series] } as Baseline) : undefined,
    incidents: (_s, from, to) => (opts.incidents ?? []).filter((i) => i.start <= to && (i.end ?? now) >= from),
    workingMs: (_s, from, to) => workingMs(wh, from, to),
  };
}
