import { describe, expect, it } from 'vitest';
import { IngestSaturation } from '../../../../collector/health/ingest-saturation.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

function setup(capacity?: number) {
  const clock = new FakeClock();
  const metrics = new MetricsRegistry();
  const sat = new IngestSaturation({ clock, log: silentLogger(), metrics, capacity });
  return { clock, metrics, sat };
}

describe('IngestSaturation', () => {
  it('records episodes, merges one that resumes within 2 s, and counts seconds once', () => {
    const { clock, metrics, sat } = setup();
    const t0 = clock.now();
    sat.saturated();
    sat.saturated(); // already saturated: nothing new
    clock.advance(10_000);
    sat.relieved();
    clock.advance(1500);
    sat.saturated(); // a breather of 1.5 s: the same episode
    clock.advance(5000);
    sat.relieved();
    expect(sat.recent()).toEqual([{ start: t0, end: t0 + 16_500 }]);
    expect(sat.saturationSummary()).toMatchObject({ count: 1, saturatedNow: false, last: { start: t0, end: t0 + 16_500, seconds: 16.5 } });
    expect(metrics.render()).toContain('canh_ingest_saturations_total 1');
    expect(metrics.render()).toContain('canh_ingest_saturated_seconds_total 15'); // the breather is not counted
    clock.advance(3000);
    sat.saturated(); // 3 s later: a new episode
    expect(sat.saturatedNow()).toBe(true);
    expect(sat.summary().count).toBe(2);
    clock.advance(4000);
    // An ongoing episode counts up to the end of the asked range.
    expect(sat.saturatedMs(t0, clock.now())).toBe(16_500 + 4000);
    expect(sat.saturatedMs(t0 + 16_500, t0 + 19_500)).toBe(0);
  });

  it('keeps a bounded ring and counts what it drops', () => {
    const { clock, metrics, sat } = setup(3);
    for (let i = 0; i < 5; i++) {
      sat.saturated();
      clock.advance(1000);
      sat.relieved();
      clock.advance(10_000);
    }
    expect(sat.recent()).toHaveLength(3);
    expect(sat.summary().count).toBe(5);
    expect(metrics.render()).toContain('canh_ingest_saturations_evicted_total 2');
  });
});
