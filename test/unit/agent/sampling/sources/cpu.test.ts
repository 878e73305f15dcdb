import { describe, expect, it } from 'vitest';
import { busyPercent, createCpuSource } from '../../../../../agent/sampling/sources/cpu.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { context, FakeSystemInfo, linuxFixtureSystem, windowsFixtureSystem } from '../../fake-system-info.js';

describe('cpu source', () => {
  it('Linux: usage from two recorded /proc/stat snapshots', async () => {
    // Snapshot 1: cpu 12705 0 2014 83465 335 0 61 10 -> busy 14790, idle+iowait 83800
    // Snapshot 2: cpu 12780 0 2141 83663 335 0 61 10 -> busy 14992, idle+iowait 83998
    // busy delta 202 over total delta 400 = 50.5 %
    const source = createCpuSource(context(linuxFixtureSystem()));
    await source.init!();
    const m = await source.collect();
    expect(m.usage).toBeCloseTo(50.5, 10);
    expect(m.cores).toBe(2);
    expect([m.load1, m.load5, m.load15]).toEqual([0.55, 0.31, 0.16]);
  });

  it('Windows: usage from os.cpus() deltas without counting irq twice, and no load average', async () => {
    // 4 cores x 15 s = 60000 ms elapsed; user+sys deltas sum to 18000 ms (irq 500 ms is
    // inside core 0's sys). 18000 / 60000 = 30 %; adding irq again would give 30.58 %.
    const source = createCpuSource(context(windowsFixtureSystem()));
    await source.init!();
    const m = await source.collect();
    expect(m.usage).toBeCloseTo(30, 10);
    expect(m.cores).toBe(4);
    expect(m.load1).toBeNull();
    expect(m.load5).toBeNull();
    expect(m.load15).toBeNull();
  });

  it('reads the core count once, not per sample', async () => {
    const sys = linuxFixtureSystem();
    const source = createCpuSource(context(sys));
    await source.init!();
    await source.collect();
    await source.collect();
    expect(sys.calls.cpuCount).toBe(1);
    expect(sys.calls.cpuTimes).toBe(3);
  });

  it('reports 0 when counters did not advance or went backwards', () => {
    expect(busyPercent({ busy: 10, total: 100 }, { busy: 10, total: 100 })).toBe(0);
    expect(busyPercent({ busy: 50, total: 100 }, { busy: 5, total: 10 })).toBe(0);
    expect(busyPercent({ busy: 0, total: 0 }, { busy: 30, total: 40 })).toBe(75);
  });

  it('a missing /proc/stat makes the source unavailable', async () => {
    const sys = new FakeSystemInfo();
    sys.cpuTimes = async () => {
      throw Object.assign(new Error("ENOENT: no such file or directory, open '/proc/stat'"), { code: 'ENOENT' });
    };
    const source = createCpuSource(context(sys));
    const err = await source.init!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as SourceUnavailableError).reason).toMatch(/^cpu times unreadable: ENOENT/);
  });

  it('other errors pass through unchanged', async () => {
    const sys = new FakeSystemInfo();
    sys.cpuTimes = async () => {
      throw new Error('boom');
    };
    await expect(createCpuSource(context(sys)).collect()).rejects.toThrow(/^boom$/);
    await expect(createCpuSource(context(sys)).collect()).rejects.not.toBeInstanceOf(SourceUnavailableError);
  });
});
