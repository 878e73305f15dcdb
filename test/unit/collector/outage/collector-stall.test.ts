import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { NO_STALLS, type CollectorStalls } from '../../../../collector/outage/collector-stalls.js';
import { OutageConfigSchema } from '../../../../collector/outage/outage-config.js';
import { emptySite, type IdCounters, type SiteState } from '../../../../collector/outage/outage-state.js';
import { correlatorSettings, OutageTracker } from '../../../../collector/outage/outage-tracker.js';
import { correlate, type OutageEffect, type OutageInput } from '../../../../collector/outage/site-correlator.js';
import { SqliteOutageStore } from '../../../../collector/outage/sqlite-outage-store.js';
import { openDatabase } from '../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/**
 * Issue 12 item 5: what the collector misses while it stands still (Last Wills fired late by
 * its broker, silences, the agents' broker-scope network_cut events over the pause) is its own
 * gap, never a host outage or site incident; real outages during a stall still count.
 */

const SITE = 'xa-on-dinh';
const HOSTS = ['pc-1', 'pc-2', 'pc-3'];
const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);
const KEEPALIVE_S = 10;
const settings = correlatorSettings(OutageConfigSchema.parse({}), 60_000);

/** A fake of the stall watch: recorded stalls, and a stall not yet noticed ("since"). */
class FakeStalls implements CollectorStalls {
  stalls: Array<{ start: number; end: number }> = [];
  since: number | null = null;
  inStall(now: number): boolean {
    return this.since !== null && now - this.since > 2000;
  }
  overlaps(start: number, end: number, graceMs: number): boolean {
    return this.stalls.some((s) => start <= s.end + graceMs && end >= s.start - graceMs);
  }
  covers(start: number, end: number, graceMs: number): boolean {
    return this.stalls.some((s) => start >= s.start - graceMs && end <= s.end + graceMs);
  }
  stalledMs(start: number, end: number): number {
    return this.stalls.reduce((ms, s) => ms + Math.max(0, Math.min(end, s.end) - Math.max(start, s.start)), 0);
  }
  /** Ingest saturation episodes (end null while it lasts). */
  saturation: Array<{ start: number; end: number | null }> = [];
  deafNow(): boolean {
    return this.saturation.some((e) => e.end === null);
  }
  deafMs(start: number, end: number): number {
    return this.saturation.reduce((ms, e) => ms + Math.max(0, Math.min(end, e.end ?? end) - Math.max(start, e.start)), 0);
  }
  /** The loop stood still from `start`; noticed (recorded) at `end`. */
  stall(start: number): void {
    this.since = start;
  }
  notice(end: number): void {
    this.stalls.push({ start: this.since!, end });
    this.since = null;
  }
}

/** The pure correlator over one site, collecting every effect. */
class Site {
  st: SiteState = emptySite(SITE);
  ids: IdCounters = { nextOutageId: 1, nextIncidentId: 1 };
  fx: OutageEffect[] = [];
  constructor(readonly stalls: CollectorStalls) {}
  feed(input: OutageInput, now: number): void {
    const r = correlate(this.st, this.ids, input, now, settings, undefined, this.stalls);
    this.st = r.state;
    this.ids = r.ids;
    this.fx.push(...r.effects);
  }
  tickUntil(from: number, to: number): void {
    for (let t = from; t <= to; t += 1000) this.feed({ kind: 'tick' }, t);
  }
  /** The hosts sample every second (in boot `n`) with a tick. */
  live(from: number, to: number, n = 1): void {
    for (let t = from; t <= to; t += 1000) {
      for (const h of HOSTS) this.feed(sample(h, t, t, boot(h, n)), t);
      this.feed({ kind: 'tick' }, t);
    }
  }
  outages() {
    return this.fx.filter((e): e is Extract<OutageEffect, { kind: 'hostOutage' }> => e.kind === 'hostOutage');
  }
  incidents() {
    return this.fx.filter((e): e is Extract<OutageEffect, { kind: 'incident' }> => e.kind === 'incident');
  }
  /** The last record of each incident (a late incident is amended as its hosts' reports come in). */
  finalIncidents() {
    const last = new Map<number, Extract<OutageEffect, { kind: 'incident' }>['incident']>();
    for (const e of this.incidents()) last.set(e.incident.id, e.incident);
    return [...last.values()];
  }
}

