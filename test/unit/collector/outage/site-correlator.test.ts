import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import type { StoredMessage } from '../../../../collector/ingest/ingest.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { OutageConfigSchema, type OutageConfig } from '../../../../collector/outage/outage-config.js';
import { emptySite } from '../../../../collector/outage/outage-state.js';
import { OutageTracker, correlatorSettings } from '../../../../collector/outage/outage-tracker.js';
import { correlate } from '../../../../collector/outage/site-correlator.js';
import { SqliteOutageStore } from '../../../../collector/outage/sqlite-outage-store.js';
import { openDatabase, type SqliteDatabase } from '../../../../collector/store/sqlite-store.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/**
 * The site correlator through the tracker (pure correlator + real SQLite store), with a
 * fake clock and simulated agents: each agent has a boot id, an OS boot and an agent clock
 * offset; it samples every `interval` s while running and buffers while cut off.
 */

const SITE = 'xa-tan-phu';
const INTERVAL_S = 10;

class SimAgent {
  boot: string;
  osBoot: number;
  seq = 0;
  connected = false;
  running = false;
  buffered: StoredMessage[] = [];
  birthT = 0;
  constructor(
    readonly sim: Sim,
    readonly host: string,
    /** Agent clock minus collector clock, ms. */
    public offsetMs = 0,
  ) {
    this.boot = `boot-${host}-0001`;
    this.osBoot = sim.clock.now() - 3600_000;
  }
  agentNow(): number {
    return this.sim.clock.now() + this.offsetMs;
  }
  start(newBoot: { osBoot?: number } = {}): void {
    this.running = true;
    if (newBoot.osBoot !== undefined) {
      this.boot = `boot-${this.host}-${String(++this.sim.boots).padStart(4, '0')}`;
      this.osBoot = newBoot.osBoot;
      this.seq = 0;
    }
    this.connect();
  }
  connect(): void {
    this.connected = true;
    this.birthT = this.agentNow();
    this.sim.deliver(this.status('online', this.birthT));
    for (const m of this.buffered.splice(0)) this.sim.deliver(m, true);
  }
  /** kill -9 / power cut: the broker sends the Last Will (connect time of the session). */
  die(): void {
    this.running = false;
    this.connected = false;
    this.sim.deliver(this.status('offline', this.birthT));
  }
  /** The broker became unreachable; the agent keeps sampling into its outbox. */
  cut(): void {
    this.connected = false;
    this.sim.deliver(this.status('offline', this.birthT));
  }
  status(state: 'online' | 'offline', t: number): StoredMessage {
    return {
      kind: 'status',
      row: {
        site: SITE,
        host: this.host,
        boot: this.boot,
        t,
        received: this.sim.clock.now(),
        state,
        hostname: this.host,
        agentVersion: '0.1.0',
        osBoot: this.osBoot,
        keepalive: 10,
      },
    };
  }
  sample(): void {
    if (!this.running) return;
    const t = this.agentNow();
    const msg: StoredMessage = {
      kind: 'samples',
      row: { site: SITE, host: this.host, boot: this.boot, seq: this.seq++, t, tAgent: t, sent: t, received: 0, skewMs: 0, interval: INTERVAL_S, metrics: {} },
    };
    if (this.connected) this.sim.deliver(msg);
    else this.buffered.push(msg);
  }
  event(type: string, start: number, end: number, details: Record<string, unknown>): void {
    const t = this.agentNow();
    this.sim.deliver({
      kind: 'events',
      row: { site: SITE, host: this.host, boot: this.boot, seq: this.seq++, t, received: 0, type, severity: 'critical', message: type, start, end, details },
    });
  }
}

