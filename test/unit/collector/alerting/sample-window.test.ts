/**
 * The column store of the alert windows (issue 12: ~70 bytes a sample instead of ~760)
 * reads back exactly what the plain-object reference view (arrayWindow) reads, through
 * random inserts out of order, growth, the count bound, pruning and shrinking; targets and
 * probes that come and go; nulls kept apart from zeros.
 */
import { describe, expect, it } from 'vitest';
import type { WindowSample } from '../../../../collector/alerting/metric-windows.js';
import { arrayWindow, HostSeries, MAX_SERIES_PER_HOST, type SampleWindow } from '../../../../collector/alerting/sample-window.js';

function read(w: SampleWindow) {
  const pings: unknown[] = [];
  const https: unknown[] = [];
  w.forEachPing((...a) => pings.push(a));
  w.forEachHttp((...a) => https.push(a));
  return {
    length: w.length,
    means: (['cpu', 'memPct', 'rxBps', 'txBps', 'diskBusy', 'diskQueue', 'memSome', 'swapInPs', 'hardFaultsPs'] as const).map((f) => w.mean(f)),
    pings,
    https,
  };
}

/** Float32 columns: compare the reference through the same rounding. */
function rounded(samples: WindowSample[]): WindowSample[] {
  const f = (v: number | null) => (v === null ? null : Math.fround(v));
  return samples.map((s) => ({
    ...s,
    cpu: f(s.cpu),
    memPct: f(s.memPct),
    diskBusy: f(s.diskBusy ?? null),
    diskQueue: f(s.diskQueue ?? null),
    memSome: f(s.memSome ?? null),
    swapInPs: f(s.swapInPs ?? null),
    hardFaultsPs: f(s.hardFaultsPs ?? null),
    rxBps: f(s.rxBps ?? null),
    txBps: f(s.txBps ?? null),
    ping: s.ping.map((p) => ({ ...p, lossPct: Math.fround(p.lossPct), rttP95: f(p.rttP95) })),
    http: s.http.map((h) => ({ ...h, totalMs: f(h.totalMs), error: h.ok ? undefined : h.error })),
  }));
}

