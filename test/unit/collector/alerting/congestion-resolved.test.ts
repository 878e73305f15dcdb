/**
 * Issue 13 item 5: the RESOLVED message quotes the figure that ended the congestion alert,
 * not the last bad one ("2.1% packet loss (normally 0%)" was sent as resolved).
 */
import { describe, expect, it } from 'vitest';
import { emptyState, type Observation } from '../../../../collector/alerting/alert-types.js';
import { evaluate, type EvaluationInput } from '../../../../collector/alerting/engine.js';
import type { WindowSample } from '../../../../collector/alerting/metric-windows.js';
import type { RuleContext } from '../../../../collector/alerting/rules/alert-rule.js';
import { peakHourCongestion } from '../../../../collector/alerting/rules/peak-hour-congestion.js';
import { arrayWindow } from '../../../../collector/alerting/sample-window.js';
import type { HostState } from '../../../../collector/store/store.js';

const NOW = Date.UTC(2026, 10, 24, 1, 0, 0);
const params = peakHourCongestion.params.parse({});

function ctx(loss: number, now = NOW): RuleContext {
  const sample = (t: number): WindowSample => ({
    t,
    cpu: null,
    memPct: null,
    disks: [],
    ping: [{ target: '8.8.8.8', role: 'configured', lossPct: loss, rttP95: 20, rttMedian: 10 }],
    http: [],
    rxBps: null,
    txBps: null,
  });
  return {
    now,
    sites: [{ site: 'xa-a', name: 'UBND xã A', lineMbps: undefined, inWorkingHours: true, hosts: [{ site: 'xa-a', host: 'pc-01' } as HostState], openIncidents: [] }],
    window: () => arrayWindow([sample(now - 30_000), sample(now - 15_000)]),
    lastSample: () => sample(now - 15_000),
    events: () => [],
    baseline: () => ({ site: 'xa-a', series: 'ping:8.8.8.8', loss: 0, latency: 15, n: 600, days: 7, updated: now }),
    incidents: () => [],
    workingMs: () => 0,
  };
}

const input = (observations: Observation[]): EvaluationInput => ({
  observations,
  rules: { peak_hour_congestion: { forMs: 0, schedule: 'always', inhibitedByIncident: false } },
  silences: [],
  openIncidents: [],
  inWorkingHours: () => true,
  siteName: () => 'UBND xã A',
  settings: { groupWaitMs: 0, groupIntervalMs: 0, repeatIntervalMs: 3_600_000, flapWindowMs: 0, flapThreshold: 100, staleAfterMs: 3_600_000 },
});

describe('peak-hour congestion: resolved text', () => {
  it('quotes the loss that ended the alert', () => {
    const firing = peakHourCongestion.evaluate(ctx(12), params);
    expect(firing[0]!.condition).toBe('firing');
    let r = evaluate(emptyState(), input(firing), NOW);
    r = evaluate(r.state, input(firing), NOW + 1000);
    expect(r.state.alerts[Object.keys(r.state.alerts)[0]!]!.state).toBe('firing');
    // 2.1 %: between recovery and firing, held; then 0.5 %: recovered.
    const held = peakHourCongestion.evaluate(ctx(2.1, NOW + 60_000), params);
    expect(held[0]!.condition).toBe('hold');
    r = evaluate(r.state, input(held), NOW + 60_000);
    const rec = peakHourCongestion.evaluate(ctx(0.5, NOW + 120_000), params);
    expect(rec[0]!.condition).toBe('recovered');
    r = evaluate(r.state, input(rec), NOW + 120_000);
    const n = r.notifications.find((x) => x.kind === 'resolved')!;
    expect(n).toBeDefined();
    expect(n.resolved[0]!.value).toBe(0.5);
    expect(n.text.vi).toContain('mất 0,5% gói tới 8.8.8.8 (bình thường 0%)');
    expect(n.text.en).toContain('0.5% packet loss to 8.8.8.8 (normally 0%)');
    expect(n.text.en).not.toContain('2.1%');
    expect(n.text.vi).not.toContain('12%');
  });
});
