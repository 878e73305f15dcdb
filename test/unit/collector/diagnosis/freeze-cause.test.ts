/**
 * Freeze diagnosis (issue 17 point 2) on scenarios with a known cause: for each cause the
 * samples and checks that show it, built from the recorded agent readings (Windows counters,
 * smartctl), and the figures quoted back; none → unknown, never a guess.
 */
import { describe, expect, it } from 'vitest';
import { parseWindowsPerf } from '../../../../agent/platform/disk-pressure-parsers.js';
import { parseSmartctlJson } from '../../../../agent/disk-health/smartctl.js';
import { diagnoseFreeze, FreezeDiagnosisConfigSchema, samplesAround, type DiskCheck, type FreezeEvent, type FreezeSample } from '../../../../collector/diagnosis/freeze-cause.js';
import type { ProcessInfo, SampleMetrics } from '../../../../contract/schemas.js';
import { fixtureText } from '../../agent/fake-system-info.js';

const P = FreezeDiagnosisConfigSchema.parse({});
const START = Date.parse('2026-11-24T09:30:00+07:00');
const END = START + 45_000;
const perf = parseWindowsPerf(fixtureText('windows/disk-health/perf-counters.json')); // 0 C: 97% busy, queue 7; 412 pages in/s, 96 hard faults/s

const cpu = (usage: number) => ({ usage, load1: 1, load5: 1, load15: 1, cores: 4 });
const quietDisk = perf.disks.map((d) => ({ ...d, busyPct: 8, queue: 0.1 }));
const quietMem = { memSomePct: null, memFullPct: null, swapInPs: 3, swapOutPs: 0, hardFaultsPs: 12 };
const normal: SampleMetrics = { cpu: cpu(25), diskio: quietDisk, pressure: quietMem };

/** Samples every 15 s from 3 min before the freeze to its start, then one after its end. */
function samples(m: (i: number) => SampleMetrics): FreezeSample[] {
  const out: FreezeSample[] = [];
  for (let i = 0; i <= 12; i++) out.push({ t: START - 180_000 + i * 15_000, interval: 15, metrics: m(i) });
  out.push({ t: END + 5_000, interval: 15, metrics: m(13) });
  return out;
}
const proc = (name: string, pid: number, cpuPct: number): ProcessInfo => ({ name, pid, cpuPct, memBytes: 200 * 1048576 });
/** The freeze as ingest stores it (the process list kept in details). */
const freeze = (processes: ProcessInfo[] = []): FreezeEvent => ({ t: END, start: START, end: END, details: { durationMs: 45_000, thresholdMs: 10_000, processes } });

