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

  it(`tracks at most ${MAX_SERIES_PER_HOST} ping targets per host and counts the rest`, () => {
    const s = new HostSeries(10);
    const ping = Array.from({ length: MAX_SERIES_PER_HOST + 3 }, (_, i) => ({ target: `t${i}`, role: 'configured' as const, lossPct: 1, rttP95: 1, rttMedian: 1 }));
    s.insert({ t: 1, cpu: null, memPct: null, disks: [], ping, http: [], rxBps: null, txBps: null });
    expect(read(s.view(0)).pings).toHaveLength(MAX_SERIES_PER_HOST);
    expect(s.ignoredSeries).toBe(3);
  });
});
