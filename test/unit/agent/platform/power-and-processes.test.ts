import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { powerFromSiBattery, powerFromSysfs, readSysPowerSupplies, type SysPowerSupply } from '../../../../agent/platform/power-supply.js';
import { PowerSourceWatch } from '../../../../agent/outages/power-source-watch.js';
import { parseProcPidStat, pickTop, readProcStats, topFromSiProcesses, topFromSnapshots } from '../../../../agent/platform/top-processes.js';
import { PowerMetrics, ProcessInfo } from '../../../../contract/schemas.js';

/** A /sys/class/power_supply tree as the kernel lays it out, in a temp dir. */
function sysfs(supplies: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'canh-psu-'));
  for (const [name, attrs] of Object.entries(supplies)) {
    mkdirSync(join(root, name));
    for (const [k, v] of Object.entries(attrs)) writeFileSync(join(root, name, k), `${v}\n`);
  }
  return root;
}

const LAPTOP_AC = { AC: { type: 'Mains', online: '1' }, BAT0: { type: 'Battery', status: 'Charging', capacity: '64', energy_now: '27000000', power_now: '0' } };
const LAPTOP_BATTERY = { AC: { type: 'Mains', online: '0' }, BAT0: { type: 'Battery', status: 'Discharging', capacity: '58', energy_now: '24000000', power_now: '12000000' } };

describe('power supply (Linux sysfs)', () => {
  it('laptop on mains: ac, charge %', async () => {
    const p = powerFromSysfs(await readSysPowerSupplies(sysfs(LAPTOP_AC)));
    expect(p).toEqual({ source: 'ac', batteryPct: 64, minutesLeft: null });
    expect(PowerMetrics.safeParse(p).success).toBe(true);
  });

  it('laptop on battery: mains lost, minutes left from energy/power', async () => {
    expect(powerFromSysfs(await readSysPowerSupplies(sysfs(LAPTOP_BATTERY)))).toEqual({ source: 'battery', batteryPct: 58, minutesLeft: 120 });
  });

  it('UPS reporting offline with time_to_empty: on battery', () => {
    const ups: SysPowerSupply[] = [{ name: 'ups0', type: 'UPS', online: '0', status: 'Discharging', capacity: '91', time_to_empty_now: '1500' }];
    expect(powerFromSysfs(ups)).toEqual({ source: 'battery', batteryPct: 91, minutesLeft: 25 });
  });

  it('desktop without any supply, or only a wireless mouse battery: unknown', async () => {
    expect(powerFromSysfs(await readSysPowerSupplies(sysfs({})))).toEqual({ source: 'unknown', batteryPct: null, minutesLeft: null });
    expect(powerFromSysfs([{ name: 'hidpp_battery_0', type: 'Battery', scope: 'Device', status: 'Discharging', capacity: '40' }]).source).toBe('unknown');
    expect(powerFromSysfs(await readSysPowerSupplies('/nonexistent/power_supply'))).toEqual({ source: 'unknown', batteryPct: null, minutesLeft: null });
  });
});

describe('power supply (Windows, systeminformation battery())', () => {
  it('no battery/UPS: unknown; AC connected: ac; AC lost: battery with minutes left', () => {
    expect(powerFromSiBattery({ hasBattery: false, acConnected: true, percent: 0 })).toEqual({ source: 'unknown', batteryPct: null, minutesLeft: null });
    expect(powerFromSiBattery({ hasBattery: true, acConnected: true, isCharging: true, percent: 80, timeRemaining: null })).toEqual({
      source: 'ac',
      batteryPct: 80,
      minutesLeft: null,
    });
    expect(powerFromSiBattery({ hasBattery: true, acConnected: false, isCharging: false, percent: 35, timeRemaining: 42 })).toEqual({
      source: 'battery',
      batteryPct: 35,
      minutesLeft: 42,
    });
  });
});

