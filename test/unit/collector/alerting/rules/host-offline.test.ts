import { describe, expect, it } from 'vitest';
import { emptyState, type EngineState, type Notification } from '../../../../../collector/alerting/alert-types.js';
import { evaluate, type EngineSettings } from '../../../../../collector/alerting/engine.js';
import type { StoredMessage } from '../../../../../collector/ingest/ingest.js';
import { OutageConfigSchema } from '../../../../../collector/outage/outage-config.js';
import { OutageTracker } from '../../../../../collector/outage/outage-tracker.js';
import { SqliteOutageStore } from '../../../../../collector/outage/sqlite-outage-store.js';
import { openDatabase } from '../../../../../collector/store/sqlite-store.js';
import type { HostState } from '../../../../../collector/store/store.js';
import { silentLogger } from '../../../../../common/log.js';
import { MetricsRegistry } from '../../../../../common/metrics-registry.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';
import { host, rule, ruleContext } from '../../../../helpers/rule-context.js';

/**
 * host_offline for a PC switched off cleanly (issue 13 item 1: "a clean stop or planned
 * shutdown is never an outage and never alerts"). The real outage tracker decides from the
 * agent's messages whether the host stopped (its `offline` status after the session's birth,
 * or `agent_stop` followed by its Last Will) or dropped (a Last Will alone); the rule and the
 * engine then run over what it says, minute after minute, past the rule's 5-minute pending.
 */
const MIN = 60_000;
const SETTINGS: EngineSettings = {
  groupWaitMs: 5_000,
  groupIntervalMs: 5 * MIN,
  resolvedIntervalMs: 10_000,
  repeatIntervalMs: 240 * MIN,
  flapWindowMs: 60 * MIN,
  flapThreshold: 4,
  staleAfterMs: 60 * MIN,
};
const hostOffline = rule('host_offline');

function scenario(end: 'offline status' | 'agent_stop then will' | 'will only') {
  const clock = new FakeClock();
  const tracker = new OutageTracker({
    store: new SqliteOutageStore(openDatabase(':memory:')),
    config: OutageConfigSchema.parse({}),
    skewToleranceMs: 60_000,
    clock,
    log: silentLogger(),
    metrics: new MetricsRegistry(),
  });
  tracker.start();
  const key = { site: 'xa-a', host: 'pc1', boot: 'boot-pc1' };
  const status = (state: 'online' | 'offline', t: number): StoredMessage => ({
    kind: 'status',
    row: { ...key, t, received: clock.now(), state, hostname: 'PC1', agentVersion: '0.1', osBoot: t - 3600_000, keepalive: 10 },
  });
  const birth = clock.now();
  tracker.onStored(status('online', birth));
  tracker.onStored({ kind: 'samples', row: { ...key, seq: 1, t: clock.now(), received: clock.now(), interval: 1 } } as StoredMessage);
  clock.advance(30_000);
  if (end === 'offline status') {
    // The agent's own "offline" on SIGTERM: stamped with the stop time, after the birth.
    tracker.onStored(status('offline', clock.now()));
  } else {
    if (end === 'agent_stop then will') {
      tracker.onStored({
        kind: 'events',
        row: { ...key, seq: 2, t: clock.now(), received: clock.now(), type: 'agent_stop', severity: 'info', message: 'service stopping' },
      });
    }
    // The Last Will carries the session's connect time (the birth).
    tracker.onStored(status('offline', birth));
  }
  const since = clock.now();
  const offline: HostState = host('pc1', 'offline', { stateSince: since, lastSeen: since });

  // The rule and the engine over the tracker's view, every 2 s for 10 minutes.
  let state: EngineState = emptyState();
  const sent: Notification[] = [];
  let fired = false;
  for (let t = 0; t < 10 * MIN; t += 2000) {
    clock.advance(2000);
    const now = clock.now();
    const observations = hostOffline(ruleContext({ now, hosts: [offline], stopped: tracker.stoppedHosts('xa-a') }));
    const r = evaluate(
      state,
      {
        observations,
        rules: { host_offline: { forMs: 5 * MIN, schedule: 'always', inhibitedByIncident: false } },
        silences: [],
        openIncidents: [],
        inWorkingHours: () => true,
        siteName: () => 'UBND xã A',
        settings: SETTINGS,
      },
      now,
    );
    state = r.state;
    sent.push(...r.notifications);
    fired ||= Object.values(state.alerts).some((a) => a.state === 'firing');
  }
  return { tracker, clock, sent, fired, state, observations: hostOffline(ruleContext({ now: clock.now(), hosts: [offline], stopped: tracker.stoppedHosts('xa-a') })) };
}

describe('host_offline and a clean stop', () => {
  it.each(['offline status', 'agent_stop then will'] as const)('stopped cleanly (%s): the host is "stopped", no outage, never pending, never a message', (end) => {
    const s = scenario(end);
    expect([...s.tracker.stoppedHosts('xa-a').keys()]).toEqual(['pc1']);
    expect(s.tracker.siteState('xa-a')!.hosts.pc1!.outage).toBeNull();
    expect(s.observations).toMatchObject([{ rule: 'host_offline', host: 'pc1', condition: 'recovered' }]);
    expect(s.observations[0]!.since).toBeUndefined();
    expect(s.fired).toBe(false);
    expect(Object.keys(s.state.alerts)).toEqual([]);
    expect(s.sent).toEqual([]);
  });

  it('dropped (a Last Will, no agent_stop): an outage, and host_offline fires after 5 minutes and is told', () => {
    const s = scenario('will only');
    expect(s.tracker.stoppedHosts('xa-a').size).toBe(0);
    expect(s.tracker.siteState('xa-a')!.hosts.pc1!.outage).not.toBeNull();
    expect(s.observations).toMatchObject([{ host: 'pc1', condition: 'firing' }]);
    expect(s.fired).toBe(true);
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]!.text.vi).toContain('pc1: Máy (PC1) mất kết nối');
  });

  it('the rule alone: a stopped host is "recovered" (not out); the same host not in the stopped list fires', () => {
    const off = host('pc1', 'offline');
    expect(hostOffline(ruleContext({ hosts: [off], stopped: new Map([['pc1', 0]]) }))[0]!.condition).toBe('recovered');
    expect(hostOffline(ruleContext({ hosts: [off], stopped: new Map([['pc2', 0]]) }))[0]!.condition).toBe('firing');
  });
});
