import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import type { StoredMessage } from '../../../../collector/ingest/ingest.js';
import { incidentPoint } from '../../../../collector/influx/point-builder.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { OutageConfigSchema } from '../../../../collector/outage/outage-config.js';
import { OutageTracker, type OutageTrackerDeps } from '../../../../collector/outage/outage-tracker.js';
import { SqliteOutageStore } from '../../../../collector/outage/sqlite-outage-store.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/** The tracker's own duties: metrics, the export hook, the host bound, store failures. */
describe('OutageTracker', () => {
  const status = (clock: FakeClock, site: string, host: string, state: 'online' | 'offline', t: number): StoredMessage => ({
    kind: 'status',
    row: { site, host, boot: `boot-${host}`, t, received: clock.now(), state, hostname: host, agentVersion: '0', osBoot: t - 3600_000, keepalive: 10 },
  });
  const make = (over: Partial<OutageTrackerDeps> = {}, config = {}) => {
    const clock = new FakeClock();
    const metrics = new MetricsRegistry();
    const store = new SqliteOutageStore(openDatabase(':memory:'));
    const closed: unknown[] = [];
    const tracker = new OutageTracker({
      store,
      config: OutageConfigSchema.parse(config),
      skewToleranceMs: 60_000,
      clock,
      log: silentLogger(),
      metrics,
      onClosed: (c) => closed.push(c),
      ...over,
    });
    tracker.start();
    return { clock, metrics, store, tracker, closed };
  };

  it('counts incidents and outages in /metrics and hands closed ones to the export hook (InfluxDB incident points)', () => {
    const { clock, metrics, tracker, closed } = make({}, { settleSeconds: 5 });
    const births = ['a', 'b'].map((h) => status(clock, 's', h, 'online', clock.now()));
    births.forEach((b) => tracker.onStored(b));
    clock.advance(10_000);
    births.forEach((b) => tracker.onStored({ ...b, row: { ...b.row, state: 'offline', received: clock.now() } } as StoredMessage));
    expect(metrics.render()).toMatch(/canh_outage_incidents_open 1/);
    clock.advance(60_000);
    // They come back on the same boot with nothing buffered: offline, decided after the settle time.
    ['a', 'b'].forEach((h) => tracker.onStored(status(clock, 's', h, 'online', clock.now())));
    clock.advance(6_000);
    const text = metrics.render();
    expect(text).toMatch(/canh_outage_incidents_opened_total 1/);
    expect(text).toMatch(/canh_outage_incidents_resolved_total\{cause="unknown"\} 1/);
    expect(text).toMatch(/canh_outage_host_outages_closed_total\{cause="offline"\} 2/);
    expect(text).toMatch(/canh_outage_incidents_open 0/);
    expect(closed.map((c) => (c as { scope: string }).scope).sort()).toEqual(['host', 'host', 'site']);
    const site = closed.find((c) => (c as { scope: string }).scope === 'site') as { incident: { site: string; cause: string; start: number; end: number; hosts: string[] } };
    const [line] = incidentPoint({ site: 's', scope: 'site', cause: site.incident.cause, start: site.incident.start, end: site.incident.end, hosts: site.incident.hosts.length });
    expect(line).toMatch(/^incident,cause=unknown,scope=site,site=s count=1i?,duration_s=/);
  });

  it("asks for a host's retained status when it is heard with no birth known, and when it goes silent with no will heard", () => {
    const wanted: Array<[string, string, string]> = [];
    const { clock, tracker } = make({ onStatusWanted: (site, host, reason) => wanted.push([site, host, reason]) }, { silenceSeconds: 30 });
    const sample = (host: string): StoredMessage => ({
      kind: 'samples',
      row: { site: 's', host, boot: `boot-${host}`, seq: 1, t: clock.now(), tAgent: clock.now(), sent: clock.now(), received: clock.now(), skewMs: 0, interval: 15, metrics: {} },
    });
    // a: born; b: heard first by a sample (its birth dropped on the way).
    tracker.onStored(status(clock, 's', 'a', 'online', clock.now()));
    tracker.onStored(sample('a'));
    tracker.onStored(sample('b'));
    tracker.onStored(sample('b'));
    expect(wanted).toEqual([['s', 'b', 'unknown']]);
    // Both go silent, no will: each one asked for once.
    clock.advance(61_000);
    tracker.tick();
    expect(wanted.slice(1).sort()).toEqual([
      ['s', 'a', 'silence'],
      ['s', 'b', 'silence'],
    ]);
    // A will read again confirms the outage (no further asking).
    tracker.onStored({
      ...status(clock, 's', 'a', 'offline', clock.now() - 120_000),
      row: { ...status(clock, 's', 'a', 'offline', 0).row, t: clock.now() - 61_000 - 1, received: clock.now() },
    } as StoredMessage);
    clock.advance(5000);
    tracker.tick();
    expect(wanted).toHaveLength(3);
    expect(tracker.siteState('s')!.hosts.a!.outage?.unconfirmed).toBeFalsy();
    // Power back: a is heard from a new boot, its birth dropped on the way: asked for again;
    // the birth read then is its return.
    clock.advance(60_000);
    tracker.onStored({ kind: 'samples', row: { ...(sample('a').row as object), boot: 'boot-a-2' } } as StoredMessage);
    expect(wanted.at(-1)).toEqual(['s', 'a', 'unknown']);
    expect(tracker.siteState('s')!.hosts.a!.outage?.returned).toBeFalsy();
    tracker.onStored({ ...status(clock, 's', 'a', 'online', clock.now()), row: { ...status(clock, 's', 'a', 'online', clock.now()).row, boot: 'boot-a-2' } } as StoredMessage);
    expect(tracker.siteState('s')!.hosts.a!.outage?.returned?.newAgentBoot).toBe(true);
  });

  it('tracks at most maxHosts hosts; more are counted, not kept', () => {
    const { clock, metrics, tracker } = make({}, { maxHosts: 2 });
    for (const h of ['a', 'b', 'c']) tracker.onStored(status(clock, 's1', h, 'online', clock.now()));
    tracker.onStored(status(clock, 's2', 'x', 'online', clock.now()));
    expect(Object.keys(tracker.siteState('s1')!.hosts)).toEqual(['a', 'b']);
    expect(tracker.siteState('s2')).toBeUndefined();
    expect(metrics.render()).toMatch(/canh_outage_hosts_untracked_total 2/);
  });

  it('a failing store write is counted; the state stays in memory and is saved at the next tick', () => {
    const { clock, metrics, tracker, store } = make();
    const realApply = store.apply.bind(store);
    let fail = true;
    store.apply = (...args) => {
      if (fail) throw new Error('disk full');
      return realApply(...args);
    };
    tracker.onStored(status(clock, 's', 'a', 'online', clock.now()));
    expect(metrics.render()).toMatch(/canh_outage_store_errors_total 1/);
    fail = false;
    clock.advance(1000);
    expect(store.load().sites.map((s) => Object.keys(s.hosts))).toEqual([['a']]);
  });
});