const OS_BOOT = T0 - 3600_000;
const boot = (host: string, n = 1) => `boot-${host}-${n}`;
const birth = (host: string, at: number, b = boot(host), osBoot = OS_BOOT): OutageInput => ({
  kind: 'status',
  host,
  state: 'online',
  boot: b,
  t: at,
  received: at,
  osBoot,
  keepalive: KEEPALIVE_S,
});
/** A Last Will carries its session's connect time. */
const will = (host: string, connectedAt: number, at: number, b = boot(host)): OutageInput => ({
  kind: 'status',
  host,
  state: 'offline',
  boot: b,
  t: connectedAt,
  received: at,
  osBoot: OS_BOOT,
  keepalive: KEEPALIVE_S,
});
const sample = (host: string, t: number, received = t, b = boot(host)): OutageInput => ({ kind: 'sample', host, boot: b, t, received, interval: 1 });
const cut = (host: string, scope: string, start: number, end: number, at: number): OutageInput => ({
  kind: 'event',
  host,
  boot: boot(host),
  type: 'network_cut',
  t: at,
  received: at,
  start,
  end,
  details: { scope },
});

/** Three hosts online and sampling from T0 to T0 + 10 s. */
function running(stalls: CollectorStalls): Site {
  const s = new Site(stalls);
  for (const h of HOSTS) s.feed(birth(h, T0), T0);
  for (let t = T0 + 1000; t <= T0 + 10_000; t += 1000) for (const h of HOSTS) s.feed(sample(h, t), t);
  return s;
}

const STALL_START = T0 + 10_500;
const STALL_END = STALL_START + 40_000;

/**
 * The collector stands still 40 s. On resume its broker fires the Last Wills (I/O before the
 * timer that notices the stall), the agents reconnect (same boot) and replay their samples,
 * and report a `network_cut` of scope `scope` covering the pause.
 */
function pause(s: Site, stalls: FakeStalls | null, scope = 'broker'): void {
  stalls?.stall(STALL_START);
  for (const h of HOSTS) s.feed(will(h, T0, STALL_END), STALL_END);
  stalls?.notice(STALL_END + 10);
  s.tickUntil(STALL_END + 1000, STALL_END + 2000);
  const back = STALL_END + 3000;
  for (const h of HOSTS) {
    s.feed(birth(h, back), back);
    for (let t = T0 + 11_000; t <= back; t += 1000) s.feed(sample(h, t, back), back);
    // The agent's cut: from its last packet from the broker (keepalive before) to the reconnection.
    s.feed(cut(h, scope, STALL_START - 4000, back, back + 100), back + 100);
  }
  s.live(back + 1000, back + 120_000);
}