class Sim {
  readonly clock = new FakeClock();
  readonly db: SqliteDatabase = openDatabase(':memory:');
  store = new SqliteOutageStore(this.db);
  tracker!: OutageTracker;
  boots = 1;
  agents: SimAgent[] = [];
  constructor(
    n: number,
    readonly config: OutageConfig = OutageConfigSchema.parse({}),
  ) {
    this.startCollector();
    for (let i = 0; i < n; i++) this.agents.push(new SimAgent(this, `pc-${i + 1}`));
    for (const a of this.agents) a.start();
    this.clock.setInterval(() => this.agents.forEach((a) => a.sample()), INTERVAL_S * 1000);
    this.advance(60_000);
  }
  startCollector(): void {
    this.store = new SqliteOutageStore(this.db);
    this.tracker = new OutageTracker({ store: this.store, config: this.config, skewToleranceMs: 60_000, clock: this.clock, log: silentLogger(), metrics: new MetricsRegistry() });
    this.tracker.start();
  }
  /** Collector stop (state flushed) and start over the same database. */
  restartCollector(): void {
    this.tracker.stop();
    this.startCollector();
  }
  /** While true, nothing reaches the collector (it is deaf: a broker dropping for it), the agents notice nothing. */
  mute = false;
  deliver(m: StoredMessage, replay = false): void {
    if (this.mute) return;
    const row = m.row as { received: number; t: number; sent?: number; skewMs?: number };
    row.received = this.clock.now();
    if (m.kind === 'samples') {
      // Ingest's skew correction (contract/decode.ts correctSkew, tolerance 60 s); a replayed
      // sample is sent now.
      const r = m.row;
      if (replay) r.sent = this.agent(r.host).agentNow();
      r.skewMs = r.received - r.sent;
      r.t = Math.abs(r.skewMs) > 60_000 ? r.tAgent + r.skewMs : r.tAgent;
    }
    if (m.kind === 'events') {
      const r = m.row;
      const skew = -this.agent(r.host).offsetMs;
      if (Math.abs(skew) > 60_000) {
        r.t += skew;
        if (r.start !== undefined) r.start += skew;
        if (r.end !== undefined) r.end += skew;
      }
    }
    this.tracker.onStored(m);
  }
  agent(host: string): SimAgent {
    return this.agents.find((a) => a.host === host)!;
  }
  advance(ms: number): void {
    for (let left = ms; left > 0; left -= 1000) this.clock.advance(Math.min(1000, left));
  }
  incidents() {
    return this.store.incidents({ from: 0, to: 4e12, limit: 100 });
  }
  outages() {
    return this.store.hostOutages({ from: 0, to: 4e12, limit: 1000 });
  }
}

/** A power cut: every agent dies, the power returns `ms` later, the PCs boot and agents report the unclean shutdown. */
function powerCut(sim: Sim, agents: SimAgent[], ms: number, withEvents = true): { start: number; boot: number } {
  const start = sim.clock.now();
  const lastBeat = start - 2_000;
  for (const a of agents) a.die();
  sim.advance(ms);
  const boot = sim.clock.now();
  sim.advance(40_000); // the PCs boot
  for (const a of agents) {
    a.start({ osBoot: boot + a.offsetMs });
    if (withEvents) a.event('outage', lastBeat + a.offsetMs, boot + a.offsetMs, { cause: 'power_loss', scope: 'host', uncertaintyMs: 5_000 });
  }
  return { start, boot };
}

