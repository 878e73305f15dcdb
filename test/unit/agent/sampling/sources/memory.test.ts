import { describe, expect, it } from 'vitest';
import { createMemorySource } from '../../../../../agent/sampling/sources/memory.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { parseMeminfo } from '../../../../../agent/platform/linux-proc-parsers.js';
import { context, FakeSystemInfo, linuxFixtureSystem, windowsFixtureSystem } from '../../fake-system-info.js';

describe('memory source', () => {
  it('Linux: /proc/meminfo kB values, used = total - available', async () => {
    // MemTotal 24684092 kB, MemAvailable 24363604 kB, no swap.
    const m = await createMemorySource(context(linuxFixtureSystem())).collect();
    expect(m).toEqual({
      total: 24684092 * 1024,
      available: 24363604 * 1024,
      used: (24684092 - 24363604) * 1024,
      swapTotal: 0,
      swapUsed: 0,
    });
  });

  it('Windows: si.mem() with the page file as swap', async () => {
    const m = await createMemorySource(context(windowsFixtureSystem())).collect();
    expect(m).toEqual({
      total: 8464842752,
      available: 3023388672,
      used: 8464842752 - 3023388672,
      swapTotal: 1275068416,
      swapUsed: 167772160,
    });
  });

  it('old kernels without MemAvailable fall back to free + buffers + cached; swap used = total - free', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\nSwapTotal: 500 kB\nSwapFree: 400 kB\n');
    expect(m).toEqual({ total: 1000 * 1024, available: 420 * 1024, swapTotal: 500 * 1024, swapUsed: 100 * 1024 });
  });

  it('a missing /proc/meminfo makes the source unavailable', async () => {
    const sys = new FakeSystemInfo();
    sys.memory = async () => {
      throw Object.assign(new Error('ENOENT: /proc/meminfo'), { code: 'ENOENT' });
    };
    await expect(createMemorySource(context(sys)).collect()).rejects.toBeInstanceOf(SourceUnavailableError);
  });
});
