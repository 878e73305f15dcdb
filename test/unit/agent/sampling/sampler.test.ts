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
});
