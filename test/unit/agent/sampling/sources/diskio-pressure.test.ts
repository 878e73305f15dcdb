import { describe, expect, it } from 'vitest';
import {
  diskIoRates,
  isPhysicalDiskName,
  parseDiskstats,
  parsePsiMemory,
  parseVmstat,
  parseWindowsPerf,
  vmstatRates,
} from '../../../../../agent/platform/disk-pressure-parsers.js';
import { createDiskIoSource } from '../../../../../agent/sampling/sources/diskio.js';
import { createPressureSource } from '../../../../../agent/sampling/sources/pressure.js';
import { SourceUnavailableError } from '../../../../../agent/sampling/sources/source.js';
import { DiskIoMetrics, PressureMetrics } from '../../../../../contract/schemas.js';
import { context, fixtureText, FakeSystemInfo, linuxFixtureSystem, windowsFixtureSystem } from '../../fake-system-info.js';

const enoent = (what: string) => Object.assign(new Error(`ENOENT: no such file or directory, open '${what}'`), { code: 'ENOENT' });

describe('Linux /proc/diskstats', () => {
  it('keeps whole physical disks only (recorded: loop0-7, vda, zram0)', () => {
    expect(parseDiskstats(fixtureText('linux/proc-diskstats.1.txt'))).toEqual([{ disk: 'vda', ioMs: 583660, weightedMs: 11259058 }]);
  });

  it.each([
    ['sda', true],
    ['sdb1', false],
    ['nvme0n1', true],
    ['nvme0n1p2', false],
    ['mmcblk0', true],
    ['mmcblk0p1', false],
    ['mmcblk0boot0', false],
    ['vda', true],
    ['vda3', false],
    ['dm-0', false],
    ['md127', false],
    ['sr0', false],
    ['loop3', false],
    ['zram0', false],
  ])('%s is a physical disk: %s', (name, expected) => {
    expect(isPhysicalDiskName(name)).toBe(expected);
  });

  it('busy % and queue from two recorded readings (64 MB direct write in between)', () => {
    // vda: io_ticks 583660 → 583896 ms (Δ236), weighted 11259058 → 11270332 ms (Δ11274); 2 s apart.
    const rates = diskIoRates(parseDiskstats(fixtureText('linux/proc-diskstats.1.txt')), parseDiskstats(fixtureText('linux/proc-diskstats.2.txt')), 2000);
    expect(rates).toEqual([{ disk: 'vda', busyPct: 11.8, queue: 5.64 }]);
    expect(DiskIoMetrics.array().safeParse(rates).success).toBe(true);
  });

  it('caps busy at 100 %, leaves out reset counters and new disks, and gives nothing for no elapsed time', () => {
    const prev = [
      { disk: 'sda', ioMs: 1000, weightedMs: 5000 },
      { disk: 'sdb', ioMs: 9000, weightedMs: 9000 },
    ];
    const cur = [
      { disk: 'sda', ioMs: 4000, weightedMs: 65000 },
      { disk: 'sdb', ioMs: 10, weightedMs: 10 },
      { disk: 'sdc', ioMs: 10, weightedMs: 10 },
    ];
    expect(diskIoRates(prev, cur, 2000)).toEqual([{ disk: 'sda', busyPct: 100, queue: 30 }]);
    expect(diskIoRates(prev, cur, 0)).toEqual([]);
  });

  it('the diskio source: first reading in init, rates over the monotonic interval', async () => {
    const ctx = context(linuxFixtureSystem());
    const source = createDiskIoSource(ctx);
    await source.init!();
    ctx.clock.advance(2000);
    expect(await source.collect()).toEqual([{ disk: 'vda', busyPct: 11.8, queue: 5.64 }]);
  });

  it('the diskio source is unavailable when /proc/diskstats cannot be read, and on an OS with no counters', async () => {
    const sys = new FakeSystemInfo();
    sys.diskIoCounters = async () => {
      throw enoent('/proc/diskstats');
    };
    await expect(createDiskIoSource(context(sys)).collect()).rejects.toThrow(SourceUnavailableError);
    await expect(createDiskIoSource(context(new FakeSystemInfo())).collect()).rejects.toThrow(/not available on this OS/);
  });
});

