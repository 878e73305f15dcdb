import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyJournalTail, parseListBoots, previousBoot } from '../../../../agent/outages/shutdown-evidence/linux-journal.js';
import { classifyLastOutput } from '../../../../agent/outages/shutdown-evidence/linux-wtmp.js';
import type { EvidenceQuery } from '../../../../agent/outages/shutdown-evidence/shutdown-finding.js';
import {
  classifyWindowsEvents,
  parse6008Time,
  parseEventLogJson,
  POWER_TROUBLESHOOTER,
  sleptMsFromPowerTroubleshooter,
  windowsEventLogScript,
} from '../../../../agent/outages/shutdown-evidence/windows-event-log.js';

const fixture = (p: string) => readFileSync(new URL(`../../../fixtures/os/${p}`, import.meta.url), 'utf8');
const winLog = (name: string) => parseEventLogJson(fixture(`windows/event-log/${name}`));

/** The PC lost power at 03:15:20.578 UTC (10:15:20 in Hà Nội), booted at 03:20:25; the agent starts at 03:21. */
const Q: EvidenceQuery = {
  lastHeartbeat: Date.UTC(2026, 10, 24, 3, 15, 12),
  osBoot: Date.UTC(2026, 10, 24, 3, 20, 25),
  previousOsBootId: null,
  now: Date.UTC(2026, 10, 24, 3, 21, 0),
};
const CUT_AT = Date.UTC(2026, 10, 24, 3, 15, 20, 578);

describe('Windows System event log → how the previous boot ended', () => {
  it('Kernel-Power 41 without BugcheckCode or power button: power loss, timed by 6008', () => {
    const f = classifyWindowsEvents(winLog('kernel-power-41-power-loss.json'), Q);
    expect(f.kind).toBe('power_loss');
    expect(f.source).toBe('windows_event_log');
    expect(f.endedAt).toBe(CUT_AT);
    expect(f.details.bugcheckCode).toBe(0);
    expect(f.details.powerButton).toBe(false);
    // The 41 from October is another outage, not this one.
    expect(f.details.eventIds).toBe('41,6008');
  });

  it('Kernel-Power 41 with a BugcheckCode: a crash (blue screen), code in hex', () => {
    const f = classifyWindowsEvents(winLog('kernel-power-41-bugcheck.json'), Q);
    expect(f.kind).toBe('crash');
    expect(f.details.bugcheckCode).toBe(159);
    expect(f.details.bugcheckHex).toBe('0x9F');
  });

  it('Kernel-Power 41 with PowerButtonTimestamp: hung and reset with the power button', () => {
    const f = classifyWindowsEvents(winLog('kernel-power-41-power-button.json'), Q);
    expect(f.kind).toBe('hang_reset');
    expect(f.details.powerButton).toBe(true);
  });

  it('6008 alone: unexpected, cause unknown, with its time', () => {
    const f = classifyWindowsEvents(winLog('eventlog-6008-only.json'), Q);
    expect(f.kind).toBe('unknown');
    expect(f.endedAt).toBe(CUT_AT);
    expect(f.details.unexpectedShutdownAt).toBe(CUT_AT);
  });

  it('User32 1074: a planned restart, with who asked for it', () => {
    const f = classifyWindowsEvents(winLog('user32-1074-planned.json'), Q);
    expect(f.kind).toBe('planned');
    expect(f.details.shutdownType).toBe('restart');
    expect(f.details.initiatedBy).toContain('shutdown.exe');
    expect(f.endedAt).toBe(Date.parse('2026-11-24T03:14:58.118Z'));
  });

  it('41 after a 1074 (a planned restart that hung and was cut): the 41 decides, the plan is noted', () => {
    const f = classifyWindowsEvents([...winLog('user32-1074-planned.json'), ...winLog('kernel-power-41-power-loss.json')], Q);
    expect(f.kind).toBe('power_loss');
    expect(f.details.plannedShutdownStarted).toBe(true);
  });

  it('records from other outages only: unknown', () => {
    const f = classifyWindowsEvents(winLog('none-in-window.json'), Q);
    expect(f.kind).toBe('unknown');
    expect(f.details.eventIds).toBe('');
  });

  it('PowerShell output shapes: a lone object (one record), empty output (no records), junk rejected', () => {
    expect(parseEventLogJson(fixture('windows/event-log/powershell-lone-object.json'))).toHaveLength(1);
    expect(parseEventLogJson(fixture('windows/event-log/powershell-empty.txt'))).toEqual([]);
    expect(parseEventLogJson('[{"id":"x"},null,{"id":41}]')).toEqual([{ id: 41, data: {} }]);
    expect(() => parseEventLogJson('<Event/>')).toThrow();
  });

  it('records without a time (hand-written fixtures) count as the previous shutdown', () => {
    expect(classifyWindowsEvents([{ id: 41, data: { BugcheckCode: '0x9f' } }], Q).kind).toBe('crash');
  });

  it('6008 binary: the second SYSTEMTIME is UTC; short or absurd data is no time', () => {
    expect(parse6008Time('EA070B00020018000A000F0014004202EA070B000200180003000F0014004202')).toBe(CUT_AT);
    expect(parse6008Time('EA070B00')).toBeUndefined();
    expect(parse6008Time('0000000000000000000000000000000000000000000000000000000000000000')).toBeUndefined();
    expect(parse6008Time(null)).toBeUndefined();
  });

  it('the PowerShell script asks for exactly the ids it classifies, over the window, as JSON', () => {
    const script = windowsEventLogScript(3600);
    expect(script).toContain('Id=41,1074,6008');
    expect(script).toContain('AddSeconds(-3600)');
    expect(script).toContain('ConvertTo-Json -InputObject $out');
  });
});