describe('the collector stalls while every host is fine', () => {
  it('Last Wills and broker-scope network_cut events inside the stall: no outage, no incident', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    pause(s, stalls);
    expect(s.outages()).toEqual([]);
    expect(s.incidents()).toEqual([]);
    expect(s.fx.filter((e) => e.kind === 'collectorGap').map((e) => (e as { what: string }).what)).toEqual([...HOSTS.map(() => 'will'), ...HOSTS.map(() => 'network_cut')]);
    for (const h of HOSTS) expect(s.st.hosts[h]).toMatchObject({ state: 'online', outage: null, lastClosed: null });
  });

  it('the same without a stall: host outages (network) and one site incident, as before', () => {
    const s = running(NO_STALLS);
    pause(s, null);
    const closed = s.outages().filter((e) => e.change === 'closed');
    expect(closed.map((e) => [e.outage.host, e.outage.cause]).sort()).toEqual(HOSTS.map((h) => [h, 'network']));
    const resolved = s.incidents().filter((e) => e.change === 'resolved');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.incident).toMatchObject({ cause: 'network_cut', hosts: HOSTS });
  });

  it('a will after the grace is an outage, but the broker-scope cut lying within the stall discards it', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    stalls.stall(STALL_START);
    stalls.notice(STALL_END);
    // A broker with a long keepalive of its own fires one will 30 s after the resume (grace: 1.5 × 10 s + 5 s).
    const late = STALL_END + 30_000;
    s.feed(will('pc-1', T0, late), late);
    expect(s.outages().map((e) => e.change)).toEqual(['opened']);
    s.feed(birth('pc-1', late + 1000), late + 1000);
    s.feed(cut('pc-1', 'broker', STALL_START - 4000, STALL_END + 15_000, late + 1100), late + 1100);
    expect(s.fx.some((e) => e.kind === 'discardHostOutage' && e.host === 'pc-1')).toBe(true);
    expect(s.st.hosts['pc-1']!.outage).toBeNull();
  });

  it('a silence across the stall counts only the time the collector ran', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    // A 90 s stall: longer than the 60 s silence timeout; no will comes (external broker).
    stalls.stall(STALL_START);
    s.feed({ kind: 'tick' }, STALL_START + 90_000); // the tracker's tick runs before the stall watch's
    stalls.notice(STALL_START + 90_010);
    s.tickUntil(STALL_START + 91_000, STALL_START + 100_000);
    expect(s.outages()).toEqual([]);
    // pc-1..2 speak again; pc-3 really went away: silent 60 s of running time (+ grace) after the stall.
    for (let t = STALL_START + 91_000; t <= STALL_START + 200_000; t += 1000) {
      s.feed(sample('pc-1', t), t);
      s.feed(sample('pc-2', t), t);
      s.feed({ kind: 'tick' }, t);
    }
    const opened = s.outages().filter((e) => e.change === 'opened');
    expect(opened.map((e) => e.outage.host)).toEqual(['pc-3']);
    expect(opened[0]!.outage.start).toBe(T0 + 10_000);
    expect(opened[0]!.outage.evidence.detectedAt).toBeGreaterThan(STALL_START + 90_000 + 60_000);
    expect(s.incidents()).toEqual([]);
  });
});

describe('the collector is saturated (a backlog replay) while every host is fine', () => {
  /**
   * After a restart the collector replays a province's backlog: its receive queue stays full,
   * the broker holds (Mosquitto drops beyond its queue) the agents' messages, and a whole
   * site can go unheard for more than the silence timeout although it is up and sending.
   */
  const SAT_START = T0 + 10_500;
  const SAT_END = SAT_START + 150_000;

  it('hosts unheard for 150 s while the ingest is saturated: no outage, no incident', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    stalls.saturation.push({ start: SAT_START, end: null });
    s.tickUntil(SAT_START, SAT_END);
    expect(s.outages()).toEqual([]);
    stalls.saturation[0]!.end = SAT_END;
    // Their messages come through after the saturation (the agents re-send what was dropped).
    s.tickUntil(SAT_END, SAT_END + 10_000);
    s.live(SAT_END + 10_000, SAT_END + 120_000);
    expect(s.outages()).toEqual([]);
    expect(s.incidents()).toEqual([]);
    for (const h of HOSTS) expect(s.st.hosts[h]).toMatchObject({ state: 'online', outage: null });
  });

  it('the same without the saturation recorded: every host taken as silent (no incident: no will confirmed a drop)', () => {
    const s = running(NO_STALLS);
    s.tickUntil(SAT_START, SAT_END);
    expect(
      s
        .outages()
        .filter((e) => e.change === 'opened')
        .map((e) => e.outage.host),
    ).toEqual(HOSTS);
    expect(s.incidents()).toHaveLength(0);
  });

  it('a host that stays silent after the saturation is taken as silent 60 s (+ grace) of listening time later', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    stalls.saturation.push({ start: SAT_START, end: SAT_END });
    for (let t = SAT_START; t <= SAT_END + 200_000; t += 1000) {
      if (t > SAT_END) {
        s.feed(sample('pc-1', t), t);
        s.feed(sample('pc-2', t), t);
      }
      s.feed({ kind: 'tick' }, t);
    }
    const opened = s.outages().filter((e) => e.change === 'opened');
    expect(opened.map((e) => e.outage.host)).toEqual(['pc-3']);
    expect(opened[0]!.outage.start).toBe(T0 + 10_000);
    const grace = Math.ceil(KEEPALIVE_S * 1000 * 1.5) + 5000;
    expect(opened[0]!.outage.evidence.detectedAt).toBeGreaterThan(SAT_END + 60_000 - 500);
    expect(opened[0]!.outage.evidence.detectedAt).toBeLessThanOrEqual(SAT_END + 60_000 + grace + 1000);
  });

  it('a Last Will during the saturation is still an outage (the loop runs: the will is real)', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    stalls.saturation.push({ start: SAT_START, end: null });
    s.feed(will('pc-1', T0, SAT_START + 20_000), SAT_START + 20_000);
    expect(
      s
        .outages()
        .filter((e) => e.change === 'opened')
        .map((e) => e.outage.host),
    ).toEqual(['pc-1']);
  });
});

