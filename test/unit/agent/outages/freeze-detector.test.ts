import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../../agent/agent-event.js';
import { classifyTick, FreezeDetector, processSummary, tickLooksOdd, type TickThresholds } from '../../../../agent/outages/freeze-detector.js';
import type { BootClock, ProcessTable } from '../../../../agent/platform/system-info.js';
import type { Clock, TimerHandle } from '../../../../common/clock.js';
import { silentLogger } from '../../../../common/log.js';
import type { ProcessInfo } from '../../../../contract/schemas.js';

const TH: TickThresholds = { expectedMs: 2000, freezeMs: 10_000, clockJumpMs: 5000 };

describe('classifyTick (pure)', () => {
  it('an on-time tick is nothing', () => {
    expect(classifyTick({ wallMs: 2003, monoMs: 2001, suspendedMs: 0 }, TH)).toEqual([]);
    expect(tickLooksOdd(2003, 2001, TH)).toBe(false);
  });

  it('monotonic and wall both late, boot clock with them: a freeze of the lateness', () => {
    expect(classifyTick({ wallMs: 22_000, monoMs: 22_000, suspendedMs: 0 }, TH)).toEqual([{ type: 'freeze', durationMs: 20_000 }]);
  });

  it('lateness under the threshold (a GC pause, a slow disk) is not a freeze', () => {
    expect(classifyTick({ wallMs: 9000, monoMs: 9000, suspendedMs: 0 }, TH)).toEqual([]);
  });

  it('monotonic on time, wall and boot clock ahead: a sleep, not a freeze nor a jump', () => {
    expect(classifyTick({ wallMs: 3_602_000, monoMs: 2000, suspendedMs: 3_600_000 }, TH)).toEqual([{ type: 'sleep', durationMs: 3_600_000 }]);
  });

  it('wall clock forward alone (NTP after a dead CMOS battery): a jump forward', () => {
    expect(classifyTick({ wallMs: 2000 + 86_400_000, monoMs: 2000, suspendedMs: 0 }, TH)).toEqual([{ type: 'clock_jump', jumpMs: 86_400_000, suspendUnknown: false }]);
  });

  it('wall clock backward: a negative jump', () => {
    expect(classifyTick({ wallMs: 2000 - 3_600_000, monoMs: 2000, suspendedMs: 0 }, TH)).toEqual([{ type: 'clock_jump', jumpMs: -3_600_000, suspendUnknown: false }]);
  });

  it('a small NTP step is not a jump', () => {
    expect(classifyTick({ wallMs: 2000 + 800, monoMs: 2000, suspendedMs: 0 }, TH)).toEqual([]);
  });

  it('without a boot clock a forward gap may be a sleep: a jump, flagged as such', () => {
    expect(classifyTick({ wallMs: 602_000, monoMs: 2000, suspendedMs: null }, TH)).toEqual([{ type: 'clock_jump', jumpMs: 600_000, suspendUnknown: true }]);
  });

  it('a sleep during which the clock was also set back: both', () => {
    const f = classifyTick({ wallMs: 2000 + 600_000 - 120_000, monoMs: 2000, suspendedMs: 600_000 }, TH);
    expect(f).toEqual([
      { type: 'sleep', durationMs: 600_000 },
      { type: 'clock_jump', jumpMs: -120_000, suspendUnknown: false },
    ]);
  });

  it('a freeze during which the clock jumped: both', () => {
    const f = classifyTick({ wallMs: 32_000 + 60_000, monoMs: 32_000, suspendedMs: 0 }, TH);
    expect(f).toEqual([
      { type: 'freeze', durationMs: 30_000 },
      { type: 'clock_jump', jumpMs: 60_000, suspendUnknown: false },
    ]);
  });
});

/** Three independent clocks the test moves by hand: wall, monotonic, boot (counts suspend). */
class ThreeClocks implements Clock {
  wall = Date.UTC(2026, 10, 24, 3, 0, 0);
  mono = 1000;
  boot = 50_000;
  ticks: Array<() => void> = [];
  now() {
    return this.wall;
  }
  monotonic() {
    return this.mono;
  }
  setTimeout(): TimerHandle {
    return { id: 0 };
  }
  setInterval(fn: () => void): TimerHandle {
    this.ticks.push(fn);
    return { id: this.ticks.length };
  }
  clear() {}
  sleep() {
    return Promise.resolve();
  }
  /** Time passes while running. */
  run(ms: number) {
    this.wall += ms;
    this.mono += ms;
    this.boot += ms;
  }
}

function setup(opts: { bootClock?: boolean } = {}) {
  const clock = new ThreeClocks();
  const events: AgentEvent[] = [];
  const procs: ProcessInfo[] = [
    { name: 'TTHC Client.exe', pid: 4120, cpuPct: 97.5, memBytes: 812 * 1048576 },
    { name: 'chrome.exe', pid: 2211, cpuPct: 3, memBytes: 1536 * 1048576 },
  ];
  const sys: BootClock & ProcessTable = {
    platform: 'linux',
    bootClockMs: async () => (opts.bootClock === false ? null : clock.boot),
    topProcesses: async (n: number) => procs.slice(0, n),
  };
  const det = new FreezeDetector({ clock, log: silentLogger(), sys, tickMs: 2000, freezeMs: 10_000, clockJumpMs: 5000, topProcesses: 5, emit: (e) => events.push(e) });
  const settle = () => new Promise((r) => setTimeout(r, 5));
  return { clock, events, det, settle };
}

