import { describe, expect, it } from 'vitest';
import type { SampleRow, Store } from '../../../../collector/store/store.js';

/**
 * Shared suite for every implementation of the Store port (house style §8): today the
 * SQLite store; later ones must pass the same contract.
 */
export function storeSuite(name: string, makeStore: () => Store): void {
  const T0 = Date.UTC(2026, 10, 24, 1, 0, 0);
  const sample = (seq: number, over: Partial<SampleRow> = {}): SampleRow => ({
    site: 's1',
    host: 'h1',
    boot: 'boot-aaaa',
    seq,
    t: T0 + seq * 15_000,
    tAgent: T0 + seq * 15_000,
    sent: T0 + seq * 15_000,
    received: T0 + seq * 15_000 + 50,
    skewMs: 50,
    interval: 15,
    metrics: { cpu: { usage: seq, load1: null, load5: null, load15: null, cores: 2 } },
    ...over,
  });

  describe(`Store contract: ${name}`, () => {
    it('stores samples and dedups by (site, host, boot, seq)', () => {
      const s = makeStore();
      expect(s.insertSample(sample(1))).toBe(true);
      expect(s.insertSample(sample(1))).toBe(false);
      expect(s.insertSample(sample(1, { boot: 'boot-bbbb' }))).toBe(true);
      expect(s.insertSample(sample(1, { host: 'h2' }))).toBe(true);
      expect(s.countSamples()).toBe(3);
      s.close();
    });

    it("a group commit leaves each host's last-seen as row-by-row inserts would: the latest receipt, the latest sample's skew", () => {
      const s = makeStore();
      s.transaction(() => {
        for (let seq = 0; seq < 50; seq++) {
          s.insertSample(sample(seq, { received: T0 + (seq % 10) * 1000, skewMs: seq }));
          s.insertSample(sample(seq, { host: 'h2', received: T0 + 500, skewMs: -seq }));
        }
        return undefined;
      });
      expect(s.getHost('s1', 'h1')).toMatchObject({ lastSeen: T0 + 9000, lastSkewMs: 49 });
      expect(s.getHost('s1', 'h2')).toMatchObject({ lastSeen: T0 + 500, lastSkewMs: -49 });
      // And an older receipt afterwards never moves last-seen back.
      s.transaction(() => s.insertSample(sample(60, { received: T0, skewMs: 7 })));
      expect(s.getHost('s1', 'h1')).toMatchObject({ lastSeen: T0 + 9000, lastSkewMs: 7 });
      s.close();
    });

    it('returns samples in time order within a range, bounded by limit', () => {
      const s = makeStore();
      for (const seq of [5, 3, 4, 1, 2]) s.insertSample(sample(seq));
      const got = s.samples('s1', 'h1', { from: T0 + 2 * 15_000, to: T0 + 5 * 15_000, limit: 10 });
      expect(got.map((x) => x.seq)).toEqual([2, 3, 4]);
      expect(s.samples('s1', 'h1', { from: 0, to: T0 * 2, limit: 2 }).map((x) => x.seq)).toEqual([1, 2]);
      expect(s.latestSample('s1', 'h1')?.seq).toBe(5);
      expect(s.latestSample('s1', 'h1')?.metrics.cpu).toEqual({ usage: 5, load1: null, load5: null, load15: null, cores: 2 });
      s.close();
    });

    it('tracks host state from status: birth, Last Will, stale wills ignored', () => {
      const s = makeStore();
      const base = { site: 's1', host: 'h1', hostname: 'PC <Một>', agentVersion: '0.1.0' };
      s.applyStatus({ ...base, boot: 'b1', t: T0, received: T0, state: 'online' });
      expect(s.getHost('s1', 'h1')?.state).toBe('online');
      expect(s.hostsOnline()).toBe(1);
      // The will carries the connect time (older than the birth) but same boot: applies.
      s.applyStatus({ ...base, boot: 'b1', t: T0 - 10, received: T0 + 60_000, state: 'offline' });
      expect(s.getHost('s1', 'h1')?.state).toBe('offline');
      s.applyStatus({ ...base, boot: 'b2', t: T0 + 120_000, received: T0 + 120_000, state: 'online' });
      // A late will of the previous boot must not flip the new session offline.
      s.applyStatus({ ...base, boot: 'b1', t: T0, received: T0 + 130_000, state: 'offline' });
      const h = s.getHost('s1', 'h1')!;
      expect(h.state).toBe('online');
      expect(h.boot).toBe('b2');
      expect(h.hostname).toBe('PC <Một>');
      expect(s.markAllUnknown(T0 + 200_000)).toBe(1);
      expect(s.getHost('s1', 'h1')?.state).toBe('unknown');
      s.close();
    });

    it('stores events once and inventory newest-wins', () => {
      const s = makeStore();
      const ev = { site: 's1', host: 'h1', boot: 'b1', seq: 7, t: T0, received: T0, type: 'agent_start', severity: 'info', message: 'khởi động' };
      expect(s.insertEvent(ev)).toBe(true);
      expect(s.insertEvent(ev)).toBe(false);
      expect(s.events('s1', undefined, { from: 0, to: T0 + 1, limit: 10 })).toHaveLength(1);
      expect(s.events('s1', 'h1', { from: 0, to: T0 + 1, limit: 10 })[0]?.message).toBe('khởi động');
      expect(s.upsertInventory({ site: 's1', host: 'h1', boot: 'b1', seq: 1, t: T0, received: T0, hostname: 'A', data: { hostname: 'A', memTotal: 1 } })).toBe(true);
      // An older one replayed late is recorded (history) but does not become current.
      expect(s.upsertInventory({ site: 's1', host: 'h1', boot: 'b1', seq: 0, t: T0 - 1, received: T0, hostname: 'old', data: { hostname: 'old' } })).toBe(true);
      expect(s.upsertInventory({ site: 's1', host: 'h1', boot: 'b1', seq: 0, t: T0 - 1, received: T0, hostname: 'old', data: { hostname: 'old' } })).toBe(false);
      expect(s.inventory('s1', 'h1')?.data.memTotal).toBe(1);
      expect(s.getHost('s1', 'h1')?.hostname).toBe('A');
      s.close();
    });
  });
}