describe('real outages during a stall still count', () => {
  it('a power cut during the stall (new OS boots): host outages and one site incident, power_cut', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    stalls.stall(STALL_START);
    for (const h of HOSTS) s.feed(will(h, T0, STALL_END), STALL_END);
    stalls.notice(STALL_END + 10);
    const newOsBoot = STALL_START + 5000;
    const back = STALL_END + 20_000;
    for (const h of HOSTS) {
      s.feed(birth(h, back, boot(h, 2), newOsBoot), back);
      s.feed(
        {
          kind: 'event',
          host: h,
          boot: boot(h, 2),
          type: 'outage',
          t: back + 100,
          received: back + 100,
          start: STALL_START - 500,
          end: newOsBoot,
          details: { cause: 'power_loss', scope: 'host' },
        },
        back + 100,
      );
    }
    s.live(back + 1000, back + 120_000, 2);
    const closed = s.outages().filter((e) => e.change === 'closed');
    expect(closed.map((e) => [e.outage.host, e.outage.cause]).sort()).toEqual(HOSTS.map((h) => [h, 'power_loss']));
    expect(s.finalIncidents()).toMatchObject([{ state: 'resolved', cause: 'power_cut', hosts: HOSTS }]);
  });

  it("a LAN cut that began before the stall and outlasts it: recorded from the agents' events", () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    // The cut starts 5 s before the stall; the wills fall inside it (suppressed); the hosts come back 2 min later.
    stalls.stall(STALL_START);
    for (const h of HOSTS) s.feed(will(h, T0, STALL_END), STALL_END);
    stalls.notice(STALL_END + 10);
    const back = STALL_END + 120_000;
    for (let t = STALL_END + 1000; t < back; t += 1000) s.feed({ kind: 'tick' }, t);
    // The silence check opened them after the stall (60 s of running time + grace).
    expect(s.outages().filter((e) => e.change === 'opened')).toHaveLength(3);
    for (const h of HOSTS) {
      s.feed(birth(h, back), back);
      s.feed(cut(h, 'lan', STALL_START - 5000, back, back + 100), back + 100);
    }
    s.live(back + 1000, back + 90_000);
    const closed = s.outages().filter((e) => e.change === 'closed');
    expect(closed.map((e) => [e.outage.host, e.outage.cause]).sort()).toEqual(HOSTS.map((h) => [h, 'network']));
    expect(s.finalIncidents()).toMatchObject([{ state: 'resolved', cause: 'network_cut', hosts: HOSTS }]);
  });

  it('a LAN cut inside the stall whose wills were set aside: recorded from the events, one late incident', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    pause(s, stalls, 'lan');
    const closed = s.outages().filter((e) => e.change === 'closed');
    expect(closed.map((e) => [e.outage.host, e.outage.cause]).sort()).toEqual(HOSTS.map((h) => [h, 'network']));
    expect(closed[0]!.outage.evidence).toMatchObject({ detectedBy: 'event', event: 'network_cut', scope: 'lan' });
    expect(s.finalIncidents()).toMatchObject([{ state: 'resolved', cause: 'network_cut', hosts: HOSTS }]);
  });
});