describe('Linux memory pressure', () => {
  it('PSI avg10 from the recorded file, and from a loaded machine; full may be absent', () => {
    expect(parsePsiMemory(fixtureText('linux/proc-pressure-memory.txt'))).toEqual({ some: 0, full: 0 });
    const loaded = 'some avg10=23.41 avg60=11.02 avg300=3.80 total=912345678\nfull avg10=7.05 avg60=2.10 avg300=0.51 total=20123456\n';
    expect(parsePsiMemory(loaded)).toEqual({ some: 23.41, full: 7.05 });
    expect(parsePsiMemory('some avg10=1.50 avg60=0.00 avg300=0.00 total=1\n')).toEqual({ some: 1.5, full: null });
    expect(() => parsePsiMemory('')).toThrow(/no "some" line/);
  });

  it('swap and major-fault rates from two recorded /proc/vmstat readings', () => {
    // pswpin/pswpout 0 → 0 (no swap on the VM), pgmajfault 17770 → 17772; 2 s apart.
    const a = parseVmstat(fixtureText('linux/proc-vmstat.1.txt'));
    const b = parseVmstat(fixtureText('linux/proc-vmstat.2.txt'));
    expect(a).toEqual({ pswpin: 0, pswpout: 0, pgmajfault: 17770 });
    expect(vmstatRates(a, b, 2000)).toEqual({ swapInPs: 0, swapOutPs: 0, hardFaultsPs: 1 });
    expect(vmstatRates({ pswpin: 100, pswpout: 0, pgmajfault: 0 }, { pswpin: 4100, pswpout: 500, pgmajfault: 3 }, 4000)).toEqual({
      swapInPs: 1000,
      swapOutPs: 125,
      hardFaultsPs: 0.75,
    });
    expect(vmstatRates(b, a, 2000).hardFaultsPs).toBeNull();
    expect(() => parseVmstat('nr_free_pages 1\n')).toThrow(/no pswpin/);
  });

  it('the pressure source: PSI plus vmstat rates, valid per the contract', async () => {
    const ctx = context(linuxFixtureSystem());
    const source = createPressureSource(ctx);
    await source.init!();
    ctx.clock.advance(2000);
    const p = await source.collect();
    expect(p).toEqual({ memSomePct: 0, memFullPct: 0, swapInPs: 0, swapOutPs: 0, hardFaultsPs: 1 });
    expect(PressureMetrics.safeParse(p).success).toBe(true);
  });

  it('without PSI (old kernel) the PSI fields are null and the file is not read again; without /proc/vmstat the source is unavailable', async () => {
    const sys = linuxFixtureSystem();
    let psiReads = 0;
    sys.psiMemory = async () => {
      psiReads++;
      throw enoent('/proc/pressure/memory');
    };
    const ctx = context(sys);
    const source = createPressureSource(ctx);
    await source.init!();
    ctx.clock.advance(2000);
    expect(await source.collect()).toMatchObject({ memSomePct: null, memFullPct: null, hardFaultsPs: 1 });
    await source.collect();
    expect(psiReads).toBe(1);

    const noVm = new FakeSystemInfo();
    noVm.vmstat = async () => {
      throw enoent('/proc/vmstat');
    };
    await expect(createPressureSource(context(noVm)).collect()).rejects.toThrow(SourceUnavailableError);
  });
});

describe('Windows performance counters (recorded shapes)', () => {
  it('PhysicalDisk: busy = 100 − % Idle Time, _Total dropped; Memory: pages in/out, page reads as hard faults', () => {
    const perf = parseWindowsPerf(fixtureText('windows/disk-health/perf-counters.json'));
    expect(perf.disks).toEqual([
      { disk: '0 C:', busyPct: 97, queue: 7 },
      { disk: '1 D:', busyPct: 2, queue: 0 },
    ]);
    expect(perf.pressure).toEqual({ memSomePct: null, memFullPct: null, swapInPs: 412, swapOutPs: 37, hardFaultsPs: 96 });
  });

  it('one disk comes as a lone object (PowerShell 5 ConvertTo-Json)', () => {
    expect(parseWindowsPerf(fixtureText('windows/disk-health/perf-counters-one-disk.json')).disks).toEqual([{ disk: '0 C:', busyPct: 0, queue: 0 }]);
  });

  it('the diskio and pressure sources read the counters on Windows', async () => {
    const ctx = context(windowsFixtureSystem());
    const disk = createDiskIoSource(ctx);
    const pressure = createPressureSource(ctx);
    await disk.init!();
    await pressure.init!();
    expect((await disk.collect()).map((d) => d.disk)).toEqual(['0 C:', '1 D:']);
    expect((await pressure.collect()).swapInPs).toBe(412);
  });
});
