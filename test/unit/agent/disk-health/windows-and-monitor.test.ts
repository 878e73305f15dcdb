import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../common/log.js';
import { DiskHealthMonitor, eventFor } from '../../../../agent/disk-health/disk-health-monitor.js';
import { DiskHealthUnavailable, type DiskHealthReader } from '../../../../agent/disk-health/disk-health-reader.js';
import { parseWindowsDiskHealth, windowsDiskEventsScript, WINDOWS_STORAGE_SCRIPT } from '../../../../agent/disk-health/windows-storage.js';
import type { AgentEvent } from '../../../../agent/agent-event.js';
import { EventMessage } from '../../../../contract/schemas.js';
import { FakeClock } from '../../../helpers/fake-clock.js';
import { fixtureText } from '../fake-system-info.js';

const win = (name: string) => fixtureText(`windows/disk-health/${name}`);

describe('Windows disk health (recorded shapes)', () => {
  it('reliability counters, the SMART prediction matched by model, and System log disk errors per disk', () => {
    const r = parseWindowsDiskHealth(win('storage-two-disks.json'), win('events-disk-errors.json'));
    expect(r.disks).toEqual([
      {
        device: 'PhysicalDisk0',
        model: 'KINGSTON SA400S37240G',
        state: 'ok',
        predictedFailure: false,
        temperatureC: 35,
        powerOnHours: 5120,
        wearPct: 2,
        mediaErrors: 0,
        errorEvents: 0,
      },
      {
        device: 'PhysicalDisk1',
        model: 'WDC WD5000AAKX-08U6AA0',
        state: 'failing',
        predictedFailure: true,
        temperatureC: 41,
        powerOnHours: 48977,
        mediaErrors: 12,
        errorEvents: 3,
      },
    ]);
    // Event 129 names the controller (\Device\RaidPort0), not a disk.
    expect(r.unattributedErrorEvents).toBe(1);
  });

  it('one disk as lone objects, no counters (old HDD driver), no events: ok, prediction of the only instance', () => {
    const r = parseWindowsDiskHealth(win('storage-one-disk-lone-objects.json'), win('events-none.txt'));
    expect(r.disks).toEqual([{ device: 'PhysicalDisk0', model: 'ST500DM002-1BD142', state: 'ok', predictedFailure: false, errorEvents: 0 }]);
  });

  it('the scripts ask for what is parsed: reliability counters, the WMI prediction, System ids 7/51/129/153 since the last check', () => {
    expect(WINDOWS_STORAGE_SCRIPT).toContain('Get-StorageReliabilityCounter');
    expect(WINDOWS_STORAGE_SCRIPT).toContain('MSStorageDriver_FailurePredictStatus');
    const ev = windowsDiskEventsScript(6 * 3600);
    expect(ev).toContain('Id=7,51,129,153');
    expect(ev).toContain('AddSeconds(-21600)');
  });
});

describe('DiskHealthMonitor', () => {
  function monitor(reader: DiskHealthReader | undefined, clock = new FakeClock()) {
    const events: AgentEvent[] = [];
    const m = new DiskHealthMonitor({ clock, log: silentLogger(), reader, intervalMs: 6 * 3600_000, timeoutMs: 1000, emit: (e) => events.push(e) });
    return { m, events, clock };
  }
  const envelope = { v: 1, site: 's1', host: 'h1', boot: 'boot0001', seq: 1, t: Date.UTC(2026, 11, 5), sent: Date.UTC(2026, 11, 5) };

  it('checks at start and every interval; the first check looks back one interval, the next from the previous one', async () => {
    const calls: Array<[number, number]> = [];
    const reader: DiskHealthReader = {
      async read(since, now) {
        calls.push([since, now]);
        return { disks: [{ device: '/dev/sda', state: 'warning', reallocatedSectors: 120 }], details: { source: 'smartctl' } };
      },
    };
    const { m, events, clock } = monitor(reader);
    const t0 = clock.now();
    m.start();
    await m.check();
    clock.advance(6 * 3600_000);
    await m.check();
    await m.stop();
    expect(calls[0]).toEqual([t0 - 6 * 3600_000, t0]);
    expect(calls[1]).toEqual([t0, t0 + 6 * 3600_000]);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ type: 'disk_health', severity: 'warning', disks: [{ device: '/dev/sda', reallocatedSectors: 120 }] });
    expect(EventMessage.safeParse({ ...envelope, ...events[0] }).success).toBe(true);
  });

  it('persists the last check: after an agent restart the System log is read from it, not one interval back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-disk-health-'));
    try {
      const stateFile = join(dir, 'disk-health.json');
      const calls: number[] = [];
      const reader: DiskHealthReader = {
        async read(since) {
          calls.push(since);
          return { disks: [{ device: 'PhysicalDisk0', state: 'ok' }] };
        },
      };
      const clock = new FakeClock();
      const t0 = clock.now();
      await new DiskHealthMonitor({ clock, log: silentLogger(), reader, intervalMs: 6 * 3600_000, timeoutMs: 1000, emit: () => undefined, stateFile }).check();
      clock.advance(3600_000);
      await new DiskHealthMonitor({ clock, log: silentLogger(), reader, intervalMs: 6 * 3600_000, timeoutMs: 1000, emit: () => undefined, stateFile }).check();
      expect(calls).toEqual([t0 - 6 * 3600_000, t0]);
      // A state from the future (clock set back) is not trusted.
      writeFileSync(stateFile, JSON.stringify({ lastCheckAt: clock.now() + 1000 }));
      await new DiskHealthMonitor({ clock, log: silentLogger(), reader, intervalMs: 6 * 3600_000, timeoutMs: 1000, emit: () => undefined, stateFile }).check();
      expect(calls[2]).toBe(clock.now() - 6 * 3600_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails softly: a check that cannot run gives an event with details.unavailable and the reason', async () => {
    const { m, events } = monitor({
      read: () => Promise.reject(new DiskHealthUnavailable('smartctl not installed (smartmontools); no kernel I/O error counter')),
    });
    await m.check();
    const { m: none, events: noneEvents } = monitor(undefined);
    await none.check();
    expect(events[0]).toMatchObject({ type: 'disk_health', severity: 'info', details: { unavailable: expect.stringMatching(/^smartctl not installed/) } });
    expect(events[0]?.disks).toBeUndefined();
    expect(noneEvents[0]?.details).toEqual({ unavailable: 'no disk health reader on this OS' });
    expect(EventMessage.safeParse({ ...envelope, ...events[0] }).success).toBe(true);
  });

  it('a hung check is given up after its deadline', async () => {
    const clock = new FakeClock();
    const { m, events } = monitor({ read: () => new Promise(() => undefined) }, clock);
    const p = m.check();
    clock.advance(4000);
    await p;
    expect(events[0]?.details).toEqual({ unavailable: 'check timed out after 4000 ms' });
  });

  it('severity follows the worst disk: failing is critical', () => {
    expect(eventFor([{ device: 'a', state: 'ok' }]).severity).toBe('info');
    expect(
      eventFor([
        { device: 'a', state: 'ok' },
        { device: 'b', state: 'failing', predictedFailure: true },
      ]),
    ).toMatchObject({ severity: 'critical', message: 'disk health: b failing' });
  });
});
