import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { StallWatch, type CollectorStall } from '../../../../collector/health/stall-watch.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

function watch(opts: { capacity?: number } = {}) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const recorded: CollectorStall[] = [];
  const w = new StallWatch({ clock, log: silentLogger(), metrics, thresholdMs: 2000, capacity: opts.capacity, recorder: { record: (s) => recorded.push(s) } });
  return { clock, metrics, recorded, w };
}

function freeze(clock: FakeClock, ms: number): void {
  clock.freeze(ms);
}

describe('StallWatch', () => {
  it('records nothing while the ticks come on time', () => {
    const { clock, w, recorded, metrics } = watch();
    w.start();
    clock.advance(60_000);
    expect(recorded).toEqual([]);
    expect(w.summary()).toEqual({ count: 0, last: null });
    expect(w.inStall(clock.now())).toBe(false);
    expect(metrics.render()).toContain('canh_collector_stalls_total');
  });

  it('a late tick records a stall: metric, recorder, ring, summary', () => {
    const { clock, w, recorded, metrics } = watch();
    w.start();
    clock.advance(1000);
    const before = clock.now();
    freeze(clock, 40_000);
    // Before the timer phase notices the gap (a Last Will's I/O callback runs first): in a stall.
    expect(w.inStall(clock.now())).toBe(true);
    expect(recorded).toHaveLength(0);
    clock.advance(1); // the overdue tick
    expect(recorded).toHaveLength(1);
    const s = recorded[0]!;
    expect(s.end - s.start).toBe(s.gapMs);
    expect(s.gapMs).toBeGreaterThanOrEqual(40_000);
    expect(s.start).toBeLessThanOrEqual(before + 250);
    expect(w.inStall(clock.now())).toBe(false);
    expect(w.summary()).toMatchObject({ count: 1, last: { start: s.start, end: s.end } });
    const text = metrics.render();
    expect(text).toMatch(/canh_collector_stalls_total 1/);
    expect(text).toMatch(/canh_collector_stall_seconds_total 40(\.\d+)?\n/);
    // The correlator's port.
    expect(w.overlaps(s.start + 1000, s.start + 2000, 0)).toBe(true);
    expect(w.overlaps(s.end + 5000, s.end + 6000, 0)).toBe(false);
    expect(w.overlaps(s.end + 5000, s.end + 6000, 5000)).toBe(true);
    expect(w.covers(s.start - 4000, s.end + 4000, 5000)).toBe(true);
    expect(w.covers(s.start - 60_000, s.end, 5000)).toBe(false);
    expect(w.stalledMs(s.start - 10_000, s.end + 10_000)).toBe(s.gapMs);
    expect(w.stalledMs(s.start, s.start + 1000)).toBe(1000);
  });

  it('a gap under the threshold is no stall', () => {
    const { clock, w, recorded } = watch();
    w.start();
    freeze(clock, 1500);
    expect(w.inStall(clock.now())).toBe(false);
    clock.advance(1);
    expect(recorded).toHaveLength(0);
  });

  it('keeps a bounded ring of recent stalls, counting all', () => {
    const { clock, w, recorded, metrics } = watch({ capacity: 3 });
    w.start();
    for (let i = 0; i < 5; i++) {
      freeze(clock, 5000);
      clock.advance(300);
    }
    expect(recorded).toHaveLength(5);
    expect(w.recent()).toHaveLength(3);
    expect(w.recent()[0]).toEqual(recorded[2]);
    expect(w.summary().count).toBe(5);
    expect(metrics.render()).toMatch(/canh_collector_stalls_evicted_total 2/);
    expect(w.overlaps(recorded[0]!.start, recorded[0]!.end, 0)).toBe(false);
  });

  it('a recorder that throws does not stop the watch', () => {
    const clock = new FakeClock();
    const w = new StallWatch({
      clock,
      log: silentLogger(),
      metrics: new MetricsRegistry(),
      thresholdMs: 2000,
      recorder: {
        record: () => {
          throw new Error('disk full');
        },
      },
    });
    w.start();
    freeze(clock, 5000);
    expect(() => clock.advance(1)).not.toThrow();
    expect(w.summary().count).toBe(1);
    w.stop();
    expect(clock.pending).toBe(0);
    expect(w.inStall(clock.now() + 60_000)).toBe(false);
  });
});
