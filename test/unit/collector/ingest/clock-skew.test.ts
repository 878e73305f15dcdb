import { describe, expect, it } from 'vitest';
import { NO_SKEW, observeSkew, skewMessage, skewRules, type SkewDecision, type SkewState } from '../../../../collector/ingest/clock-skew.js';
import { Ingest } from '../../../../collector/ingest/ingest.js';
import { openDatabase, SqliteStore } from '../../../../collector/store/sqlite-store.js';
import { silentLogger } from '../../../../common/log.js';
import { MetricsRegistry } from '../../../../common/metrics-registry.js';
import { topicFor } from '../../../../contract/topics.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const rules = skewRules(MIN);

/** Feed observations in order; return every raise and the final state. */
function feed(observations: number[], start: SkewState = NO_SKEW) {
  let state = start;
  const raised: NonNullable<SkewDecision['raise']>[] = [];
  observations.forEach((o, i) => {
    const d = observeSkew(state, o, 1_000_000 + i, rules);
    state = d.state;
    if (d.raise) raised.push(d.raise);
  });
  return { state, raised };
}

describe('clock-skew rules (issue 13 item 4)', () => {
  it('a clock within the tolerance raises nothing', () => {
    expect(feed([0, 20, -30_000, 59_000, 5]).raised).toEqual([]);
  });

  it('one late message (delayed in transit) is not a wrong clock', () => {
    const { raised, state } = feed([10, 3 * MIN, 15, 20]);
    expect(raised).toEqual([]);
    expect(state.flaggedMs).toBeNull();
  });

  it('raises ONE event on entering skew, not one per message', () => {
    const { raised, state } = feed([3 * HOUR, 3 * HOUR + 40, 3 * HOUR + 10, 3 * HOUR - 500, 3 * HOUR + 2000]);
    expect(raised).toEqual([{ change: 'entered', skewMs: 3 * HOUR + 40, previousMs: null }]);
    expect(state.flaggedMs).toBe(3 * HOUR + 40);
    expect(state.since).toBe(1_000_001);
  });

  it('raises again when the skew changes a lot, and when the clock is right again', () => {
    const { raised, state } = feed([3 * HOUR, 3 * HOUR, 3 * HOUR + 30_000, -2 * HOUR, -2 * HOUR, -2 * HOUR, 100, 200, 50]);
    expect(raised.map((r) => r.change)).toEqual(['entered', 'changed', 'resolved']);
    expect(raised[1]).toEqual({ change: 'changed', skewMs: -2 * HOUR, previousMs: 3 * HOUR });
    expect(raised[2]).toMatchObject({ change: 'resolved', previousMs: -2 * HOUR });
    expect(state).toEqual(NO_SKEW);
  });

  it('a flagged skew restored from the store (collector restart) is not raised again', () => {
    const { raised } = feed([3 * HOUR, 3 * HOUR + 5, 3 * HOUR], { flaggedMs: 3 * HOUR, since: 5 });
    expect(raised).toEqual([]);
  });

  it('an unconfirmed candidate is dropped when the next observation disagrees', () => {
    const { raised } = feed([3 * HOUR, 10, 3 * HOUR, 20, 3 * HOUR]);
    expect(raised).toEqual([]);
  });

  it('says which way the clock is off, in Vietnamese', () => {
    expect(skewMessage('entered', 3 * HOUR, null)).toBe('Đồng hồ máy chậm 3 giờ 0 phút so với máy chủ; thời gian đã được hiệu chỉnh');
    expect(skewMessage('entered', -(2 * MIN + 5000), null)).toContain('nhanh 2 phút 5 giây');
    expect(skewMessage('resolved', 10, 26 * HOUR)).toBe('Đồng hồ máy đã đúng lại (trước đó lệch 1 ngày 2 giờ)');
  });
});

