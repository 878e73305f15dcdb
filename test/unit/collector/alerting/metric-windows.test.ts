/**
 * The alert rules' in-memory windows (issue 12: the collector's memory and the rules' cost
 * are bounded by time, not by message rate): thinning of senders faster than any agent,
 * replayed samples put in their place, the latest sample kept past the window, the keep
 * time derived from the configured rules, the count bound with counted overflow.
 */
import { describe, expect, it } from 'vitest';
import { windowKeepMs } from '../../../../collector/alerting/alert-service.js';
import { DEFAULT_WINDOW_LIMITS, MetricWindows } from '../../../../collector/alerting/metric-windows.js';
import type { StoredMessage } from '../../../../collector/ingest/ingest.js';

const T0 = Date.UTC(2026, 11, 5, 2, 0, 0);

function sample(t: number, cpu = 10, host = 'pc-1'): StoredMessage {
  return {
    kind: 'samples',
    row: {
      site: 'xa-a',
      host,
      boot: 'b1',
      seq: t,
      t,
      interval: 1,
      // The time (from T0) again as an HTTP total, so a test can read back which samples were kept.
      metrics: { cpu: { usage: cpu }, disks: [{ mount: 'C:', usedPct: 91, free: 2e9, total: 1e11 }], http: [{ name: 'probe', ok: true, totalMs: t - T0, error: undefined }] },
    },
  } as unknown as StoredMessage;
}

/** The kept sample times of xa-a/pc-1 (read back through the rules' view: one ping per sample, see sample()). */
function times(w: MetricWindows): number[] {
  const out: number[] = [];
  w.window('xa-a', 'pc-1', 0).forEachHttp((_name, _ok, totalMs) => out.push(T0 + totalMs!));
  return out;
}

describe('MetricWindows', () => {
  it('thins a sender far faster than any agent to one sample per minSpacingMs; the thinned ones still update the latest sample', () => {
    const w = new MetricWindows({ ...DEFAULT_WINDOW_LIMITS, minSpacingMs: 500 });
    for (let i = 0; i < 1000; i++) w.add(sample(T0 + i * 10, i)); // 100 a second for 10 s
    const kept = times(w);
    expect(kept).toHaveLength(20);
    for (let i = 1; i < kept.length; i++) expect(kept[i]! - kept[i - 1]!).toBeGreaterThanOrEqual(500);
    expect(w.thinned).toBe(980);
    expect(w.lastSample('xa-a', 'pc-1', 0)).toMatchObject({ t: T0 + 9990, cpu: 999 });
  });

  it('keeps every sample of a 1 s agent, and puts a replayed one in its place', () => {
    const w = new MetricWindows();
    for (const t of [0, 1000, 2000, 4000, 5000]) w.add(sample(T0 + t));
    w.add(sample(T0 + 3000)); // replayed after a cut
    expect(times(w).map((t) => t - T0)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(w.window('xa-a', 'pc-1', T0 + 2500).length).toBe(3);
    expect(w.window('xa-a', 'pc-1', T0 + 2500).mean('cpu')).toBe(10);
    expect(w.lastSample('xa-a', 'pc-1', 0)!.t).toBe(T0 + 5000);
    expect(w.thinned).toBe(0);
  });

  it('prunes the window after keepMs but keeps the latest sample apart (disk fill, evidence of a cut)', () => {
    const w = new MetricWindows({ ...DEFAULT_WINDOW_LIMITS, keepMs: 60_000 });
    w.add(sample(T0));
    w.add(sample(T0 + 15_000));
    w.prune(T0 + 15_000 + 61_000);
    expect(w.window('xa-a', 'pc-1', 0).length).toBe(0);
    expect(w.size()).toBe(0);
    expect(w.lastSample('xa-a', 'pc-1', T0)).toMatchObject({ t: T0 + 15_000, disks: [{ mount: 'C:', usedPct: 91 }] });
    expect(w.lastSample('xa-a', 'pc-1', T0 + 20_000)).toBeUndefined();
  });

  it('bounds the samples per host and counts what it drops', () => {
    const w = new MetricWindows({ ...DEFAULT_WINDOW_LIMITS, maxSamplesPerHost: 5 });
    for (let i = 0; i < 8; i++) w.add(sample(T0 + i * 1000));
    expect(times(w).map((t) => t - T0)).toEqual([3000, 4000, 5000, 6000, 7000]);
    expect(w.overflow.samples).toBe(3);
  });

  it('keeps samples as long as the longest configured rule window (at least 10 min), plus a minute', () => {
    expect(windowKeepMs({})).toBe(660_000);
    expect(windowKeepMs({ cpuSaturation: { windowSeconds: 600 }, peakHourCongestion: { windowSeconds: 120 } })).toBe(660_000);
    expect(windowKeepMs({ cpuSaturation: { windowSeconds: 1800 }, hostOffline: { forSeconds: 99_999 } })).toBe(1_860_000);
  });
});