describe('OutageTracker after a restart of the collector', () => {
  /** 20 PCs of one site online and sampling, the collector restarted (same SQLite file), nobody heard for 2 min, then all back in a new broker session of the same agent boot. */
  function restartRun(sessionsEndWithCollector: boolean) {
    const clock = new FakeClock();
    const db = openDatabase(':memory:');
    const deps = (metrics: MetricsRegistry): OutageTrackerDeps => ({
      store: new SqliteOutageStore(db),
      config: OutageConfigSchema.parse({ silenceSeconds: 60, settleSeconds: 5 }),
      skewToleranceMs: 60_000,
      clock,
      log: silentLogger(),
      metrics,
      sessionsEndWithCollector,
    });
    const hosts = Array.from({ length: 20 }, (_, i) => `pc-${i}`);
    const birth = (host: string, t: number): StoredMessage => ({
      kind: 'status',
      row: { site: 's', host, boot: `boot-${host}`, t, received: clock.now(), state: 'online', hostname: host, agentVersion: '0', osBoot: 1_000, keepalive: 10 },
    });
    const sample = (host: string, seq: number): StoredMessage => ({
      kind: 'samples',
      row: { site: 's', host, boot: `boot-${host}`, seq, t: clock.now(), tAgent: clock.now(), sent: clock.now(), received: clock.now(), skewMs: 0, interval: 15, metrics: {} },
    });
    const first = new OutageTracker(deps(new MetricsRegistry()));
    first.start();
    for (const h of hosts) first.onStored(birth(h, clock.now()));
    for (let i = 1; i <= 4; i++) {
      clock.advance(15_000);
      for (const h of hosts) first.onStored(sample(h, i));
    }
    first.stop();
    clock.advance(120_000); // the collector (and an embedded broker with it) down
    const metrics = new MetricsRegistry();
    const second = new OutageTracker(deps(metrics));
    second.start();
    // The reconnect storm: nobody heard for 90 s (more than the silence timeout).
    for (let i = 0; i < 9; i++) {
      clock.advance(10_000);
      second.tick();
    }
    for (const h of hosts) second.onStored(birth(h, clock.now()));
    for (let i = 5; i <= 8; i++) {
      clock.advance(15_000);
      for (const h of hosts) second.onStored(sample(h, i));
      second.tick();
    }
    const state = second.siteState('s')!;
    second.stop();
    return { text: metrics.render(), state };
  }

  it('with the broker in its process (embedded), PCs not yet reconnected are not silent: no outage, no incident; all online again once heard', () => {
    const { text, state } = restartRun(true);
    expect(text).toMatch(/^canh_outage_hosts_out 0$/m);
    expect(text).not.toMatch(/canh_outage_incidents_opened_total [1-9]/);
    expect(text).not.toMatch(/canh_outage_host_outages_opened_total(\{[^}]*\})? [1-9]/);
    expect(Object.values(state.hosts).every((h) => h.state === 'online' && !h.outage)).toBe(true);
  });

  it('with an external broker (sessions kept), silence still counts from the restart', () => {
    const { text } = restartRun(false);
    expect(text).toMatch(/canh_outage_host_outages_opened_total(\{[^}]*\})? [1-9]/);
  });
});
