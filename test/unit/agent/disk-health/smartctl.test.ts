import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskHealthMonitor } from '../../../../agent/disk-health/disk-health-monitor.js';
import { DiskHealthUnavailable, LinuxDiskHealthReader } from '../../../../agent/disk-health/disk-health-reader.js';
import { SystemClock } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import { parseSmartctlJson, parseSmartctlScan, runSmartctl } from '../../../../agent/disk-health/smartctl.js';
import { DiskHealth } from '../../../../contract/schemas.js';
import { fixtureText } from '../fake-system-info.js';

const smart = (name: string) => fixtureText(`linux/smartctl/${name}.json`);

describe('smartctl -j parser', () => {
  it('ATA HDD with reallocated and pending sectors: warning, with the counts', () => {
    const h = parseSmartctlJson(smart('ata-hdd-reallocated'), '/dev/sda');
    expect(h).toEqual({
      device: '/dev/sda',
      model: 'WDC WD5000AAKX-08U6AA0',
      state: 'warning',
      predictedFailure: false,
      temperatureC: 41,
      powerOnHours: 48977,
      reallocatedSectors: 120,
      pendingSectors: 8,
      mediaErrors: 8,
    });
    expect(DiskHealth.safeParse(h).success).toBe(true);
  });

  it('ATA HDD whose SMART overall assessment failed (exit bit 3): failing', () => {
    expect(parseSmartctlJson(smart('ata-hdd-failing'), '/dev/sda')).toMatchObject({ state: 'failing', predictedFailure: true, reallocatedSectors: 2008, pendingSectors: 312 });
  });

  it('healthy ATA SSD and NVMe: ok; NVMe wear from percentage_used', () => {
    expect(parseSmartctlJson(smart('ata-ssd-ok'), '/dev/sdb')).toMatchObject({ state: 'ok', reallocatedSectors: 0, powerOnHours: 5120 });
    expect(parseSmartctlJson(smart('nvme-ok'), '/dev/nvme0')).toEqual({
      device: '/dev/nvme0',
      model: 'INTEL SSDPEKNW010T8',
      state: 'ok',
      predictedFailure: false,
      temperatureC: 36,
      powerOnHours: 2401,
      mediaErrors: 0,
      wearPct: 3,
    });
  });

  it('NVMe with media errors and a critical warning: warning with the reason', () => {
    expect(parseSmartctlJson(smart('nvme-media-errors'), '/dev/nvme0')).toMatchObject({ state: 'warning', mediaErrors: 14, wearPct: 97, reason: 'NVMe critical warning 0x4' });
  });

  it('a disk in standby is reported as such (never woken), a virtual disk and a refused open as unavailable with why', () => {
    expect(parseSmartctlJson(smart('standby'), '/dev/sdb')).toEqual({ device: '/dev/sdb', state: 'standby', reason: 'in standby, not woken' });
    expect(parseSmartctlJson(smart('virtio-no-smart'), '/dev/sda')).toMatchObject({ state: 'unavailable', reason: expect.stringMatching(/no SMART/) });
    expect(parseSmartctlJson(smart('permission-denied'), '/dev/sda')).toEqual({
      device: '/dev/sda',
      state: 'unavailable',
      reason: 'Smartctl open device: /dev/sda [SAT] failed: Permission denied',
    });
  });

  it('--scan keeps well-formed device names only (a name is passed to a child process)', () => {
    expect(parseSmartctlScan(smart('scan'))).toEqual([
      { name: '/dev/sda', type: 'sat' },
      { name: '/dev/nvme0', type: 'nvme' },
    ]);
  });
});