describe('OutageTracker with the stall watch as a port', () => {
  it('stores nothing for Last Wills during a stall and counts them', () => {
    const clock = new FakeClock(T0);
    const db = openDatabase(':memory:');
    const store = new SqliteOutageStore(db);
    const metrics = new MetricsRegistry();
    const stalls = new FakeStalls();
    const tracker = new OutageTracker({ store, config: OutageConfigSchema.parse({}), skewToleranceMs: 60_000, clock, log: silentLogger(), metrics, stalls });
    tracker.start();
    const status = (host: string, state: 'online' | 'offline', t: number) =>
      tracker.onStored({
        kind: 'status',
        row: { site: SITE, host, boot: boot(host), t, received: clock.now(), state, hostname: host, agentVersion: '0.1.0', osBoot: OS_BOOT, keepalive: KEEPALIVE_S },
      });
    for (const h of HOSTS) status(h, 'online', T0);
    clock.advance(5000);
    stalls.stall(clock.now());
    clock.freeze(30_000);
    for (const h of HOSTS) status(h, 'offline', T0);
    stalls.notice(clock.now());
    clock.advance(2000);
    for (const h of HOSTS) status(h, 'online', clock.now());
    // Alive after: samples every second for two minutes.
    for (let k = 0; k < 120; k++) {
      clock.advance(1000);
      for (const h of HOSTS)
        tracker.onStored({
          kind: 'samples',
          row: { site: SITE, host: h, boot: boot(h), seq: k, t: clock.now(), tAgent: clock.now(), sent: clock.now(), received: clock.now(), skewMs: 0, interval: 1, metrics: {} },
        });
    }
    tracker.stop();
    expect(db.prepare('SELECT count(*) AS n FROM outage_host').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM outage_incident').get()).toEqual({ n: 0 });
    expect(metrics.render()).toMatch(/canh_outage_collector_gap_total\{kind="will"\} 3/);
  });
});

describe('a real power cut whose Last Wills fall in a collector gap', () => {
  it('the wills are not taken then, but the silence after them is a confirmed drop: one site incident', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    const cutAt = T0 + 10_000;
    // The collector stands still from just after the cut for 19 s: the broker's wills (1.5 x
    // keepalive after the last packet) arrive as it resumes, inside the stall.
    stalls.stall(cutAt + 1000);
    for (const h of HOSTS) s.feed(will(h, T0, cutAt + 16_000), cutAt + 16_000);
    stalls.notice(cutAt + 20_000);
    expect(s.fx.filter((e) => e.kind === 'collectorGap').map((e) => (e as { what: string }).what)).toEqual(HOSTS.map(() => 'will'));
    s.tickUntil(cutAt + 20_000, cutAt + 200_000);
    const opened = s.outages().filter((e) => e.change === 'opened');
    expect(opened.map((e) => e.outage.host).sort()).toEqual(HOSTS);
    for (const e of opened) expect(e.outage.evidence.unconfirmed).toBeUndefined();
    expect(s.incidents().filter((e) => e.change === 'opened')).toHaveLength(1);
    const [inc] = s.finalIncidents();
    expect(inc!.hosts).toEqual(HOSTS);
  });
});

