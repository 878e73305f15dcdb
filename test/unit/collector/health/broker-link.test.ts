import { describe, expect, it } from 'vitest';
import { BrokerLink } from '../../../../collector/health/broker-link.js';
import { IngestSaturation } from '../../../../collector/health/ingest-saturation.js';
import { collectorGaps } from '../../../../collector/outage/collector-stalls.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

describe('BrokerLink and collectorGaps: every kind of deafness for the correlator', () => {
  it('records the time without a link to the external broker (the start included) as episodes', () => {
    const clock = new FakeClock();
    const metrics = new MetricsRegistry();
    const link = new BrokerLink({ clock, log: silentLogger(), metrics });
    const t0 = clock.now();
    link.linkDown(); // start: no CONNACK yet
    clock.advance(300);
    link.linkUp();
    clock.advance(60_000);
    link.linkDown(); // keepalive timeout, broker restart
    expect(link.activeNow()).toBe(true);
    clock.advance(7000);
    link.linkUp();
    expect(link.summary()).toMatchObject({ count: 2, now: false, last: { start: t0 + 60_300, end: t0 + 67_300, seconds: 7 } });
    expect(link.msWithin(t0, clock.now())).toBe(7300);
    expect(metrics.render()).toContain('canh_broker_link_losses_total 2');
    expect(metrics.render()).toContain('canh_broker_link_down_seconds_total 7.3');
  });

  it('dates a timed-out link from when the broker was last heard, never later than now', () => {
    const clock = new FakeClock();
    const link = new BrokerLink({ clock, log: silentLogger(), metrics: new MetricsRegistry() });
    const t0 = clock.now();
    link.linkDown(t0 - 45_000); // keepalive 30 s: dead since the last packet, 45 s ago
    clock.advance(5000);
    link.linkUp();
    expect(link.recent()).toEqual([{ start: t0 - 45_000, end: t0 + 5000 }]);
    clock.advance(10_000);
    link.linkDown(clock.now() + 60_000); // a clock oddity: never in the future
    expect(link.recent()[1]!.start).toBe(clock.now());
  });

  it('joins stalls, ingest saturation and the broker link: deaf while any is, their time summed', () => {
    const clock = new FakeClock();
    const metrics = new MetricsRegistry();
    const sat = new IngestSaturation({ clock, log: silentLogger(), metrics });
    const link = new BrokerLink({ clock, log: silentLogger(), metrics });
    const noStalls = { inStall: () => false, overlaps: () => false, covers: () => false, stalledMs: () => 0 };
    const gaps = collectorGaps(noStalls, sat, link);
    const t0 = clock.now();
    expect(gaps.deafNow(t0)).toBe(false);
    link.linkDown();
    expect(gaps.deafNow(t0)).toBe(true);
    clock.advance(4000);
    link.linkUp();
    expect(gaps.deafNow(clock.now())).toBe(false);
    sat.saturated();
    clock.advance(10_000);
    expect(gaps.deafNow(clock.now())).toBe(true);
    sat.relieved();
    expect(gaps.deafMs(t0, clock.now())).toBe(14_000);
  });
});