describe('freeze diagnosis', () => {
  it('disk overloaded: the recorded Windows counters (0 C: 97% busy, queue 7) in the 2 minutes before', () => {
    const d = diagnoseFreeze(
      freeze(),
      samples((i) => (i >= 4 ? { ...normal, diskio: perf.disks } : normal)),
      [],
      P,
    );
    expect(d.cause).toBe('disk_busy');
    expect(d.causes).toHaveLength(1);
    expect(d.causes[0]!.evidence).toMatchObject({ disk: '0 C:', diskBusyPct: 97, diskQueue: 7 });
    expect(d.causes[0]!.text.vi).toBe('ổ cứng quá tải (ổ 0 C: bận 97%, hàng đợi 7)');
    expect(d.causes[0]!.text.en).toBe('disk overloaded (disk 0 C: 97% busy, queue 7)');
    expect(d.samples).toBe(10); // 9 samples in [start − 2 min, start] + the one after whose interval covers the freeze
  });

  it('out of memory: paging (recorded counters) comes first; the disk it keeps busy is listed after', () => {
    const d = diagnoseFreeze(
      freeze(),
      samples(() => ({ cpu: cpu(40), diskio: perf.disks, pressure: perf.pressure })),
      [],
      P,
    );
    expect(d.causes.map((c) => c.kind)).toEqual(['memory', 'disk_busy']);
    expect(d.causes[0]!.evidence).toMatchObject({ swapInPs: 412, hardFaultsPs: 96 });
    expect(d.causes[0]!.text.vi).toBe('thiếu bộ nhớ (RAM) (đọc lại 412 trang/giây từ ổ cứng, 96 lỗi trang cứng/giây)');
    // Linux PSI alone.
    const psi = diagnoseFreeze(
      freeze(),
      samples(() => ({ ...normal, pressure: { ...quietMem, memSomePct: 31.5 } })),
      [],
      P,
    );
    expect(psi.cause).toBe('memory');
    expect(psi.causes[0]!.text.vi).toContain('chờ bộ nhớ 31,5% thời gian');
  });

  it('one process took the CPU: named with its share; CPU high without one dominant process is "CPU quá tải"', () => {
    const hot = samples(() => ({ ...normal, cpu: cpu(98) }));
    const one = diagnoseFreeze(freeze([proc('AcroRd32.exe', 4412, 71), proc('chrome.exe', 880, 12), proc('MsMpEng.exe', 3120, 9)]), hot, [], P);
    expect(one.cause).toBe('cpu_process');
    expect(one.causes[0]!.evidence).toMatchObject({ cpuPct: 98, process: 'AcroRd32.exe', processCpuPct: 71, processSharePct: 77.2 });
    expect(one.causes[0]!.text.vi).toBe('tiến trình AcroRd32.exe chiếm CPU (CPU cả máy 98%, AcroRd32.exe chiếm 77% trong số đó)');
    const many = diagnoseFreeze(freeze([proc('a.exe', 1, 30), proc('b.exe', 2, 28), proc('c.exe', 3, 25)]), hot, [], P);
    expect(many.cause).toBe('cpu');
    expect(many.causes[0]!.text.vi).toBe('CPU quá tải (CPU 98%, không tiến trình nào chiếm phần lớn)');
    // No process list (the agent could not read it): still only what is known.
    expect(diagnoseFreeze(freeze(), hot, [], P).cause).toBe('cpu');
    // A process list alone, with the CPU normal, is no evidence.
    expect(
      diagnoseFreeze(
        freeze([proc('AcroRd32.exe', 4412, 71)]),
        samples(() => normal),
        [],
        P,
      ).cause,
    ).toBe('unknown');
  });

  it('failing disk: the recorded failing HDD (SMART) in a check hours before, or OS disk errors reported by the next check', () => {
    const failing = parseSmartctlJson(fixtureText('linux/smartctl/ata-hdd-failing.json'), '/dev/sda');
    const before: DiskCheck = { t: START - 5 * 3_600_000, details: { disks: [failing] } };
    const d = diagnoseFreeze(
      freeze(),
      samples(() => ({ ...normal, diskio: perf.disks })),
      [before],
      P,
    );
    expect(d.causes.map((c) => c.kind)).toEqual(['disk_failing', 'disk_busy']);
    expect(d.causes[0]!.evidence).toMatchObject({ device: 'ST500DM002-1BD142 (/dev/sda)', predictedFailure: true });
    expect(d.causes[0]!.text.vi).toMatch(/^ổ cứng lỗi \(ST500DM002-1BD142 \(\/dev\/sda\): SMART dự báo sắp hỏng/);
    const ok = parseSmartctlJson(fixtureText('linux/smartctl/ata-ssd-ok.json'), '/dev/sda');
    const after: DiskCheck = { t: END + 2 * 3_600_000, details: { disks: [{ ...ok, state: 'warning', errorEvents: 4 }] } };
    const e = diagnoseFreeze(
      freeze(),
      samples(() => normal),
      [after],
      P,
    );
    expect(e.cause).toBe('disk_failing');
    expect(e.causes[0]!.text.vi).toContain('4 lỗi đọc/ghi trong nhật ký');
    // Pending sectors alone: still a cause, but after the disk measured overloaded just before the freeze.
    const pending: DiskCheck = { t: START - 3_600_000, details: { disks: [{ ...ok, state: 'warning', pendingSectors: 8 }] } };
    expect(
      diagnoseFreeze(
        freeze(),
        samples(() => ({ ...normal, diskio: perf.disks })),
        [pending],
        P,
      ).causes.map((c) => c.kind),
    ).toEqual(['disk_busy', 'disk_failing']);
    expect(
      diagnoseFreeze(
        freeze(),
        samples(() => normal),
        [pending],
        P,
      ).cause,
    ).toBe('disk_failing');
    // A healthy disk, and a failing one checked long before (outside the hours around), say nothing.
    expect(
      diagnoseFreeze(
        freeze(),
        samples(() => normal),
        [{ t: START - 3_600_000, details: { disks: [ok] } }],
        P,
      ).cause,
    ).toBe('unknown');
    expect(
      diagnoseFreeze(
        freeze(),
        samples(() => normal),
        [{ ...before, t: START - 48 * 3_600_000 }],
        P,
      ).cause,
    ).toBe('unknown');
  });

  it('unknown when every figure was normal (quoted), or when nothing was measured; never a guess', () => {
    const d = diagnoseFreeze(
      freeze([proc('explorer.exe', 10, 5)]),
      samples(() => normal),
      [],
      P,
    );
    expect(d).toMatchObject({ cause: 'unknown', samples: 10 });
    expect(d.causes[0]!.text.vi).toBe('chưa xác định nguyên nhân (trước lúc treo: CPU 25%, ổ bận 8%, 3 trang/giây, đều bình thường)');
    const none = diagnoseFreeze(freeze(), [], [], P);
    expect(none).toMatchObject({ cause: 'unknown', samples: 0 });
    expect(none.causes[0]!.text.vi).toBe('chưa xác định nguyên nhân (không có số liệu ngay trước lúc treo)');
    // Samples only long before the freeze are not "just before" it.
    expect(diagnoseFreeze(freeze(), [{ t: START - 600_000, interval: 15, metrics: { ...normal, diskio: perf.disks } }], [], P).cause).toBe('unknown');
  });

  it('the window and thresholds are configurable; the sample after the freeze counts only if its interval covers it', () => {
    const busy = samples((i) => (i >= 10 ? { ...normal, diskio: perf.disks } : normal)); // busy the last 30 s before, and during
    expect(diagnoseFreeze(freeze(), busy, [], P).cause).toBe('unknown'); // 2-min mean 44%
    expect(diagnoseFreeze(freeze(), busy, [], FreezeDiagnosisConfigSchema.parse({ windowSeconds: 30 })).cause).toBe('disk_busy');
    expect(
      diagnoseFreeze(
        freeze(),
        samples(() => ({ ...normal, cpu: cpu(85) })),
        [],
        FreezeDiagnosisConfigSchema.parse({ cpuPct: 80 }),
      ).cause,
    ).toBe('cpu');
    const later = { t: END + 60_000, interval: 15, metrics: normal };
    expect(samplesAround(freeze(), [later], P)).toEqual([]);
    expect(samplesAround(freeze(), [{ ...later, interval: 120 }], P)).toHaveLength(1);
  });
});
