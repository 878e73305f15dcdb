import { describe, expect, it } from 'vitest';
import type { IdCounters, SiteState } from '../../../../collector/outage/outage-state.js';
import type { HostOutage, OutageCountReader, OutageReader, SiteIncident } from '../../../../collector/outage/outage-types.js';
import type { OutageEffect } from '../../../../collector/outage/site-correlator.js';

/** What an outage store implementation offers the tracker and the API. */
export interface OutageStoreUnderTest extends OutageReader, OutageCountReader {
  apply(effects: readonly OutageEffect[], site: SiteState | undefined, ids: IdCounters): void;
  saveSites(sites: readonly SiteState[], ids: IdCounters): void;
  load(): { ids: IdCounters; sites: SiteState[] };
}

/**
 * Shared suite for every outage store (house style §8). `reopen` gives a second store over
 * the same data (a collector restart), when the implementation persists.
 */
export function outageStoreSuite(name: string, make: () => { store: OutageStoreUnderTest; reopen?: () => OutageStoreUnderTest }): void {
  // 2026-11-24 02:00 UTC = 09:00 in Hà Nội (UTC+7).
  const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);
  const H = 3600_000;
  const D = 24 * H;
  const ids: IdCounters = { nextOutageId: 100, nextIncidentId: 100 };
  const outage = (id: number, over: Partial<HostOutage> = {}): HostOutage => ({
    id,
    site: 's1',
    host: 'h1',
    cause: 'power_loss',
    start: T0,
    end: T0 + 60_000,
    uncertaintyMs: 5000,
    incidentId: null,
    evidence: { event: 'outage' },
    ...over,
  });
  const incident = (id: number, over: Partial<SiteIncident> = {}): SiteIncident => ({
    id,
    site: 's1',
    state: 'resolved',
    cause: 'power_cut',
    start: T0,
    end: T0 + 120_000,
    hosts: ['h1', 'h2'],
    hostsOut: [],
    hostsOnlineBefore: 3,
    uncertaintyMs: 5000,
    evidence: { hosts: { h1: { verdict: 'power' } } },
    ...over,
  });
  const all = { from: 0, to: 4e12, limit: 1000 };

  describe(`Outage store contract: ${name}`, () => {
    it('upserts host outages and incidents by id; reads them back with duration', () => {
      const { store } = make();
      store.apply(
        [
          { kind: 'hostOutage', change: 'opened', outage: outage(1, { end: null, cause: 'offline' }) },
          { kind: 'incident', change: 'opened', incident: incident(1, { state: 'open', end: null, cause: 'unknown', hostsOut: ['h1', 'h2'] }) },
        ],
        undefined,
        ids,
      );
      expect(store.openIncidents()).toHaveLength(1);
      expect(store.hostOutages(all)[0]).toMatchObject({ id: 1, end: null, durationMs: null, cause: 'offline' });
      store.apply(
        [
          { kind: 'hostOutage', change: 'closed', outage: outage(1, { incidentId: 1 }) },
          { kind: 'incident', change: 'resolved', incident: incident(1) },
        ],
        undefined,
        ids,
      );
      expect(store.openIncidents()).toHaveLength(0);
      expect(store.openIncidents('s1')).toHaveLength(0);
      expect(store.hostOutages(all)).toEqual([{ ...outage(1, { incidentId: 1 }), durationMs: 60_000 }]);
      expect(store.incident(1)).toEqual({ ...incident(1), durationMs: 120_000 });
      expect(store.incident(2)).toBeUndefined();
    });

    it('lists what overlaps [from, to], by site and host, newest first, paged by id', () => {
      const { store } = make();
      const fx: OutageEffect[] = [];
      for (let i = 1; i <= 5; i++) fx.push({ kind: 'hostOutage', change: 'closed', outage: outage(i, { start: T0 + i * H, end: T0 + i * H + 60_000, host: `h${i % 2}` }) });
      fx.push({ kind: 'hostOutage', change: 'opened', outage: outage(6, { start: T0 + 10 * H, end: null, site: 's2' }) });
      store.apply(fx, undefined, ids);
      expect(store.hostOutages({ ...all, site: 's1' }).map((o) => o.id)).toEqual([5, 4, 3, 2, 1]);
      expect(store.hostOutages({ ...all, site: 's1', host: 'h1' }).map((o) => o.id)).toEqual([5, 3, 1]);
      // Overlap: an outage from 2h to 2h+1min overlaps [2h+30s, 2h+30s].
      expect(store.hostOutages({ from: T0 + 2 * H + 30_000, to: T0 + 2 * H + 30_000, limit: 10 }).map((o) => o.id)).toEqual([2]);
      // Open outages overlap every later range.
      expect(store.hostOutages({ from: T0 + 100 * H, to: T0 + 101 * H, limit: 10 }).map((o) => o.id)).toEqual([6]);
      const page1 = store.hostOutages({ ...all, limit: 2 });
      expect(page1.map((o) => o.id)).toEqual([6, 5]);
      expect(store.hostOutages({ ...all, limit: 2, before: 5 }).map((o) => o.id)).toEqual([4, 3]);
      store.apply(
        [
          { kind: 'incident', change: 'resolved', incident: incident(1, { site: 's2' }) },
          { kind: 'incident', change: 'resolved', incident: incident(2) },
        ],
        undefined,
        ids,
      );
      expect(store.incidents({ ...all, site: 's2' }).map((i) => i.id)).toEqual([1]);
      expect(store.incidents(all).map((i) => i.id)).toEqual([2, 1]);
    });

    it('discarding an incident detaches its host outages; discarding an outage deletes it', () => {
      const { store } = make();
      store.apply(
        [
          { kind: 'incident', change: 'opened', incident: incident(1) },
          { kind: 'hostOutage', change: 'opened', outage: outage(1, { incidentId: 1 }) },
          { kind: 'hostOutage', change: 'opened', outage: outage(2) },
        ],
        undefined,
        ids,
      );
      store.apply(
        [
          { kind: 'discardIncident', id: 1, reason: 'test' },
          { kind: 'discardHostOutage', id: 2, host: 'h1', reason: 'test' },
        ],
        undefined,
        ids,
      );
      expect(store.incidents(all)).toHaveLength(0);
      expect(store.hostOutages(all)).toEqual([{ ...outage(1), durationMs: 60_000 }]);
    });

    it('counts per site per local day, week and month (Asia/Ho_Chi_Minh)', () => {
      const { store } = make();
      // 2026-11-24 is a Tuesday. 16:30 UTC on the 24th is already the 25th in Hà Nội.
      const tz = 'Asia/Ho_Chi_Minh';
      store.apply(
        [
          { kind: 'incident', change: 'resolved', incident: incident(1, { start: T0 }) },
          { kind: 'incident', change: 'resolved', incident: incident(2, { start: T0 + H, cause: 'network_cut' }) },
          { kind: 'incident', change: 'resolved', incident: incident(3, { start: Date.UTC(2026, 10, 24, 17, 30), cause: 'mixed' }) },
          { kind: 'incident', change: 'resolved', incident: incident(4, { start: T0 + 6 * D, cause: 'unknown' }) },
          { kind: 'incident', change: 'resolved', incident: incident(5, { start: T0, site: 's2' }) },
          { kind: 'hostOutage', change: 'closed', outage: outage(1, { start: T0 }) },
          { kind: 'hostOutage', change: 'closed', outage: outage(2, { start: T0 + 30 * D }) },
        ],
        undefined,
        ids,
      );
      const midnight24 = Date.UTC(2026, 10, 23, 17, 0); // 00:00 on the 24th in Hà Nội
      const q = { from: T0 - 10 * D, to: T0 + 40 * D, timezone: tz };
      const days = store.counts({ ...q, site: 's1', period: 'day' });
      expect(days[0]).toEqual({ site: 's1', period: 'day', start: midnight24, power_cut: 1, network_cut: 1, mixed: 0, unknown: 0, hostOutages: 1 });
      expect(days[1]).toMatchObject({ start: midnight24 + D, mixed: 1 });
      const weeks = store.counts({ ...q, site: 's1', period: 'week' });
      expect(weeks[0]).toMatchObject({ start: midnight24 - D, power_cut: 1, network_cut: 1, mixed: 1, hostOutages: 1 }); // Monday the 23rd
      expect(weeks[1]).toMatchObject({ start: midnight24 + 6 * D, unknown: 1 });
      const months = store.counts({ ...q, site: 's1', period: 'month' });
      expect(months.map((m) => m.start)).toEqual([Date.UTC(2026, 9, 31, 17, 0), Date.UTC(2026, 10, 30, 17, 0)]);
      expect(months[0]).toMatchObject({ power_cut: 1, network_cut: 1, mixed: 1, unknown: 1, hostOutages: 1 });
      expect(months[1]).toMatchObject({ power_cut: 0, hostOutages: 1 });
      expect(store.counts({ ...q, period: 'month' }).map((c) => c.site)).toEqual(['s1', 's1', 's2']);
    });

    it('keeps the correlator state and id counters across a reopen', () => {
      const made = make();
      const site: SiteState = { site: 's1', hosts: {}, incident: null, lastIncident: null };
      made.store.apply([{ kind: 'hostOutage', change: 'opened', outage: outage(7) }], site, { nextOutageId: 8, nextIncidentId: 3 });
      made.store.saveSites([{ ...site, site: 's2' }], { nextOutageId: 9, nextIncidentId: 3 });
      if (!made.reopen) return;
      const again = made.reopen();
      const { ids: got, sites } = again.load();
      expect(got).toEqual({ nextOutageId: 9, nextIncidentId: 3 });
      expect(sites.map((s) => s.site)).toEqual(['s1', 's2']);
      expect(again.hostOutages(all)).toHaveLength(1);
    });

    it('never hands out an id already used, even without saved counters', () => {
      const { store } = make();
      store.apply(
        [
          { kind: 'hostOutage', change: 'opened', outage: outage(41) },
          { kind: 'incident', change: 'opened', incident: incident(12) },
        ],
        undefined,
        { nextOutageId: 1, nextIncidentId: 1 },
      );
      expect(store.load().ids).toEqual({ nextOutageId: 42, nextIncidentId: 13 });
    });
  });
}
