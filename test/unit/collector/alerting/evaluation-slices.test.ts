import { describe, expect, it } from 'vitest';
import { AlertService, EVALUATION_TURN_MS } from '../../../../collector/alerting/alert-service.js';
import type { Notification, NotificationSink } from '../../../../collector/alerting/alert-types.js';
import { AlertingConfigSchema } from '../../../../collector/alerting/alerting-config.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { siteDirectory, SiteSettingsSchema } from '../../../../collector/sites/site-settings.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

class MemorySink implements NotificationSink {
  sent: Notification[] = [];
  enqueue(n: Notification): void {
    this.sent.push(n);
  }
}

const SITES = ['xa-1', 'xa-2', 'xa-3', 'xa-4', 'xa-5', 'xa-6'];
const HOSTS = ['pc1', 'pc2'];

/** 6 sites of 2 PCs through real ingest and SQLite; `maxHostsPerEvaluation` 4: two sites a tick, a round of 3 ticks. */
function setup(maxHostsPerEvaluation: number, clock = new FakeClock(Date.UTC(2026, 10, 24, 2, 0, 0))) {
  const db = openDatabase(':memory:');
  const store = new SqliteStore(db, ':memory:');
  const sink = new MemorySink();
  const config = AlertingConfigSchema.parse({ evaluateSeconds: 2, maxHostsPerEvaluation, provinceDigest: { enabled: false } });
  const sites = siteDirectory({}, SiteSettingsSchema.parse({}));
  const service = new AlertService({ config, db, store, sites, clock, log: silentLogger(), sink, metrics: new MetricsRegistry() });
  const ingest = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), onStored: (m) => service.onStored(m) });
  let seq = 0;
  const status = (site: string, host: string, state: 'online' | 'offline') => {
    const t = clock.now();
    const msg = { v: 1, site, host, boot: 'boot0001', seq: ++seq, t, sent: t, state, hostname: host.toUpperCase(), agentVersion: '0.1.0' };
    const r = ingest.handle(topicFor(site, host, 'status'), Buffer.from(JSON.stringify(msg)));
    if (r.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(r)}`);
  };
  // Which sites each timed evaluation read: the store's per-site reads, and any read of all hosts.
  const reads: string[][] = [];
  const listHosts = store.listHosts.bind(store);
  store.listHosts = (site?: string) => {
    reads.at(-1)!.push(site ?? '*');
    return listHosts(site);
  };
  const tick = () => {
    reads.push([]);
    clock.advance(2000);
  };
  return { clock, service, sink, status, reads, tick };
}

/** A fake clock whose monotonic time also moves by `work` ms: the tests' evaluations add their cost to it. */
class SlowClock extends FakeClock {
  work = 0;
  override monotonic(): number {
    return super.monotonic() + this.work;
  }
}

const firingSites = (s: AlertService) =>
  Object.values(s.current().alerts)
    .filter((a) => a.rule === 'site_offline' && a.state === 'firing')
    .map((a) => a.site)
    .sort();

describe('timed alert evaluations in slices (alerting.maxHostsPerEvaluation)', () => {
  it('beyond the bound, each tick reads whole sites up to it, the round reaches every site, and a site with news goes first', async () => {
    const t = setup(4);
    await t.service.start();
    for (const site of SITES) for (const host of HOSTS) t.status(site, host, 'online');
    t.tick(); // the news of all six sites: the first two, then the round
    for (let i = 0; i < 6; i++) t.tick();
    for (const r of t.reads) {
      expect(r).not.toContain('*');
      expect(new Set(r).size).toBe(r.length);
      expect(r.length).toBeLessThanOrEqual(2);
    }
    const seen = new Set(t.reads.flat());
    expect([...seen].sort()).toEqual(SITES);
    // Every PC of every site goes down; the site_offline alert (10 s pending) fires for each, within two rounds and its wait.
    for (const site of SITES) for (const host of HOSTS) t.status(site, host, 'offline');
    for (let i = 0; i < 12 && firingSites(t.service).length < SITES.length; i++) t.tick();
    expect(firingSites(t.service)).toEqual(SITES);
    // A status for xa-5 while the round is elsewhere: the next tick reads xa-5 first.
    t.reads.length = 0;
    t.tick();
    const cursorSites = t.reads[0]!;
    t.status('xa-5', 'pc1', 'online');
    t.tick();
    expect(t.reads[1]![0]).toBe('xa-5');
    expect(cursorSites.length).toBeGreaterThan(0);
  });

  it('a site met with a pending alert is evaluated again when its wait is up, not when the round comes back', async () => {
    // 40 sites of 2 PCs, 4 hosts a tick: a round of 20 ticks (40 s), longer than site_offline's 10 s.
    const t = setup(4);
    await t.service.start();
    const sites = Array.from({ length: 40 }, (_, i) => `xa-${String(i).padStart(2, '0')}`);
    for (const site of sites) for (const host of HOSTS) t.status(site, host, 'online');
    for (let i = 0; i < 25; i++) t.tick();
    // A site the round has just read: it comes back to it only 20 ticks later.
    const justRead = t.reads.at(-1)![0]!;
    for (const host of HOSTS) t.status(justRead, host, 'offline');
    t.tick(); // its news: evaluated now, site_offline pending
    expect(t.reads.at(-1)![0]).toBe(justRead);
    expect(Object.values(t.service.current().alerts).find((a) => a.site === justRead && a.rule === 'site_offline')?.state).toBe('pending');
    let ticks = 0;
    while (ticks < 19 && !firingSites(t.service).includes(justRead)) {
      t.tick();
      ticks++;
    }
    expect(firingSites(t.service)).toEqual([justRead]);
    // 10 s pending at 2 s a tick: the fifth tick after it was met.
    expect(ticks).toBe(5);
    // Read at the due tick only besides the round: not at every tick of its wait.
    const readsOfSite = t.reads.slice(-ticks).filter((r) => r.includes(justRead)).length;
    expect(readsOfSite).toBe(1);
  });

  it('within the bound, every tick reads all hosts at once, as before', async () => {
    const t = setup(500);
    await t.service.start();
    for (const site of SITES) for (const host of HOSTS) t.status(site, host, 'online');
    for (let i = 0; i < 3; i++) t.tick();
    for (const r of t.reads) expect(r).toEqual(['*']);
    for (const site of SITES) for (const host of HOSTS) t.status(site, host, 'offline');
    for (let i = 0; i < 7; i++) t.tick();
    expect(firingSites(t.service)).toEqual(SITES);
  });

  it('a slice is evaluated in chunks of whole sites, one per turn of the loop, each sized to the time the last one took', async () => {
    // Evaluating costs 1 ms of the monotonic clock per host read.
    const clock = new SlowClock();
    const t = setup(60, clock);
    const chunks: string[][] = [];
    const evaluateOnce = t.service.evaluateOnce.bind(t.service);
    t.service.evaluateOnce = (now?: number, only?: ReadonlySet<string>) => {
      if (only) {
        chunks.push([...only]);
        clock.work += only.size * HOSTS.length;
      }
      evaluateOnce(now, only);
    };
    await t.service.start();
    // 36 sites of 2 PCs (72 > 60: sliced), each announced by a status.
    const sites = Array.from({ length: 36 }, (_, i) => `xa-${String(i).padStart(2, '0')}`);
    for (const site of sites) for (const host of HOSTS) t.status(site, host, 'online');
    for (let i = 0; i < 6; i++) t.tick();
    // The first chunk takes the whole first slice (60 hosts, 60 ms): the next ones aim at
    // EVALUATION_TURN_MS (20 hosts), and no site is read twice within one tick's chunks.
    expect(chunks[0]!.length * HOSTS.length).toBe(60);
    const later = chunks.slice(1);
    expect(later.length).toBeGreaterThan(3);
    for (const c of later) expect(c.length * HOSTS.length).toBeLessThanOrEqual(EVALUATION_TURN_MS);
    // Every site is evaluated, and every tick's chunks read whole sites of its slice only once.
    expect(new Set(chunks.flat())).toEqual(new Set(sites));
    for (const r of t.reads) expect(new Set(r).size).toBe(r.length);
    // Still the same alerts: every PC goes down, every site's site_offline fires.
    for (const site of sites) for (const host of HOSTS) t.status(site, host, 'offline');
    for (let i = 0; i < 14 && firingSites(t.service).length < sites.length; i++) t.tick();
    expect(firingSites(t.service)).toEqual(sites);
  });

  it('stop() cancels the chunks still to come', async () => {
    const clock = new SlowClock();
    const t = setup(60, clock);
    let calls = 0;
    const evaluateOnce = t.service.evaluateOnce.bind(t.service);
    t.service.evaluateOnce = (now?: number, only?: ReadonlySet<string>) => {
      calls++;
      clock.work += 100; // every chunk far over the turn's budget: the next ones are small
      if (calls === 2) void t.service.stop();
      evaluateOnce(now, only);
    };
    await t.service.start();
    const sites = Array.from({ length: 36 }, (_, i) => `xa-${String(i).padStart(2, '0')}`);
    for (const site of sites) for (const host of HOSTS) t.status(site, host, 'online');
    // The first tick: its whole slice (30 sites, 60 hosts) in one chunk of 100 ms.
    clock.advance(2000);
    expect(calls).toBe(1);
    // The second tick: the other 6 sites in chunks of 5 sites (10 hosts, the floor); stop() in
    // the first: the rest of the slice is not evaluated.
    clock.advance(2000);
    expect(calls).toBe(2);
    clock.advance(60_000);
    expect(calls).toBe(2);
    expect(clock.pending).toBe(0);
  });
});