describe('site correlator', () => {
  it('5 hosts of a site dropping at once make one site incident, power cut, with 5 hosts', () => {
    const sim = new Sim(5);
    const { boot } = powerCut(sim, sim.agents, 10 * 60_000);
    sim.advance(5_000);
    const incidents = sim.incidents();
    expect(incidents).toHaveLength(1);
    const i = incidents[0]!;
    expect(i).toMatchObject({ site: SITE, state: 'resolved', cause: 'power_cut', hostsOut: [], hostsOnlineBefore: 5 });
    expect(i.hosts).toHaveLength(5);
    expect(i.end).toBe(boot);
    expect(i.durationMs).toBe(i.end! - i.start);
    expect(i.uncertaintyMs).toBe(5_000); // the agents' heartbeat period, from their outage events
    const outages = sim.outages();
    expect(outages).toHaveLength(5);
    expect(new Set(outages.map((o) => o.cause))).toEqual(new Set(['power_loss']));
    expect(outages.every((o) => o.incidentId === i.id)).toBe(true);
  });

  it('opens the incident while the hosts are out (not only when they return)', () => {
    const sim = new Sim(5);
    sim.agents.slice(0, 2).forEach((a) => a.die());
    expect(sim.store.openIncidents(SITE)).toHaveLength(0); // 2 of 5: below 60 %
    sim.agents[2]!.die();
    const open = sim.store.openIncidents(SITE);
    expect(open).toHaveLength(1);
    expect(open[0]!.hosts).toEqual(['pc-1', 'pc-2', 'pc-3']);
    sim.agents[3]!.die(); // later drops within the window join it
    expect(sim.store.openIncidents(SITE)[0]!.hosts).toHaveLength(4);
  });

  it('one host crashing is a host outage, not a site incident', () => {
    const sim = new Sim(5);
    powerCut(sim, [sim.agents[0]!], 60_000);
    sim.advance(5_000);
    expect(sim.incidents()).toHaveLength(0);
    const outages = sim.outages();
    expect(outages).toHaveLength(1);
    expect(outages[0]).toMatchObject({ host: 'pc-1', cause: 'power_loss', incidentId: null });
  });

  it('a share of drops below the threshold opens no incident', () => {
    const sim = new Sim(10);
    powerCut(sim, sim.agents.slice(0, 5), 60_000); // 50 % < 60 %
    sim.advance(5_000);
    expect(sim.incidents()).toHaveLength(0);
    expect(sim.outages()).toHaveLength(5);
  });

  it('drops further apart than the window are separate host outages', () => {
    const sim = new Sim(3);
    sim.agents[0]!.die();
    sim.advance(120_000); // window 60 s
    sim.agents[1]!.die();
    expect(sim.store.openIncidents()).toHaveLength(0);
  });

  it('a clean stop (office closing) is neither an outage nor part of an incident', () => {
    const sim = new Sim(3);
    for (const a of sim.agents) {
      a.running = false;
      sim.deliver(a.status('offline', a.agentNow())); // explicit offline, later than the birth
    }
    sim.advance(10 * 60_000);
    expect(sim.outages()).toHaveLength(0);
    expect(sim.incidents()).toHaveLength(0);
  });

  it('the broker unreachable while agents keep running: network cut, buffered samples cover the gap', () => {
    const sim = new Sim(4);
    for (const a of sim.agents) a.cut();
    sim.advance(5 * 60_000);
    for (const a of sim.agents) a.connect();
    sim.advance(2 * INTERVAL_S * 1000);
    const [i] = sim.incidents();
    expect(i).toMatchObject({ cause: 'network_cut', state: 'resolved' });
    expect(i!.hosts).toHaveLength(4);
    const outages = sim.outages();
    expect(outages.every((o) => o.cause === 'network')).toBe(true);
    expect(outages[0]!.evidence.gapSamples).toBeGreaterThanOrEqual(28);
    expect(outages[0]!.evidence.coverage).toBeGreaterThanOrEqual(0.9);
  });

  it('power for some, network for others: mixed', () => {
    const sim = new Sim(4);
    const [a, b, c, d] = sim.agents;
    c!.cut();
    d!.cut();
    powerCut(sim, [a!, b!], 3 * 60_000);
    c!.connect();
    d!.connect();
    sim.advance(30_000);
    const [i] = sim.incidents();
    expect(i).toMatchObject({ cause: 'mixed', state: 'resolved' });
    expect(i!.evidence.hosts).toMatchObject({ 'pc-1': { verdict: 'power' }, 'pc-3': { verdict: 'network' } });
  });

  it('hosts that never come back: the incident is resolved after the bound, recorded as given up', () => {
    const sim = new Sim(5, OutageConfigSchema.parse({ giveUpHours: 1 }));
    for (const a of sim.agents) a.die();
    expect(sim.store.openIncidents(SITE)).toHaveLength(1);
    sim.advance(3600_000);
    const [i] = sim.incidents();
    expect(i).toMatchObject({ state: 'resolved', cause: 'unknown' });
    expect(i!.evidence.gaveUp).toHaveLength(5);
    expect(i!.end).not.toBeNull();
  });

  it('gives up on hosts that stay out and resolves from those that returned', () => {
    const sim = new Sim(5, OutageConfigSchema.parse({ giveUpHours: 1 }));
    for (const a of sim.agents) a.die();
    sim.advance(60_000);
    for (const a of sim.agents.slice(0, 3)) {
      a.start({ osBoot: sim.clock.now() });
      a.event('outage', sim.clock.now() - 62_000, sim.clock.now(), { cause: 'power_loss', uncertaintyMs: 5000 });
    }
    sim.advance(10_000);
    expect(sim.store.openIncidents(SITE)[0]!.hostsOut).toEqual(['pc-4', 'pc-5']);
    sim.advance(3600_000);
    const [i] = sim.incidents();
    expect(i).toMatchObject({ state: 'resolved', cause: 'power_cut', hostsOut: ['pc-4', 'pc-5'] });
    expect(i!.evidence.gaveUp).toEqual(['pc-4', 'pc-5']);
    // They are still out: their host outages stay open.
    expect(
      sim
        .outages()
        .filter((o) => o.end === null)
        .map((o) => o.host)
        .sort(),
    ).toEqual(['pc-4', 'pc-5']);
  });

  it('a collector restart mid-incident resumes the same incident from the store', () => {
    const sim = new Sim(5);
    for (const a of sim.agents) a.die();
    sim.advance(30_000);
    expect(sim.store.openIncidents(SITE)).toHaveLength(1);
    sim.restartCollector();
    sim.advance(5 * 60_000);
    for (const a of sim.agents) {
      a.start({ osBoot: sim.clock.now() });
      a.event('outage', sim.clock.now() - 6 * 60_000, sim.clock.now(), { cause: 'power_loss', uncertaintyMs: 5000 });
    }
    sim.advance(5_000);
    const incidents = sim.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ cause: 'power_cut', state: 'resolved' });
    expect(incidents[0]!.hosts).toHaveLength(5);
    // Online hosts at the restart are not dropped for the silence while the collector was down.
    expect(sim.outages()).toHaveLength(5);
  });

  it("a power cut that also took the collector down: one site incident from the hosts' reports afterwards", () => {
    const sim = new Sim(5);
    const cutAt = sim.clock.now();
    sim.tracker.stop(); // the collector's PC lost power too: no will was ever received
    for (const a of sim.agents) {
      a.running = false;
      a.connected = false;
    }
    sim.clock.advance(10 * 60_000);
    sim.startCollector();
    const boot = sim.clock.now();
    sim.advance(30_000);
    for (const a of sim.agents) {
      a.start({ osBoot: boot });
      a.event('outage', cutAt - 2_000, boot, { cause: 'power_loss', scope: 'host', uncertaintyMs: 10_000 });
    }
    sim.advance(5_000);
    const incidents = sim.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ state: 'resolved', cause: 'power_cut', start: cutAt - 2_000, end: boot, evidence: { late: true } });
    expect(incidents[0]!.hosts).toHaveLength(5);
    expect(sim.outages().every((o) => o.incidentId === incidents[0]!.id && o.cause === 'power_loss')).toBe(true);
  });

  it('a single host whose drop was missed is a host outage only', () => {
    const sim = new Sim(5);
    const a = sim.agents[0]!;
    a.running = false;
    a.connected = false; // the will is lost
    sim.advance(20_000);
    a.start({ osBoot: sim.clock.now() });
    a.event('outage', sim.clock.now() - 22_000, sim.clock.now(), { cause: 'power_loss', scope: 'host', uncertaintyMs: 10_000 });
    sim.advance(5_000);
    expect(sim.incidents()).toHaveLength(0);
    expect(sim.outages()).toMatchObject([{ host: 'pc-1', cause: 'power_loss', incidentId: null }]);
  });

  it('the restart does not turn the downtime into silence drops of healthy hosts', () => {
    const sim = new Sim(5);
    sim.tracker.stop();
    sim.clock.advance(10 * 60_000); // collector down 10 min; agents buffer
    sim.startCollector();
    for (const a of sim.agents) a.connect();
    sim.advance(120_000);
    expect(sim.outages()).toHaveLength(0);
    expect(sim.incidents()).toHaveLength(0);
  });

  it('skewed clocks of returning hosts: event times corrected as ingest does, one incident with the true times', () => {
    const sim = new Sim(5);
    // After the power cut the CMOS clocks of two PCs are hours off.
    sim.agents[0]!.offsetMs = -5 * 3600_000;
    sim.agents[1]!.offsetMs = 2 * 3600_000;
    const start = sim.clock.now();
    const { boot } = powerCut(sim, sim.agents, 10 * 60_000);
    sim.advance(5_000);
    const [i] = sim.incidents();
    expect(i).toMatchObject({ cause: 'power_cut' });
    expect(i!.hosts).toHaveLength(5);
    expect(i!.end).toBe(boot);
    expect(Math.abs(i!.start - (start - 2_000))).toBeLessThanOrEqual(0);
    for (const o of sim.outages()) {
      expect(o.end).toBe(boot);
      expect(o.cause).toBe('power_loss');
      // The birth's OS boot time, corrected by the skew, is after the drop: a new OS boot.
      expect(o.evidence.newOsBoot).toBe(true);
    }
    expect(sim.outages().find((o) => o.host === 'pc-1')!.evidence.skewMs).toBe(5 * 3600_000);
  });

  it('the outage event before the birth message, or late after the verdict, gives the same result', () => {
    const sim = new Sim(3, OutageConfigSchema.parse({ settleSeconds: 30 }));
    for (const a of sim.agents) a.die();
    sim.advance(60_000);
    const boot = sim.clock.now();
    const [a, b, c] = sim.agents;
    // a: event first, then birth
    a!.boot = 'boot-pc-1-9999';
    a!.osBoot = boot;
    a!.running = true;
    a!.event('outage', boot - 62_000, boot, { cause: 'power_loss', uncertaintyMs: 5000 });
    a!.connect();
    // b: birth, event right after
    b!.start({ osBoot: boot });
    b!.event('outage', boot - 62_000, boot, { cause: 'hang_reset', uncertaintyMs: 5000 });
    // c: birth, event only after the settle time (decided as unknown, then amended)
    c!.start({ osBoot: boot });
    sim.advance(31_000);
    expect(sim.outages().find((o) => o.host === 'pc-3')!.cause).toBe('unknown');
    c!.event('outage', boot - 62_000, boot, { cause: 'power_loss', uncertaintyMs: 5000 });
    const byHost = Object.fromEntries(sim.outages().map((o) => [o.host, o]));
    expect(byHost['pc-1']!.cause).toBe('power_loss');
    expect(byHost['pc-2']!.cause).toBe('hang_reset');
    expect(byHost['pc-3']!.cause).toBe('power_loss');
    expect(byHost['pc-3']!.evidence.amended).toBe(true);
    expect(sim.incidents()[0]!.cause).toBe('power_cut');
  });

  it('agents killed while their PCs kept running (outage scope agent): crashes, never a power cut', () => {
    const sim = new Sim(3);
    for (const a of sim.agents) a.die();
    sim.advance(20_000);
    for (const a of sim.agents) {
      const { osBoot } = a;
      a.start({ osBoot }); // new agent boot, same OS boot
      a.event('outage', sim.clock.now() - 22_000, sim.clock.now(), { cause: 'crash', scope: 'agent', uncertaintyMs: 1000 });
    }
    sim.advance(2_000);
    expect(sim.outages().map((o) => o.cause)).toEqual(['crash', 'crash', 'crash']);
    expect(sim.incidents()[0]).toMatchObject({ state: 'resolved', cause: 'unknown' });
  });

  it('PCs that slept (lunch break) are not outages: the incident is discarded when they report it', () => {
    const sim = new Sim(3);
    for (const a of sim.agents) a.cut(); // keepalive lost while asleep
    for (const a of sim.agents) a.running = false;
    expect(sim.store.openIncidents(SITE)).toHaveLength(1);
    sim.advance(30 * 60_000);
    const start = sim.clock.now() - 30 * 60_000;
    for (const a of sim.agents) {
      a.running = true;
      a.connect();
      a.event('sleep', start, sim.clock.now(), {});
    }
    sim.advance(2_000);
    expect(sim.outages()).toHaveLength(0);
    expect(sim.incidents()).toHaveLength(0);
  });

  it('a will of an older session of the same boot, delivered after the new birth (takeover), is ignored', () => {
    const sim = new Sim(2);
    const a = sim.agents[0]!;
    const oldWill = a.status('offline', a.birthT);
    sim.advance(5_000);
    a.connect(); // reconnect: a new session, a new birth
    sim.deliver(oldWill);
    sim.advance(5_000);
    expect(sim.outages()).toHaveLength(0);
    expect(sim.tracker.siteState(SITE)!.hosts['pc-1']!.state).toBe('online');
    // The current session's will still counts.
    a.cut();
    expect(sim.outages()).toHaveLength(1);
  });

  it('silence without a Last Will: host outages not yet explained, no site incident; the wills coming late confirm the drop and open it', () => {
    const sim = new Sim(3);
    const wills = sim.agents.map((a) => a.status('offline', a.birthT));
    for (const a of sim.agents) {
      a.running = false; // the wills are held back (e.g. a broker queue overflowing for the collector)
      a.connected = false;
    }
    sim.advance(59_000);
    expect(sim.outages()).toHaveLength(0);
    sim.advance(2_000);
    const silent = sim.outages();
    expect(silent).toHaveLength(3);
    for (const o of silent) expect(o.evidence).toMatchObject({ detectedBy: 'silence', unconfirmed: true });
    expect(sim.store.openIncidents(SITE)).toHaveLength(0);
    for (const w of wills) sim.deliver(w);
    const [inc] = sim.store.openIncidents(SITE);
    expect(inc).toBeDefined();
    expect(inc!.hosts).toHaveLength(3);
    for (const o of sim.outages()) {
      expect(o.incidentId).toBe(inc!.id);
      expect(o.evidence.unconfirmed).toBeUndefined();
    }
  });

  it('silence while every host kept its broker session (no will), heard again in it: no outage, no incident (the collector did not hear them)', () => {
    const sim = new Sim(3);
    sim.mute = true; // the hosts keep their broker session and keep sampling; nothing reaches the collector
    sim.advance(75_000);
    expect(sim.outages()).toHaveLength(3);
    expect(sim.store.openIncidents(SITE)).toHaveLength(0);
    sim.mute = false;
    sim.advance(INTERVAL_S * 1000 + 61_000); // the next samples, then any evidence would settle
    expect(sim.outages()).toHaveLength(0);
    expect(sim.incidents()).toHaveLength(0);
    expect(Object.values(sim.tracker.siteState(SITE)!.hosts).map((h) => h.state)).toEqual(['online', 'online', 'online']);
  });

  it('the same with the missed samples re-sent in the session: no outage, no incident', () => {
    const sim = new Sim(3);
    sim.mute = true;
    for (const a of sim.agents) a.connected = false; // the samples stay in the outbox (the broker dropped them for the collector)
    sim.advance(75_000);
    expect(sim.outages()).toHaveLength(3);
    sim.mute = false;
    for (const a of sim.agents) {
      a.connected = true;
      for (const m of a.buffered.splice(0)) sim.deliver(m, true); // re-sent, no new session, no birth
    }
    sim.advance(INTERVAL_S * 1000 + 61_000);
    expect(sim.outages()).toHaveLength(0);
    expect(sim.incidents()).toHaveLength(0);
  });

  it('silence without a will, then the hosts reconnect (a new session: they did drop, the wills were lost): outages decided at the return, one site incident', () => {
    const sim = new Sim(3);
    for (const a of sim.agents) a.connected = false; // the network is cut, the wills never reach the collector
    sim.advance(75_000);
    expect(sim.store.openIncidents(SITE)).toHaveLength(0);
    for (const a of sim.agents) a.connect(); // a new birth of the same boot, the buffered samples replayed
    sim.advance(INTERVAL_S * 1000 + 61_000);
    const outages = sim.outages();
    expect(outages).toHaveLength(3);
    for (const o of outages) {
      expect(o.end).not.toBeNull();
      expect(o.cause).toBe('network');
      expect(o.evidence).toMatchObject({ detectedBy: 'silence', unconfirmed: true });
    }
    const incidents = sim.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ state: 'resolved', cause: 'network_cut' });
    expect(outages.every((o) => o.incidentId === incidents[0]!.id)).toBe(true);
  });

  it('an old message a broker queue held back is not the host speaking again: the silence outage stays open', () => {
    const sim = new Sim(3);
    sim.mute = true;
    for (const a of sim.agents) a.connected = false;
    sim.advance(75_000);
    expect(sim.outages()).toHaveLength(3);
    sim.mute = false;
    for (const a of sim.agents) sim.deliver(a.buffered.shift()!, true); // made ~70 s ago, delivered now
    sim.mute = true;
    sim.advance(65_000); // past the evidence settle time: a return would have closed them
    const outages = sim.outages();
    expect(outages).toHaveLength(3); // not closed by the old message (and opened again)
    expect(outages.every((o) => o.end === null)).toBe(true);
  });

  it('is a pure function: the same state and input give the same result, the input state untouched', () => {
    const s = correlatorSettings(OutageConfigSchema.parse({}), 60_000);
    const st = emptySite(SITE);
    const ids = { nextOutageId: 1, nextIncidentId: 1 };
    const birth = { kind: 'status' as const, host: 'a', state: 'online' as const, boot: 'bbbbbbbb', t: 1e12, received: 1e12, osBoot: 1e12 - 1e6, keepalive: 10 };
    const r1 = correlate(st, ids, birth, 1e12, s);
    const r2 = correlate(st, ids, birth, 1e12, s);
    expect(r1).toEqual(r2);
    expect(st.hosts).toEqual({});
    const will = { ...birth, state: 'offline' as const };
    const r3 = correlate(r1.state, r1.ids, will, 1e12 + 5000, s);
    expect(r1.state.hosts.a!.outage).toBeNull();
    expect(r3.state.hosts.a!.outage).not.toBeNull();
    expect(r3.effects[0]).toMatchObject({ kind: 'hostOutage', change: 'opened' });
  });
});