describe('smartctl runs (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canh-smartctl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An executable that answers like smartctl from the fixtures: --scan, then -a per device, exit codes as recorded. */
  function recordedSmartctl(): string {
    const bin = join(dir, 'smartctl');
    writeFileSync(join(dir, 'scan.json'), smart('scan'));
    writeFileSync(join(dir, 'sda.json'), smart('ata-hdd-reallocated'));
    writeFileSync(join(dir, 'nvme0.json'), smart('nvme-ok'));
    writeFileSync(
      bin,
      [
        '#!/bin/sh',
        `case "$*" in`,
        `  *--scan*) cat '${dir}/scan.json' ;;`,
        `  *"-n standby"*/dev/sda) cat '${dir}/sda.json'; exit 64 ;;`,
        `  *"-n standby"*/dev/nvme0) cat '${dir}/nvme0.json' ;;`,
        `  *) echo "unexpected: $*" >&2; exit 1 ;;`,
        'esac',
      ].join('\n'),
    );
    chmodSync(bin, 0o755);
    return bin;
  }

  it('a non-zero exit status (a bit mask) still yields the JSON; a missing binary says so', async () => {
    const bin = recordedSmartctl();
    const run = await runSmartctl(['-j', '-a', '-n', 'standby', '-d', 'sat', '/dev/sda'], 5000, bin);
    expect(run).toMatchObject({ code: 64 });
    expect(await runSmartctl(['-j', '--scan'], 5000, join(dir, 'no-such-smartctl'))).toEqual({ missing: true });
  });

  it('the Linux reader: every scanned device read with -n standby, kernel I/O errors since the previous check', async () => {
    const bin = recordedSmartctl();
    const sysBlock = join(dir, 'sys-block');
    mkdirSync(join(sysBlock, 'sda', 'device'), { recursive: true });
    mkdirSync(join(sysBlock, 'nvme0n1'), { recursive: true });
    writeFileSync(join(sysBlock, 'sda', 'device', 'ioerr_cnt'), '0x3\n');
    const reader = new LinuxDiskHealthReader({ sysBlock, smartctl: bin });
    const first = await reader.read(0, 1, 5000);
    expect(first.disks.map((d) => [d.device, d.state, d.errorEvents])).toEqual([
      ['/dev/sda', 'warning', 3],
      ['/dev/nvme0', 'ok', undefined],
    ]);
    writeFileSync(join(sysBlock, 'sda', 'device', 'ioerr_cnt'), '0x5\n');
    expect((await reader.read(1, 2, 5000)).disks[0]?.errorEvents).toBe(2);
  });

  it('kernel error counts survive an agent restart within one OS boot (persisted state), and restart from zero after a reboot', async () => {
    const sysBlock = join(dir, 'sys-block-restart');
    mkdirSync(join(sysBlock, 'sda', 'device'), { recursive: true });
    const cnt = join(sysBlock, 'sda', 'device', 'ioerr_cnt');
    writeFileSync(cnt, '0x3\n');
    const opts = { sysBlock, smartctl: join(dir, 'absent'), bootId: async () => 'boot-a' };
    const first = new LinuxDiskHealthReader(opts);
    expect((await first.read(0, 1, 5000)).disks[0]?.errorEvents).toBe(3);
    const saved = first.saveState();
    expect(saved).toEqual({ boot: 'boot-a', 'ioerr:sda': 3 });
    writeFileSync(cnt, '0x5\n');
    const restarted = new LinuxDiskHealthReader(opts);
    restarted.loadState(JSON.parse(JSON.stringify(saved)) as Record<string, unknown>);
    expect((await restarted.read(1, 2, 5000)).disks[0]?.errorEvents).toBe(2);
    const rebooted = new LinuxDiskHealthReader({ ...opts, bootId: async () => 'boot-b' });
    rebooted.loadState(saved);
    expect((await rebooted.read(1, 2, 5000)).disks[0]?.errorEvents).toBe(5);
  });

  it('stopping the agent kills a running smartctl at once and reports nothing', async () => {
    const bin = join(dir, 'slow-smartctl');
    writeFileSync(join(dir, 'scan-one.json'), JSON.stringify({ devices: [{ name: '/dev/sda', type: 'sat' }] }));
    writeFileSync(bin, ['#!/bin/sh', `case "$*" in *--scan*) cat '${dir}/scan-one.json' ;; *) exec sleep 30 ;; esac`].join('\n'));
    chmodSync(bin, 0o755);
    const events: unknown[] = [];
    const monitor = new DiskHealthMonitor({
      clock: new SystemClock(),
      log: silentLogger(),
      reader: new LinuxDiskHealthReader({ sysBlock: join(dir, 'none'), smartctl: bin }),
      intervalMs: 3600_000,
      timeoutMs: 60_000,
      emit: (e) => events.push(e),
    });
    const started = Date.now();
    const check = monitor.check();
    await new Promise((r) => setTimeout(r, 300));
    await monitor.stop();
    await check;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(events).toEqual([]);
  });

  it('without smartctl: kernel error counters alone, or unavailable with the reason when there are none', async () => {
    const sysBlock = join(dir, 'sys-block-2');
    mkdirSync(join(sysBlock, 'sda', 'device'), { recursive: true });
    writeFileSync(join(sysBlock, 'sda', 'device', 'ioerr_cnt'), '0x0\n');
    const r = await new LinuxDiskHealthReader({ sysBlock, smartctl: join(dir, 'absent') }).read(0, 1, 5000);
    expect(r.disks).toEqual([{ device: '/dev/sda', state: 'ok', reason: 'smartctl not installed (smartmontools)', errorEvents: 0 }]);
    const empty = join(dir, 'sys-block-empty');
    mkdirSync(join(empty, 'vda'), { recursive: true });
    await expect(new LinuxDiskHealthReader({ sysBlock: empty, smartctl: join(dir, 'absent') }).read(0, 1, 5000)).rejects.toThrow(
      /smartctl not installed.*no kernel I\/O error counter/,
    );
  });

  it('this machine, for real: smartctl where installed, else the soft unavailable path with its reason', async () => {
    const installed = ['smartctl', '/usr/sbin/smartctl', '/sbin/smartctl'].some((b) => spawnSync(b, ['--version']).status === 0);
    const reader = new LinuxDiskHealthReader();
    let outcome: { disks: DiskHealth[] } | DiskHealthUnavailable;
    try {
      outcome = await reader.read(Date.now() - 3600_000, Date.now(), 30_000);
    } catch (err) {
      expect(err).toBeInstanceOf(DiskHealthUnavailable);
      outcome = err as DiskHealthUnavailable;
    }
    if (outcome instanceof DiskHealthUnavailable) {
      // Without smartmontools the reason names it; with it (unprivileged, or a VM) the reason says why smartctl could not read.
      expect(outcome.reason).toMatch(installed ? /smartctl/ : /smartctl not installed/);
    } else {
      expect(outcome.disks.length).toBeGreaterThan(0);
      for (const d of outcome.disks) expect(DiskHealth.safeParse(d).success).toBe(true);
    }
  });
});