describe('hosts taken as silent whose Last Wills then fall in a collector gap', () => {
  it('the outages stay unconfirmed during the gap and are confirmed after it: one site incident', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    const cutAt = T0 + 10_000;
    // Silent past the 60-s timeout (the broker was slow to fire the wills): unconfirmed outages.
    s.tickUntil(cutAt, cutAt + 75_000);
    const opened = s.outages().filter((e) => e.change === 'opened');
    expect(opened.map((e) => e.outage.host).sort()).toEqual(HOSTS);
    for (const e of opened) expect(e.outage.evidence.unconfirmed).toBe(true);
    expect(s.incidents()).toHaveLength(0);
    // The collector stands still; the wills arrive as it resumes, inside the stall.
    stalls.stall(cutAt + 76_000);
    for (const h of HOSTS) s.feed(will(h, T0, cutAt + 90_000), cutAt + 90_000);
    stalls.notice(cutAt + 90_010);
    // Still inside the grace after the stall: not confirmed yet.
    s.tickUntil(cutAt + 91_000, cutAt + 95_000);
    expect(s.incidents()).toHaveLength(0);
    // After the grace (1.5 x keepalive + 5 s): confirmed, correlated from their start.
    s.tickUntil(cutAt + 96_000, cutAt + 130_000);
    const updated = s.outages().filter((e) => e.change === 'updated' && e.outage.evidence.unconfirmed === undefined);
    expect(new Set(updated.map((e) => e.outage.host))).toEqual(new Set(HOSTS));
    expect(s.incidents().filter((e) => e.change === 'opened')).toHaveLength(1);
    const [inc] = s.finalIncidents();
    expect(inc!.hosts).toEqual(HOSTS);
    expect(inc!.start).toBe(cutAt);
  });

  it('a birth after the gap (the broker fired the wills because it stood still) confirms nothing', () => {
    const stalls = new FakeStalls();
    const s = running(stalls);
    const cutAt = T0 + 10_000;
    s.tickUntil(cutAt, cutAt + 75_000);
    stalls.stall(cutAt + 76_000);
    for (const h of HOSTS) s.feed(will(h, T0, cutAt + 90_000), cutAt + 90_000);
    stalls.notice(cutAt + 90_010);
    const back = cutAt + 92_000;
    for (const h of HOSTS) s.feed(birth(h, back), back);
    s.live(back + 1000, back + 120_000);
    expect(s.incidents().filter((e) => e.change === 'opened' && !e.incident.evidence.late)).toHaveLength(0);
    expect(s.outages().filter((e) => e.change === 'updated' && e.outage.evidence.unconfirmed === undefined)).toHaveLength(0);
  });
});

describe('the retained statuses read again (a re-read after ingest saturation, a restart)', () => {
  it('a known birth sent again is no return; the will read late confirms the drop: one site incident from the cut', () => {
    const s = running(new FakeStalls());
    const cutAt = T0 + 10_000;
    s.tickUntil(cutAt, cutAt + 75_000); // silent, no will heard (the broker dropped it): unconfirmed
    expect(s.outages().filter((e) => e.change === 'opened')).toHaveLength(HOSTS.length);
    // The re-read: hosts whose retained status is still their birth, sent again as it was.
    for (const h of HOSTS.slice(0, 1)) s.feed(birth(h, T0), cutAt + 76_000);
    s.tickUntil(cutAt + 76_000, cutAt + 140_000);
    expect(s.outages().filter((e) => e.change === 'closed')).toHaveLength(0);
    expect(s.fx.filter((e) => e.kind === 'discardHostOutage')).toHaveLength(0);
    // ... and the others' retained Last Wills.
    for (const h of HOSTS.slice(1)) s.feed(will(h, T0, cutAt + 141_000), cutAt + 141_000);
    s.tickUntil(cutAt + 141_000, cutAt + 150_000);
    const opened = s.incidents().filter((e) => e.change === 'opened');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.incident.start).toBe(cutAt);
    expect(new Set(s.finalIncidents()[0]!.hosts)).toEqual(new Set(HOSTS.slice(1)));
  });
});