describe('Ingest: clock skew raised and every stored time corrected', () => {
  const SKEW = 3 * HOUR;
  function setup() {
    const clock = new FakeClock();
    const store = new SqliteStore(openDatabase(':memory:'), ':memory:');
    const emitted: Array<{ kind: string; type?: string }> = [];
    const metrics = new MetricsRegistry();
    const ingest = new Ingest({
      store,
      clock,
      log: silentLogger(),
      metrics,
      skewToleranceMs: MIN,
      onStored: (m) => emitted.push({ kind: m.kind, type: m.kind === 'events' ? m.row.type : undefined }),
    });
    return { clock, store, ingest, emitted, metrics };
  }
  const env = (clock: FakeClock, seq: number, skewMs: number) => ({ v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq, t: clock.now() - skewMs, sent: clock.now() - skewMs });
  const samplePayload = (clock: FakeClock, seq: number, skewMs: number, uptimeS = 120) =>
    Buffer.from(
      JSON.stringify({
        ...env(clock, seq, skewMs),
        interval: 15,
        metrics: { uptime: { seconds: uptimeS, bootTime: clock.now() - skewMs - uptimeS * 1000 } },
      }),
    );

  it('one clock_skew event for a PC whose clock is 3 h behind after a power-up; times, osBoot and bootTime corrected', () => {
    const { clock, store, ingest, emitted, metrics } = setup();
    const bornAt = clock.now();
    const birth = { ...env(clock, 0, SKEW), state: 'online', hostname: 'PC-1', agentVersion: '1.0.0', osBoot: clock.now() - SKEW - 120_000, keepalive: 30 };
    ingest.handle(topicFor('s1', 'h1', 'status'), Buffer.from(JSON.stringify(birth)));
    for (let seq = 1; seq <= 6; seq++) {
      clock.advance(15_000);
      expect(ingest.handle(topicFor('s1', 'h1', 'samples'), samplePayload(clock, seq, SKEW)).status).toBe('accepted');
    }
    const outage = {
      ...env(clock, 7, SKEW),
      type: 'outage',
      severity: 'critical',
      message: 'power',
      start: clock.now() - SKEW - 600_000,
      end: clock.now() - SKEW - 120_000,
      details: { cause: 'power_loss' },
    };
    ingest.handle(topicFor('s1', 'h1', 'events'), Buffer.from(JSON.stringify(outage)));

    const events = store.events('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 });
    const skewEvents = events.filter((e) => e.type === 'clock_skew');
    expect(skewEvents).toHaveLength(1);
    const ev = skewEvents[0]!;
    expect(ev.boot.startsWith('collector:')).toBe(true);
    expect(ev.t).toBe(bornAt + 15_000);
    expect(ev.details).toMatchObject({ change: 'entered', skewMs: SKEW, afterBoot: true });
    expect(emitted.filter((e) => e.type === 'clock_skew')).toHaveLength(1);
    expect(metrics.render()).toContain('canh_ingest_clock_skew_events_total{change="entered"} 1');

    // Every stored time is on the collector's clock.
    const samples = store.samples('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 });
    expect(samples).toHaveLength(6);
    for (const s of samples) {
      expect(s.t).toBe(s.tAgent + SKEW);
      expect(s.received - s.t).toBe(0);
      const up = s.metrics.uptime as { bootTime: number; seconds: number };
      expect(up.bootTime).toBe(s.t - up.seconds * 1000);
    }
    const h = store.getHost('s1', 'h1')!;
    expect(h.osBoot).toBe(bornAt - 120_000);
    expect(h.clockSkewMs).toBe(SKEW);
    expect(h.clockSkewSince).toBe(bornAt + 15_000);
    const out = events.find((e) => e.type === 'outage')!;
    expect(out.t).toBe(clock.now());
    expect(out.start).toBe(clock.now() - 600_000);
    expect(out.end).toBe(clock.now() - 120_000);
  });

  it('a Last Will takes the flagged skew (it was stamped at connect, long before the broker sent it)', () => {
    const { clock, store, ingest } = setup();
    for (let seq = 1; seq <= 3; seq++) {
      clock.advance(15_000);
      ingest.handle(topicFor('s1', 'h1', 'samples'), samplePayload(clock, seq, SKEW));
    }
    const connectedAgentTime = clock.now() - SKEW - 45_000;
    const birth = { ...env(clock, 0, SKEW), t: connectedAgentTime, sent: connectedAgentTime };
    clock.advance(HOUR);
    const will = { ...birth, state: 'offline', hostname: 'PC-1', agentVersion: '1.0.0', osBoot: connectedAgentTime - 60_000 };
    ingest.handle(topicFor('s1', 'h1', 'status'), Buffer.from(JSON.stringify(will)));
    const h = store.getHost('s1', 'h1')!;
    expect(h.state).toBe('offline');
    expect(h.osBoot).toBe(connectedAgentTime - 60_000 + SKEW);
    expect(store.events('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 }).filter((e) => e.type === 'clock_skew')).toHaveLength(1);
  });

  it('raises "resolved" once the clock is right again, and not again after a restart', () => {
    const { clock, store, ingest } = setup();
    let seq = 0;
    for (let i = 0; i < 3; i++) {
      clock.advance(15_000);
      ingest.handle(topicFor('s1', 'h1', 'samples'), samplePayload(clock, ++seq, SKEW));
    }
    // A collector restart: a new Ingest on the same store does not raise the same skew again.
    const again = new Ingest({ store, clock, log: silentLogger(), metrics: new MetricsRegistry(), skewToleranceMs: MIN });
    for (let i = 0; i < 3; i++) {
      clock.advance(15_000);
      again.handle(topicFor('s1', 'h1', 'samples'), samplePayload(clock, ++seq, SKEW));
    }
    // NTP fixed the clock.
    for (let i = 0; i < 3; i++) {
      clock.advance(15_000);
      again.handle(topicFor('s1', 'h1', 'samples'), samplePayload(clock, ++seq, 0, 4000));
    }
    const skews = store.events('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 }).filter((e) => e.type === 'clock_skew');
    expect(skews.map((e) => (e.details as { change: string }).change)).toEqual(['entered', 'resolved']);
    expect(skews[1]!.start).toBe(skews[0]!.t);
    expect(skews[1]!.details).toMatchObject({ previousMs: SKEW, afterBoot: false });
    expect(store.getHost('s1', 'h1')!.clockSkewMs).toBeNull();
  });

  it('a re-sent message stamped at its re-send is not taken for skew', () => {
    const { clock, store, ingest } = setup();
    const first = clock.now();
    // Taken 3 min ago, kept in the outbox during a network cut, re-sent now with a fresh `sent`.
    for (let seq = 1; seq <= 12; seq++) {
      const t = first - (13 - seq) * 15_000;
      const p = { v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq, t, sent: clock.now(), interval: 15, metrics: {} };
      ingest.handle(topicFor('s1', 'h1', 'samples'), Buffer.from(JSON.stringify(p)));
    }
    const samples = store.samples('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 });
    expect(samples.every((s) => s.t === s.tAgent)).toBe(true);
    expect(store.events('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 })).toHaveLength(0);
  });
  it('a retained birth the broker hands over at a (re)subscription is no clock measure; a live one late by as much is', () => {
    const run = (context: Record<string, unknown>) => {
      const { clock, store, ingest } = setup();
      // The PC's clock is right: born at the collector's time …
      const bornAt = clock.now();
      const birth = {
        v: 1,
        site: 's1',
        host: 'h1',
        boot: 'boot0001',
        seq: 0,
        t: bornAt,
        sent: bornAt,
        state: 'online',
        hostname: 'PC-1',
        agentVersion: '1.0.0',
        osBoot: bornAt - 120_000,
        keepalive: 30,
      };
      ingest.handle(topicFor('s1', 'h1', 'status'), Buffer.from(JSON.stringify(birth)));
      // … and its retained birth read 40 min later (a collector restart, then a re-read).
      for (const later of [40 * MIN, MIN]) {
        clock.advance(later);
        ingest.handle(topicFor('s1', 'h1', 'status'), Buffer.from(JSON.stringify(birth)), context);
      }
      const h = store.getHost('s1', 'h1')!;
      const skews = store.events('s1', 'h1', { from: 0, to: clock.now() + 1, limit: 100 }).filter((e) => e.type === 'clock_skew');
      return { h, skews };
    };
    const retained = run({ retained: true });
    expect(retained.skews).toHaveLength(0);
    expect(retained.h.clockSkewMs).toBeNull();
    expect(retained.h.osBoot).toBe(retained.h.firstSeen - 120_000);
    // The control: the same message taken live (no retained flag) reads as a clock 40 min slow.
    const live = run({});
    expect(live.skews).toHaveLength(1);
    expect(live.h.clockSkewMs).toBeGreaterThanOrEqual(40 * MIN);
  });
});
