import { describe, expect, it } from 'vitest';
import { parseSmartctlJson } from '../../../../../agent/disk-health/smartctl.js';
import { parseWindowsDiskHealth } from '../../../../../agent/disk-health/windows-storage.js';
import { MetricWindows } from '../../../../../collector/alerting/metric-windows.js';
import type { WindowEvent } from '../../../../../collector/alerting/metric-windows.js';
import type { DiskHealth } from '../../../../../contract/schemas.js';
import { fixtureText } from '../../../agent/fake-system-info.js';
import { NOW, rule, ruleContext } from '../../../../helpers/rule-context.js';

const H = 3_600_000;
/** One disk_health check `hoursAgo`, as the ingest stores it (disks kept in details). */
const check = (hoursAgo: number, disks: DiskHealth[]): WindowEvent => ({
  t: NOW - hoursAgo * H,
  type: 'disk_health',
  start: undefined,
  end: undefined,
  details: { source: 'smartctl', disks },
});

/** The recorded old HDD (smartctl fixture: 120 reallocated + 8 pending) with its counts set per check. */
const hdd = (reallocated: number, pending: number, errorEvents?: number): DiskHealth => ({
  ...parseSmartctlJson(fixtureText('linux/smartctl/ata-hdd-reallocated.json'), '/dev/sda'),
  reallocatedSectors: reallocated,
  pendingSectors: pending,
  ...(errorEvents !== undefined ? { errorEvents } : {}),
});
const ssd = parseSmartctlJson(fixtureText('linux/smartctl/ata-ssd-ok.json'), '/dev/sdb');

describe('disk_failing rule', () => {
  it('fires when bad sectors rise over the week (a series of 6-hourly checks), with the evidence in Vietnamese', () => {
    const series = [check(150, [hdd(80, 8), ssd]), check(96, [hdd(80, 8), ssd]), check(48, [hdd(100, 8), ssd]), check(6, [hdd(120, 8), ssd])];
    const obs = rule('disk_failing')(ruleContext({ events: { pc1: series } }));
    const sda = obs.find((o) => o.key === '/dev/sda')!;
    expect(sda).toMatchObject({ condition: 'firing', severity: 'warning', value: 128, host: 'pc1', rule: 'disk_failing' });
    expect(sda.summary.vi).toBe('Ổ cứng WDC WD5000AAKX-08U6AA0 (/dev/sda): 128 sector lỗi (tăng 40 trong 7 ngày)');
    expect(sda.summary.en).toBe('Disk WDC WD5000AAKX-08U6AA0 (/dev/sda): 128 bad sectors (up 40 in 7 days)');
    expect(sda.hint?.vi).toMatch(/sao lưu/);
    expect(obs.find((o) => o.key === '/dev/sdb')).toMatchObject({ condition: 'recovered' });
  });

  it('old but stable bad sectors do not fire; errors logged by the OS over the window do', () => {
    const stable = [check(100, [hdd(120, 8)]), check(6, [hdd(120, 8)])];
    expect(rule('disk_failing')(ruleContext({ events: { pc1: stable } }))[0]).toMatchObject({ condition: 'recovered', value: 128 });
    const errors = [check(30, [hdd(120, 8, 1)]), check(18, [hdd(120, 8, 0)]), check(6, [hdd(120, 8, 2)])];
    const o = rule('disk_failing')(ruleContext({ events: { pc1: errors } }))[0]!;
    expect(o.condition).toBe('firing');
    expect(o.summary.vi).toBe('Ổ cứng WDC WD5000AAKX-08U6AA0 (/dev/sda): 128 sector lỗi; 3 lỗi đọc/ghi đĩa trong nhật ký hệ thống');
    expect(rule('disk_failing', { minErrorEvents: 4 })(ruleContext({ events: { pc1: errors } }))[0]!.condition).toBe('recovered');
  });

  it('a SMART failure prediction is critical at once (recorded failing HDD; Windows prediction)', () => {
    const failing = parseSmartctlJson(fixtureText('linux/smartctl/ata-hdd-failing.json'), '/dev/sda');
    const o = rule('disk_failing')(ruleContext({ events: { pc1: [check(2, [failing])] } }))[0]!;
    expect(o).toMatchObject({ condition: 'firing', severity: 'critical' });
    expect(o.summary.vi).toBe('Ổ cứng ST500DM002-1BD142 (/dev/sda): SMART dự báo ổ sắp hỏng; 2320 sector lỗi');
    const win = parseWindowsDiskHealth(fixtureText('windows/disk-health/storage-two-disks.json'), fixtureText('windows/disk-health/events-disk-errors.json')).disks;
    const w = rule('disk_failing')(ruleContext({ events: { pc1: [check(1, win)] } }));
    expect(w.map((x) => [x.key, x.condition, x.severity])).toEqual([
      ['PhysicalDisk0', 'recovered', 'warning'],
      ['PhysicalDisk1', 'firing', 'critical'],
    ]);
  });

  it('checks outside the window, unavailable checks and other events are not judged', () => {
    const unavailable: WindowEvent = { t: NOW - H, type: 'disk_health', start: undefined, end: undefined, details: { unavailable: 'smartctl not installed (smartmontools)' } };
    const old = check(24 * 8, [hdd(10, 0)]);
    const freeze: WindowEvent = { t: NOW - H, type: 'freeze', start: undefined, end: undefined, details: { disks: [hdd(999, 0)] } };
    expect(rule('disk_failing')(ruleContext({ events: { pc1: [unavailable, old, freeze] } }))).toEqual([]);
  });

  it('the alerting windows keep disk_health events with their disks, as ingest stores them', () => {
    const w = new MetricWindows();
    const disks = [hdd(120, 8)];
    w.add({
      kind: 'events',
      row: {
        site: 'xa-a',
        host: 'pc1',
        boot: 'b',
        seq: 1,
        t: NOW - H,
        received: NOW - H,
        type: 'disk_health',
        severity: 'warning',
        message: '',
        details: { source: 'smartctl', disks },
      },
    });
    expect(w.events('xa-a', 'pc1', NOW - 2 * H)).toEqual([{ t: NOW - H, type: 'disk_health', start: undefined, end: undefined, details: { source: 'smartctl', disks } }]);
  });
});