describe('HostSeries (column store) = arrayWindow (reference)', () => {
  it('agrees on 3,000 random samples, inserted out of order, through growth, the bound, prunes and shrinks', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const MAX = 500;
    const series = new HostSeries(MAX);
    let ref: WindowSample[] = [];
    const targets = ['192.168.1.1', '8.8.8.8', '1.1.1.1', 'dns.vnpt.vn'];
    let t = 1_000_000;
    for (let i = 0; i < 3000; i++) {
      t += 1000;
      // Now and then a replayed sample from the past.
      const at = rnd() < 0.15 ? t - Math.floor(rnd() * 60) * 1000 - 500 : t;
      const s: WindowSample = {
        t: at,
        cpu: rnd() < 0.1 ? null : rnd() * 100,
        memPct: rnd() < 0.1 ? null : rnd() * 100,
        disks: [],
        ping: targets
          .filter(() => rnd() < 0.8)
          .map((target) => ({
            target,
            role: target === '192.168.1.1' ? 'gateway' : 'configured',
            lossPct: rnd() < 0.5 ? 0 : rnd() * 100,
            rttP95: rnd() < 0.1 ? null : rnd() * 300,
            rttMedian: null,
          })),
        http: rnd() < 0.5 ? [] : [{ name: 'dichvucong', ok: rnd() < 0.7, totalMs: rnd() < 0.2 ? null : rnd() * 5000, error: rnd() < 0.5 ? 'ENOTFOUND' : 'timeout' }],
        rxBps: rnd() < 0.1 ? null : rnd() * 1e7,
        txBps: rnd() < 0.1 ? null : rnd() * 1e6,
        // Issue 17 figures: absent (older agents), null (unreadable) or a value.
        ...(rnd() < 0.2 ? {} : { diskBusy: rnd() < 0.1 ? null : rnd() * 100, diskQueue: rnd() * 8 }),
        ...(rnd() < 0.2 ? {} : { memSome: rnd() < 0.3 ? null : rnd() * 40, swapInPs: rnd() * 900, hardFaultsPs: rnd() < 0.1 ? null : rnd() * 500 }),
      };
      // The reference: sorted by time, stable for equal times (insert after equals), oldest dropped at the bound.
      const dropped = series.insert(s);
      let k = ref.length;
      while (k > 0 && ref[k - 1]!.t > s.t) k--;
      ref.splice(k, 0, s);
      if (ref.length > MAX) ref.shift();
      expect(dropped).toBe(ref.length === MAX && i >= MAX);
      if (i % 97 === 0) {
        const cut = t - 200_000 - Math.floor(rnd() * 200) * 1000;
        series.pruneBefore(cut);
        ref = ref.filter((x) => x.t >= cut);
      }
      if (i % 50 === 0) {
        const from = t - Math.floor(rnd() * 400) * 1000;
        const got = read(series.view(from));
        const want = read(arrayWindow(rounded(ref.filter((x) => x.t >= from))));
        expect(got.length).toBe(want.length);
        // Within one sample the order of targets may differ (columns keep first-seen order): compare as sets.
        const sorted = (a: unknown[]) => a.map((x) => JSON.stringify(x)).sort();
        expect(sorted(got.pings)).toEqual(sorted(want.pings));
        expect(got.https).toEqual(want.https);
        got.means.forEach((m, j) => (m === null ? expect(want.means[j]).toBeNull() : expect(m).toBeCloseTo(want.means[j]!, 2)));
      }
    }
    expect(series.size).toBe(ref.length);
  });

  it('keeps null apart from 0 and a missing target apart from 0 % loss', () => {
    const s = new HostSeries(10);
    s.insert({
      t: 1,
      cpu: 0,
      memPct: null,
      disks: [],
      ping: [{ target: 'gw', role: 'gateway', lossPct: 0, rttP95: null, rttMedian: null }],
      http: [],
      rxBps: 0,
      txBps: null,
      diskBusy: 0,
      diskQueue: null,
      swapInPs: 0,
    });
    s.insert({ t: 2, cpu: null, memPct: null, disks: [], ping: [], http: [], rxBps: null, txBps: null });
    const r = read(s.view(0));
    // cpu, memPct, rxBps, txBps, diskBusy, diskQueue, memSome (absent), swapInPs, hardFaultsPs (absent)
    expect(r.means).toEqual([0, null, 0, null, 0, null, null, 0, null]);
    expect(r.pings).toEqual([['gw', 'gateway', 0, null]]);
  });

  it('holds a 10-minute window at 15 s in 48 slots of one buffer, and gives memory back after a burst', () => {
    const s = new HostSeries(2000);
    const ping = [
      { target: '192.168.1.1', role: 'gateway' as const, lossPct: 0, rttP95: 1, rttMedian: 1 },
      { target: 'dichvucong.gov.vn', role: 'configured' as const, lossPct: 25, rttP95: 40, rttMedian: 30 },
    ];
    const http = [{ name: 'dichvucong', ok: false, totalMs: null, error: 'timeout' }];
    const sample = (t: number): WindowSample => ({ t, cpu: 5, memPct: 50, disks: [], ping, http, rxBps: 1e6, txBps: 1e5, diskBusy: 3, diskQueue: 0.1 });
    // 660 s kept (the longest default rule window + 60 s), pruned every 30 s.
    for (let t = 0; t <= 3_600_000; t += 15_000) {
      s.insert(sample(t));
      if (t % 30_000 === 0) s.pruneBefore(t - 660_000);
    }
    expect(s.size).toBe(45);
    expect(s.capacity).toBe(48);
    // 1 Float64 + 9 Float32 columns, 2 per ping target, 2 per probe: 68 bytes a slot (76 with rates in Float64).
    expect(s.bytes).toBe(48 * (1 * 8 + 9 * 4 + 2 * 2 * 4 + 2 * 4));
    // A replay burst: one sample a second for 20 minutes, then the window catches up.
    for (let t = 3_600_000 - 1_200_000; t < 3_600_000; t += 1000) s.insert(sample(t + 500));
    expect(s.capacity).toBeGreaterThan(1000);
    for (let t = 3_615_000; t <= 3_615_000 + 12 * 30_000; t += 30_000) s.pruneBefore(t - 660_000);
    // Halved at each prune (each evaluation) while a quarter full.
    for (let k = 0; k < 10; k++) s.pruneBefore(3_615_000 + 660_000 + 1);
    expect(s.capacity).toBe(16);
    expect(read(s.view(0)).length).toBe(0);
  });

  it('reads a target or probe that appears mid-window as absent from the samples before it', () => {
    const s = new HostSeries(100);
    s.insert({ t: 1, cpu: 1, memPct: null, disks: [], ping: [], http: [], rxBps: null, txBps: null });
    s.insert({
      t: 2,
      cpu: 2,
      memPct: null,
      disks: [],
      ping: [{ target: 'gw', role: 'gateway', lossPct: 0, rttP95: 2, rttMedian: 1 }],
      http: [{ name: 'p', ok: false, totalMs: 10, error: 'ECONNREFUSED' }],
      rxBps: null,
      txBps: null,
    });
    // A replayed sample older than both goes first, without the new columns' figures.
    s.insert({ t: 0, cpu: 0, memPct: null, disks: [], ping: [], http: [], rxBps: null, txBps: null });
    const r = read(s.view(0));
    expect(r.length).toBe(3);
    expect(r.means[0]).toBe(1);
    expect(r.pings).toEqual([['gw', 'gateway', 0, 2]]);
    expect(r.https).toEqual([['p', false, 10, 'ECONNREFUSED']]);
    expect(s.times()).toEqual([0, 1, 2]);
  });

  it('keeps every distinct error text of the failures held, through table rebuilds and prunes', () => {
    const s = new HostSeries(1000);
    let ref: WindowSample[] = [];
    for (let i = 0; i < 400; i++) {
      // 1 in 3 fails with an error never seen before, 1 in 3 with a recurring one.
      const error = i % 3 === 0 ? `HTTP ${500 + i}` : i % 3 === 1 ? 'timeout' : undefined;
      const x: WindowSample = {
        t: i * 1000,
        cpu: null,
        memPct: null,
        disks: [],
        ping: [],
        http: [{ name: 'p', ok: error === undefined, totalMs: i, error }],
        rxBps: null,
        txBps: null,
      };
      s.insert(x);
      ref.push(x);
      if (i % 25 === 0) {
        s.pruneBefore((i - 60) * 1000);
        ref = ref.filter((r) => r.t >= (i - 60) * 1000);
      }
      expect(read(s.view(0)).https).toEqual(read(arrayWindow(rounded(ref))).https);
    }
  });

  it(`tracks at most ${MAX_SERIES_PER_HOST} ping targets per host and counts the rest`, () => {
    const s = new HostSeries(10);
    const ping = Array.from({ length: MAX_SERIES_PER_HOST + 3 }, (_, i) => ({ target: `t${i}`, role: 'configured' as const, lossPct: 1, rttP95: 1, rttMedian: 1 }));
    s.insert({ t: 1, cpu: null, memPct: null, disks: [], ping, http: [], rxBps: null, txBps: null });
    expect(read(s.view(0)).pings).toHaveLength(MAX_SERIES_PER_HOST);
    expect(s.ignoredSeries).toBe(3);
  });
});
