import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BOOT_TIME_OVERRIDE_ENV, bootTimeOverride, parseProcUptime } from '../../../../agent/platform/os-boot.js';
import { createShutdownEvidenceReader, EVENT_LOG_OVERRIDE_ENV } from '../../../../agent/outages/shutdown-evidence/reader.js';
import { LinuxSystemInfo } from '../../../../agent/platform/linux-system-info.js';
import { silentLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/** The two test/platform overrides other tests (and the collector's e2e tests) rely on. */
describe(`${BOOT_TIME_OVERRIDE_ENV}`, () => {
  it('replaces the OS boot time where the real SystemInfo reads it (uptime and the outage check), hiding the boot id', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 24, 3, 0, 0));
    const boot = clock.now() - 90_000;
    const sys = new LinuxSystemInfo({ clock, env: { [BOOT_TIME_OVERRIDE_ENV]: String(boot) } });
    expect(await sys.uptimeSeconds()).toBe(90);
    expect(await sys.osBoot()).toEqual({ bootTime: boot, bootId: null });
  });

  it('without it: the real boot, with the Linux boot id', async () => {
    const sys = new LinuxSystemInfo({ env: {} });
    const b = await sys.osBoot();
    expect(b.bootTime).toBeLessThan(Date.now());
    expect(b.bootId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects what is not an epoch-ms time, saying so', () => {
    expect(bootTimeOverride({})).toBeUndefined();
    expect(bootTimeOverride({ [BOOT_TIME_OVERRIDE_ENV]: '1795490040000' })).toBe(1795490040000);
    expect(() => bootTimeOverride({ [BOOT_TIME_OVERRIDE_ENV]: '2026-11-24' })).toThrow(/epoch-ms/);
    expect(() => bootTimeOverride({ [BOOT_TIME_OVERRIDE_ENV]: '1795490040' })).toThrow(BOOT_TIME_OVERRIDE_ENV);
  });

  it('/proc/uptime (the boot clock that counts suspend)', () => {
    expect(parseProcUptime('9625.05 16499.67\n')).toBe(9625.05);
    expect(() => parseProcUptime('')).toThrow();
  });
});

describe(`${EVENT_LOG_OVERRIDE_ENV}`, () => {
  const q = { lastHeartbeat: 1_795_490_000_000, osBoot: 1_795_490_100_000, previousOsBootId: null, now: 1_795_490_160_000 };
  it('replaces the event log / journal reader on any platform with a JSON file of records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-evlog-'));
    const file = join(dir, 'log.json');
    writeFileSync(file, JSON.stringify([{ id: 41, data: { BugcheckCode: '0', PowerButtonTimestamp: '0' } }]));
    const reader = createShutdownEvidenceReader({ platform: 'linux', log: silentLogger(), timeoutMs: 1000, env: { [EVENT_LOG_OVERRIDE_ENV]: file } });
    expect((await reader.read(q)).kind).toBe('power_loss');
  });
  it('an unreadable override is "unknown", never a crash', async () => {
    const reader = createShutdownEvidenceReader({ platform: 'win32', log: silentLogger(), timeoutMs: 1000, env: { [EVENT_LOG_OVERRIDE_ENV]: '/nonexistent/log.json' } });
    expect(await reader.read(q)).toMatchObject({ kind: 'unknown', source: 'none' });
  });
  it('Linux without a persistent journal or wtmp records (this container): unknown, softly', async () => {
    const reader = createShutdownEvidenceReader({ platform: 'linux', log: silentLogger(), timeoutMs: 5000, env: {} });
    expect((await reader.read(q)).kind).toBe('unknown');
  });
});