describe('Windows sleep record (Power-Troubleshooter 1)', () => {
  const recs = () => winLog('power-troubleshooter-1.json');
  const sleep = Date.parse('2026-11-24T03:00:05.1234567Z');
  const wake = Date.parse('2026-11-24T04:00:01.9876543Z');
  it('the slept time within the window', () => {
    expect(sleptMsFromPowerTroubleshooter(recs(), sleep - 2000, wake + 2000)).toBe(wake - sleep);
    expect(sleptMsFromPowerTroubleshooter(recs(), sleep + 600_000, wake)).toBe(wake - sleep - 600_000);
  });
  it('no overlap or no record: unknown', () => {
    expect(sleptMsFromPowerTroubleshooter(recs(), wake + 1000, wake + 5000)).toBeNull();
    expect(sleptMsFromPowerTroubleshooter(winLog('kernel-power-41-power-loss.json'), 0, Date.now())).toBeNull();
  });
  it('the script filters by provider and id', () => {
    expect(windowsEventLogScript(120, [1], POWER_TROUBLESHOOTER)).toContain("Id=1;ProviderName='Microsoft-Windows-Power-Troubleshooter'");
  });
});

describe('Linux journal of the previous boot', () => {
  const cut = Date.UTC(2026, 10, 24, 3, 14, 0);

  it('--list-boots as JSON and as the classic table; the previous boot by id or by index -1', () => {
    const json = parseListBoots(fixture('linux/shutdown/journalctl-list-boots.json'));
    const text = parseListBoots(fixture('linux/shutdown/journalctl-list-boots.txt'));
    expect(json.map((b) => b.index)).toEqual([-2, -1, 0]);
    expect(text.map((b) => b.bootId)).toEqual(json.map((b) => b.bootId));
    expect(json[1]!.lastEntry).toBe(cut + 5000);
    expect(previousBoot(json, null)?.bootId).toBe('8a0e6c0f4b7c4d0c9a4b1f0b2c3d4e5f');
    // The agent recorded its boot id with dashes (/proc/sys/kernel/random/boot_id).
    expect(previousBoot(json, '5d1c8a3f-0e2b-4c7d-9e6f-1a2b3c4d5e6f')?.index).toBe(-2);
    // Our own run's boot is the current one: nothing before it to read.
    expect(previousBoot(json, '1f2e3d4c-5b6a-7988-0a1b-2c3d4e5f6071')).toBeUndefined();
  });

  it('a clean reboot (shutdown initiated, journal stopped): planned', () => {
    const f = classifyJournalTail(fixture('linux/shutdown/journal-tail-clean-reboot.jsonl'));
    expect(f?.kind).toBe('planned');
    expect(f?.endedAt).toBe(cut);
  });

  it('entries that just stop: power loss, at the last entry', () => {
    const f = classifyJournalTail(fixture('linux/shutdown/journal-tail-abrupt.jsonl'));
    expect(f?.kind).toBe('power_loss');
    expect(f?.endedAt).toBe(cut + 5000);
    expect(f?.details.abruptEnd).toBe(true);
  });

  it('a kernel panic: crash; a soft lockup / hung task: hang (then reset)', () => {
    expect(classifyJournalTail(fixture('linux/shutdown/journal-tail-panic.jsonl'))?.kind).toBe('crash');
    expect(classifyJournalTail(fixture('linux/shutdown/journal-tail-soft-lockup.jsonl'))?.kind).toBe('hang_reset');
  });

  it('byte-array messages are read; no entries is no evidence', () => {
    expect(classifyJournalTail(fixture('linux/shutdown/journal-tail-binary-message.jsonl'))?.kind).toBe('power_loss');
    expect(classifyJournalTail('')).toBeNull();
    expect(classifyJournalTail('-- No entries --\n')).toBeNull();
  });
});

describe('Linux wtmp (last -x --time-format iso)', () => {
  it('a shutdown record before this boot: planned, at its time', () => {
    const f = classifyLastOutput(fixture('linux/shutdown/last-x-clean.txt'));
    expect(f?.kind).toBe('planned');
    expect(f?.endedAt).toBe(Date.parse('2026-11-24T10:14:00+07:00'));
  });

  it('the previous boot ends in "crash": unclean, cause unknown', () => {
    const f = classifyLastOutput(fixture('linux/shutdown/last-x-crash.txt'));
    expect(f?.kind).toBe('unknown');
    expect(f?.source).toBe('wtmp');
  });

  it('an empty wtmp is no evidence', () => {
    expect(classifyLastOutput(fixture('linux/shutdown/last-x-empty.txt'))).toBeNull();
  });
});
