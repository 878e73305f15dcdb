import { describe, expect, it } from 'vitest';
import { Sampler } from '../../../../agent/sampling/sampler.js';
import type { MetricSource } from '../../../../agent/sampling/sources/source.js';
import { silentLogger } from '../../../../common/log.js';
import type { SampleMetrics } from '../../../../contract/schemas.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('Sampler', () => {
  it('calls onTick once per tick, before the sources run; a throwing hook does not stop sampling', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    const source: MetricSource<'uptime'> = {
      name: 'uptime',
      async collect() {
        order.push('collect');
        return { seconds: 1, bootTime: 0 };
      },
    };
    const samples: SampleMetrics[] = [];
    let ticks = 0;
    const sampler = new Sampler({
      sources: [source],
      intervalMs: 5000,
      clock,
      log: silentLogger(),
      onSample: (_t, m) => samples.push(m),
      onTick: () => {
        ticks++;
        order.push('tick');
        if (ticks === 2) throw new Error('hook failed');
      },
    });
    await sampler.start();
    await settle();
    expect(order).toEqual(['tick', 'collect']);
    clock.advance(5000);
    await settle();
    clock.advance(5000);
    await settle();
    expect(ticks).toBe(3);
    expect(order).toEqual(['tick', 'collect', 'tick', 'collect', 'tick', 'collect']);
    expect(samples).toHaveLength(3);
    await sampler.stop();
    clock.advance(5000);
    await settle();
    expect(ticks).toBe(3);
  });

  it('a source that does not answer within 0.8 of the interval is unavailable in that sample (logged once); the others are in it; one timer per sample', async () => {
    const clock = new FakeClock();
    let hang = true;
    const slow: MetricSource<'mem'> = {
      name: 'mem',
      collect: () => (hang ? new Promise(() => undefined) : Promise.resolve({ total: 1, used: 0, available: 1, swapTotal: 0, swapUsed: 0 })),
    };
    const fast: MetricSource<'uptime'> = { name: 'uptime', collect: async () => ({ seconds: 1, bootTime: 0 }) };
    const samples: SampleMetrics[] = [];
    const transitions: string[] = [];
    const sampler = new Sampler({
      sources: [slow, fast],
      intervalMs: 5000,
      clock,
      log: silentLogger(),
      onSample: (_t, m) => samples.push(m),
      onTransition: (tr) => transitions.push(`${tr.source} ${tr.state}`),
    });
    await sampler.start();
    await settle();
    expect(samples).toHaveLength(0);
    expect(clock.pending).toBe(1); // the sample's deadline, not one per source
    clock.advance(3999);
    await settle();
    expect(samples).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(samples).toEqual([{ mem: { unavailable: 'mem: timed out after 4000 ms' }, uptime: { seconds: 1, bootTime: 0 } }]);
    expect(transitions).toEqual(['mem unavailable']);
    hang = false;
    clock.advance(1000); // the next tick, at 5 s
    await settle();
    expect(samples[1]).toEqual({ mem: { total: 1, used: 0, available: 1, swapTotal: 0, swapUsed: 0 }, uptime: { seconds: 1, bootTime: 0 } });
    expect(transitions).toEqual(['mem unavailable', 'mem recovered']);
    expect(clock.pending).toBe(1); // the next tick only: the deadline was cleared
    await sampler.stop();
  });
});
