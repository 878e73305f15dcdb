import { describe, expect, it } from 'vitest';
import { createDisksSource, reportableMounts } from '../../../../../agent/sampling/sources/disks.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { STATIC_REFRESH_MS } from '../../../../../agent/sampling/sources/source.js';
import { context, FakeSystemInfo, linuxFixtureSystem, testConfig, windowsFixtureSystem } from '../../fake-system-info.js';
import { FakeClock } from '../../../../helpers/fake-clock.js';

describe('disks source', () => {
  it('Linux: only the real filesystem of the recorded /proc/self/mounts, sized like df', async () => {
    const m = await createDisksSource(context(linuxFixtureSystem())).collect();
    // statfs: bsize 4096, blocks 66053021, bfree 60322521, bavail 20867228
    const total = 66053021 * 4096;
    const used = (66053021 - 60322521) * 4096;
    const free = 20867228 * 4096;
    expect(m).toEqual([{ mount: '/', fs: 'ext4', total, used, free, usedPct: (100 * used) / (used + free) }]);
    expect(m[0]!.usedPct).toBeCloseTo(21.545, 3);
  });

  it('Windows: one entry per drive letter, statfs on the drive root', async () => {
    const m = await createDisksSource(context(windowsFixtureSystem())).collect();
    expect(m.map((d) => [d.mount, d.fs])).toEqual([
      ['C:', 'NTFS'],
      ['D:', 'NTFS'],
      ['E:', 'FAT32'],
    ]);
    expect(m[0]).toMatchObject({ total: 255230791680, used: 171277602816, free: 83953188864 });
    expect(m[0]!.usedPct).toBeCloseTo(67.10695, 4);
    expect(m[2]!.total).toBe(937984 * 16384);
    expect(m[2]!.usedPct).toBeCloseTo(27.9476, 3);
  });

  it('excluded types and second mounts of one device are dropped', () => {
    const kept = reportableMounts(
      [
        { device: '/dev/sda2', mount: '/', fsType: 'ext4' },
        { device: 'tmpfs', mount: '/run', fsType: 'tmpfs' },
        { device: '/dev/sda2', mount: '/var/lib/docker/containers/x/hosts', fsType: 'ext4' },
        { device: '/dev/sda1', mount: '/boot/efi', fsType: 'vfat' },
        { device: 'overlay', mount: '/var/lib/docker/overlay2/y/merged', fsType: 'overlay' },
        { device: '/dev/sdb1', mount: '/media/usb disk', fsType: 'exfat' },
      ],
      new Set(testConfig().disks.excludeTypes),
    );
    expect(kept.map((k) => k.mount)).toEqual(['/', '/boot/efi', '/media/usb disk']);
  });

  it('config.disks.excludeTypes is honoured', async () => {
    const config = testConfig({ disks: { excludeTypes: ['FAT32'] } });
    const m = await createDisksSource(context(windowsFixtureSystem(), { config })).collect();
    expect(m.map((d) => d.mount)).toEqual(['C:', 'D:']);
  });

  it('re-reads the mount list only every 5 minutes', async () => {
    const sys = windowsFixtureSystem();
    const clock = new FakeClock();
    const source = createDisksSource(context(sys, { clock }));
    await source.init!();
    for (let i = 0; i < 19; i++) {
      clock.advance(15_000);
      await source.collect();
    }
    expect(sys.calls.mounts).toBe(1);
    clock.advance(STATIC_REFRESH_MS - 19 * 15_000);
    await source.collect();
    expect(sys.calls.mounts).toBe(2);
  });

  it('a mount that vanished is skipped and the list re-read next time', async () => {
    const sys = windowsFixtureSystem();
    const source = createDisksSource(context(sys));
    await source.init!();
    sys.fsByPath.delete('E:\\');
    const m = await source.collect();
    expect(m.map((d) => d.mount)).toEqual(['C:', 'D:']);
    await source.collect();
    expect(sys.calls.mounts).toBe(2);
  });

  it('an unreadable mount table makes the source unavailable', async () => {
    const sys = new FakeSystemInfo();
    sys.mounts = async () => {
      throw Object.assign(new Error('EACCES: /proc/self/mounts'), { code: 'EACCES' });
    };
    await expect(createDisksSource(context(sys)).collect()).rejects.toBeInstanceOf(SourceUnavailableError);
  });
});