describe('FreezeDetector with a fake clock', () => {
  it('a tick 20 s late: one freeze event with start, end and the top processes', async () => {
    const { clock, events, det, settle } = setup();
    await det.start();
    clock.run(2000);
    det.tick();
    const due = clock.wall + 2000;
    clock.run(22_000);
    det.tick();
    await settle();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'freeze', start: due, end: clock.wall, details: { durationMs: 20_000, uncertaintyMs: 2000 } });
    expect(events[0]!.processes?.[0]?.name).toBe('TTHC Client.exe');
    expect(events[0]!.details?.topProcesses).toBe('TTHC Client.exe 4120: 97.5% CPU, 812 MB; chrome.exe 2211: 3% CPU, 1536 MB');
    await det.stop();
  });

  it('suspend: wall and boot clocks advance, monotonic does not: sleep, not freeze', async () => {
    const { clock, events, det, settle } = setup();
    await det.start();
    clock.run(1000);
    clock.wall += 3_600_000;
    clock.boot += 3_600_000;
    clock.run(1000);
    det.tick();
    await settle();
    expect(events.map((e) => e.type)).toEqual(['sleep']);
    expect(events[0]!.details?.durationMs).toBe(3_600_000);
    // The next on-time tick is quiet again (the boot-clock baseline moved with the sleep).
    clock.run(2000);
    det.tick();
    await settle();
    expect(events).toHaveLength(1);
    await det.stop();
  });

  it('clock set forward, then back: two clock_jump events with signed jumpMs', async () => {
    const { clock, events, det, settle } = setup();
    await det.start();
    clock.run(2000);
    clock.wall += 7 * 24 * 3_600_000;
    det.tick();
    await settle();
    clock.run(2000);
    clock.wall -= 7 * 24 * 3_600_000;
    det.tick();
    await settle();
    expect(events.map((e) => [e.type, e.details?.jumpMs])).toEqual([
      ['clock_jump', 604_800_000],
      ['clock_jump', -604_800_000],
    ]);
    await det.stop();
  });

  it('no boot clock (macOS, unreadable /proc): a forward gap is a clock_jump flagged suspendUnknown', async () => {
    const { clock, events, det, settle } = setup({ bootClock: false });
    await det.start();
    clock.run(1000);
    clock.wall += 600_000;
    clock.run(1000);
    det.tick();
    await settle();
    expect(events.map((e) => e.type)).toEqual(['clock_jump']);
    expect(events[0]!.details?.suspendUnknown).toBe(true);
    await det.stop();
  });
});

describe('processSummary', () => {
  it('keeps to 1,024 characters and strips separators from names', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `very;long\nname-${'x'.repeat(50)}`, pid: i, cpuPct: 1, memBytes: 0 }));
    const s = processSummary(many);
    expect(s.length).toBeLessThanOrEqual(1024);
    expect(s.split('; ').every((p) => !p.includes(';') && !p.includes('\n'))).toBe(true);
  });
});

describe('Windows: the monotonic clock runs through sleep; the System log tells', () => {
  function winSetup(slept: number | null) {
    const clock = new ThreeClocks();
    const events: AgentEvent[] = [];
    const asked: Array<[number, number]> = [];
    const sys: BootClock & ProcessTable = {
      platform: 'win32',
      bootClockMs: async () => clock.boot,
      sleptMsBetween: async (from: number, to: number) => {
        asked.push([from, to]);
        return slept;
      },
      topProcesses: async () => [],
    };
    const det = new FreezeDetector({ clock, log: silentLogger(), sys, tickMs: 2000, freezeMs: 10_000, clockJumpMs: 5000, topProcesses: 5, emit: (e) => events.push(e) });
    return { clock, events, det, asked };
  }
  const settle = () => new Promise((r) => setTimeout(r, 5));

  it('all three clocks advanced by an hour, the log shows the sleep: sleep, not freeze', async () => {
    const { clock, events, det, asked } = winSetup(3_600_000);
    await det.start();
    clock.run(3_602_000);
    det.tick();
    await settle();
    expect(events.map((e) => [e.type, e.details?.durationMs])).toEqual([['sleep', 3_600_000]]);
    expect(asked).toHaveLength(1);
    await det.stop();
  });

  it('no sleep record: a freeze', async () => {
    const { clock, events, det } = winSetup(null);
    await det.start();
    clock.run(32_000);
    det.tick();
    await settle();
    expect(events.map((e) => [e.type, e.details?.durationMs])).toEqual([['freeze', 30_000]]);
    await det.stop();
  });

  it('classifyTick with monoIncludesSuspend: the slept time is taken off the lateness', () => {
    expect(classifyTick({ wallMs: 602_000, monoMs: 602_000, suspendedMs: 580_000, monoIncludesSuspend: true }, TH)).toEqual([
      { type: 'freeze', durationMs: 20_000 },
      { type: 'sleep', durationMs: 580_000 },
    ]);
  });
});
