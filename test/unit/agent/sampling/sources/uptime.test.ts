import { describe, expect, it } from 'vitest';
import { createUptimeSource } from '../../../../../agent/sampling/sources/uptime.js';
import { context, linuxFixtureSystem, windowsFixtureSystem } from '../../fake-system-info.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';

describe('uptime source', () => {
  it('Linux: seconds from /proc/uptime and boot time rounded to the second', async () => {
    const clock = new FakeClock(Date.UTC(2025, 5, 1, 8, 0, 0, 250));
    const m = await createUptimeSource(context(linuxFixtureSystem(), { clock })).collect();
    expect(m.seconds).toBe(497.46);
    // 08:00:00.250 - 497.460 s = 07:51:42.790 -> 07:51:43
    expect(m.bootTime).toBe(Date.UTC(2025, 5, 1, 7, 51, 43));
  });

  it('boot time stays put between samples although the estimate jitters', async () => {
    const sys = windowsFixtureSystem();
    const clock = new FakeClock(Date.UTC(2025, 5, 1, 8, 0, 0, 0));
    const source = createUptimeSource(context(sys, { clock }));
    sys.uptime = 1000.4; // estimate 07:43:19.600 -> rounds to :20
    const first = await source.collect();
    clock.advance(15_000);
    sys.uptime = 1015.9; // estimate 07:43:19.100 -> would round to :19
    const second = await source.collect();
    expect(first.bootTime).toBe(Date.UTC(2025, 5, 1, 7, 43, 20));
    expect(second.bootTime).toBe(first.bootTime);
    expect(second.seconds).toBe(1015.9);
  });

  it('a reboot (uptime restarting) gives a new boot time', async () => {
    const sys = windowsFixtureSystem();
    const clock = new FakeClock(Date.UTC(2025, 5, 1, 8, 0, 0, 0));
    const source = createUptimeSource(context(sys, { clock }));
    sys.uptime = 264817.843;
    const before = await source.collect();
    clock.advance(600_000);
    sys.uptime = 120;
    const after = await source.collect();
    expect(after.bootTime).toBe(Date.UTC(2025, 5, 1, 8, 8, 0));
    expect(after.bootTime).not.toBe(before.bootTime);
  });
});