describe('power_source events', () => {
  const r = (source: 'ac' | 'battery' | 'unknown', pct: number | null = 80): PowerMetrics => ({ source, batteryPct: pct, minutesLeft: null });
  it('one event when mains is lost, one when it returns (with how long), none for unknown readings', () => {
    const w = new PowerSourceWatch();
    expect(w.next(r('ac'), 1000)).toBeNull();
    expect(w.next(r('ac'), 2000)).toBeNull();
    const lost = w.next(r('battery', 79), 3000);
    expect(lost).toMatchObject({ type: 'power_source', severity: 'critical', start: 3000, details: { source: 'battery', batteryPct: 79 } });
    expect(w.next(r('unknown', null), 4000)).toBeNull();
    expect(w.next(r('battery', 70), 5000)).toBeNull();
    const back = w.next(r('ac', 70), 9000);
    expect(back).toMatchObject({ type: 'power_source', severity: 'info', start: 3000, end: 9000, details: { source: 'ac', onBatteryMs: 6000 } });
  });
  it('starting on battery is told at once', () => {
    expect(new PowerSourceWatch().next(r('battery'), 1)?.details?.source).toBe('battery');
  });
});

describe('top processes after a freeze', () => {
  it('parses /proc/<pid>/stat, names with spaces and parentheses included', () => {
    const real = parseProcPidStat(readFileSync(new URL('../../../fixtures/os/linux/proc-pid/stat-process-api.txt', import.meta.url), 'utf8'));
    expect(real).toEqual({ pid: 1, name: 'process_api', cpuTicks: 753 + 1819, rssPages: 4949 });
    const odd = parseProcPidStat('4120 (TTHC (Client) x) R 1 1 1 0 -1 0 0 0 0 0 500 250 0 0 20 0 1 0 100 1000 2560 0');
    expect(odd).toMatchObject({ pid: 4120, name: 'TTHC (Client) x', cpuTicks: 750, rssPages: 2560 });
    expect(parseProcPidStat('garbage')).toBeNull();
  });

  it('two snapshots a second apart → CPU % per process; top by CPU then by memory, each once', () => {
    const before = [
      { pid: 1, name: 'systemd', cpuTicks: 100, rssPages: 3000 },
      { pid: 2, name: 'hung-app', cpuTicks: 1000, rssPages: 1000 },
      { pid: 3, name: 'big-browser', cpuTicks: 50, rssPages: 300_000 },
    ];
    const after = [
      { pid: 1, name: 'systemd', cpuTicks: 101, rssPages: 3000 },
      { pid: 2, name: 'hung-app', cpuTicks: 1098, rssPages: 1000 },
      { pid: 3, name: 'big-browser', cpuTicks: 55, rssPages: 300_000 },
      { pid: 4, name: 'new', cpuTicks: 9, rssPages: 10 },
    ];
    const top = topFromSnapshots(before, after, 1000, 1);
    expect(top.map((p) => [p.name, p.cpuPct])).toEqual([
      ['hung-app', 98],
      ['big-browser', 5],
    ]);
    expect(top[1]!.memBytes).toBe(300_000 * 4096);
    for (const p of top) expect(ProcessInfo.safeParse(p).success).toBe(true);
    expect(
      pickTop(
        after.map((p) => ({ name: p.name, pid: p.pid, cpuPct: 0, memBytes: 0 })),
        0,
      ),
    ).toEqual([]);
  });

  it('Windows: systeminformation processes() (memRss in KB)', () => {
    const top = topFromSiProcesses(
      [
        { pid: 0, name: 'System Idle Process', cpu: 90, memRss: 8 },
        { pid: 4120, name: 'TTHC Client.exe', cpu: 97.46, memRss: 831_488 },
      ],
      5,
    );
    expect(top).toEqual([{ name: 'TTHC Client.exe', pid: 4120, cpuPct: 97.5, memBytes: 831_488 * 1024 }]);
  });

  it("reads this machine's /proc (no child process)", async () => {
    const stats = await readProcStats();
    expect(stats.find((s) => s.pid === process.pid)?.rssPages).toBeGreaterThan(0);
  });
});
