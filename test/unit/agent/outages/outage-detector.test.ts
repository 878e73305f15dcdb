import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../../agent/agent-event.js';
import { HEARTBEAT_FILE, Heartbeat, LEGACY_HEARTBEAT_FILE, parseHeartbeat, readHeartbeat, type HeartbeatRecord } from '../../../../agent/outages/heartbeat.js';
import { SLOT_STRIDE } from '../../../../common/slot-file.js';
import { BOOT_TOLERANCE_MS, judgePreviousRun, OutageDetector, osRebooted, previousRunEvent } from '../../../../agent/outages/outage-detector.js';
import type { ShutdownEvidenceReader, ShutdownFinding } from '../../../../agent/outages/shutdown-evidence/shutdown-finding.js';
import { SHUTDOWN_MARKER_FILE } from '../../../../agent/outages/shutdown-marker.js';
import type { BootClock } from '../../../../agent/platform/system-info.js';
import { silentLogger } from '../../../../common/log.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);
const hb = (over: Partial<HeartbeatRecord> = {}): HeartbeatRecord => ({
  v: 1,
  run: 'run-a',
  t: T0,
  osBoot: T0 - 3_600_000,
  osBootId: null,
  periodMs: 15_000,
  ...over,
});

describe('osRebooted', () => {
  it('boot ids decide when both are known', () => {
    expect(osRebooted(hb({ osBootId: 'a' }), { bootTime: T0 - 3_600_000, bootId: 'b' })).toBe(true);
    expect(osRebooted(hb({ osBootId: 'a' }), { bootTime: T0 + 60_000, bootId: 'a' })).toBe(false);
  });
  it('else boot times: the same boot within the tolerance (clock steps move a derived boot time)', () => {
    expect(osRebooted(hb(), { bootTime: T0 - 3_600_000 + BOOT_TOLERANCE_MS - 1, bootId: null })).toBe(false);
    expect(osRebooted(hb(), { bootTime: T0 + 120_000, bootId: null })).toBe(true);
    // A boot "long before" the last heartbeat yet different: a clock step, not a reboot.
    expect(osRebooted(hb(), { bootTime: T0 - 7_200_000, bootId: null })).toBe(false);
  });
  it('unknown without a boot time', () => {
    expect(osRebooted(hb(), { bootTime: null, bootId: null })).toBeNull();
    expect(osRebooted(hb({ osBoot: null }), { bootTime: T0 + 5000, bootId: null })).toBe(true);
  });
});

describe('judgePreviousRun + previousRunEvent', () => {
  const newBoot = { bootTime: T0 + 90_000, bootId: null };
  const sameBoot = { bootTime: T0 - 3_600_000, bootId: null };
  const power: ShutdownFinding = { kind: 'power_loss', source: 'windows_event_log', details: { bugcheckCode: 0 } };

  it('first run: nothing to say', () => {
    const v = judgePreviousRun(null, null, newBoot);
    expect(v.kind).toBe('first_run');
    expect(previousRunEvent(v, null, newBoot.bootTime, T0 + 100_000)).toBeNull();
  });

  it('unclean on a new boot: outage from the last heartbeat to the boot, cause from the evidence', () => {
    const v = judgePreviousRun(hb(), null, newBoot);
    expect(v).toMatchObject({ kind: 'unclean', rebooted: true });
    const ev = previousRunEvent(v, power, newBoot.bootTime, T0 + 100_000)!;
    expect(ev).toMatchObject({ type: 'outage', severity: 'critical', start: T0, end: T0 + 90_000 });
    expect(ev.details).toMatchObject({ scope: 'host', cause: 'power_loss', uncertaintyMs: 15_000, durationMs: 90_000, evidence: 'windows_event_log', bugcheckCode: 0 });
  });

  it('no evidence: unclean shutdown, cause unknown', () => {
    const ev = previousRunEvent(judgePreviousRun(hb(), null, newBoot), null, newBoot.bootTime, T0 + 100_000)!;
    expect(ev.details).toMatchObject({ cause: 'unknown', evidence: 'none' });
    expect(ev.message).toContain('cause unknown');
  });

  it('an OS time of the end after the last heartbeat narrows the start and the uncertainty', () => {
    const ev = previousRunEvent(judgePreviousRun(hb(), null, newBoot), { ...power, endedAt: T0 + 10_000 }, newBoot.bootTime, T0 + 100_000)!;
    expect(ev.start).toBe(T0 + 10_000);
    expect(ev.details?.uncertaintyMs).toBe(5000);
    // One before the heartbeat (the journal flushes late) changes nothing.
    const early = previousRunEvent(judgePreviousRun(hb(), null, newBoot), { ...power, endedAt: T0 - 60_000 }, newBoot.bootTime, T0 + 100_000)!;
    expect(early.start).toBe(T0);
  });

  it('unclean on the same boot: the agent died, not the PC (scope agent, cause crash, until now)', () => {
    const v = judgePreviousRun(hb(), null, sameBoot);
    expect(v).toMatchObject({ kind: 'unclean', rebooted: false });
    const ev = previousRunEvent(v, null, sameBoot.bootTime, T0 + 30_000)!;
    expect(ev).toMatchObject({ type: 'outage', severity: 'warning', start: T0, end: T0 + 30_000 });
    expect(ev.details).toMatchObject({ scope: 'agent', cause: 'crash' });
  });

  it('a planned shutdown in the OS records: planned_shutdown, never an outage', () => {
    const planned: ShutdownFinding = { kind: 'planned', source: 'journal', endedAt: T0 + 2000, details: {} };
    const ev = previousRunEvent(judgePreviousRun(hb(), null, newBoot), planned, newBoot.bootTime, T0 + 100_000)!;
    expect(ev.type).toBe('planned_shutdown');
    expect(ev).toMatchObject({ start: T0 + 2000, end: T0 + 90_000 });
  });

  it('clean stop (marker of the same run): nothing on the same boot, planned_shutdown on a new one', () => {
    const marker = { v: 1 as const, run: 'run-a', t: T0 + 1000 };
    expect(previousRunEvent(judgePreviousRun(hb(), marker, sameBoot), null, sameBoot.bootTime, T0 + 5000)).toBeNull();
    const ev = previousRunEvent(judgePreviousRun(hb(), marker, newBoot), null, newBoot.bootTime, T0 + 100_000)!;
    expect(ev).toMatchObject({ type: 'planned_shutdown', start: T0 + 1000, end: T0 + 90_000 });
  });

  it('clean agent stop, then the OS records a power loss (service stopped, then the power went): outage', () => {
    const marker = { v: 1 as const, run: 'run-a', t: T0 + 1000 };
    const v = judgePreviousRun(hb(), marker, newBoot);
    const dated = previousRunEvent(v, { ...power, endedAt: T0 + 30_000 }, newBoot.bootTime, T0 + 100_000)!;
    expect(dated).toMatchObject({ type: 'outage', start: T0 + 30_000, end: T0 + 90_000 });
    expect(dated.details).toMatchObject({ scope: 'host', cause: 'power_loss', agentStoppedAt: T0 + 1000, uncertaintyMs: 15_000 });
    const undated = previousRunEvent(v, power, newBoot.bootTime, T0 + 100_000)!;
    expect(undated).toMatchObject({ type: 'outage', start: T0 + 1000 });
    expect(undated.details?.uncertaintyMs).toBe(89_000);
    // Planned or unknown in the OS records: the planned shutdown it looked like.
    expect(previousRunEvent(v, { kind: 'unknown', source: 'wtmp', details: {} }, newBoot.bootTime, T0 + 100_000)?.type).toBe('planned_shutdown');
  });

  it('a marker left by an older run does not vouch for the last one', () => {
    const stale = { v: 1 as const, run: 'run-old', t: T0 - 100_000 };
    expect(judgePreviousRun(hb(), stale, newBoot).kind).toBe('unclean');
  });

  it('unknown OS boot: scope unknown, until now', () => {
    const v = judgePreviousRun(hb(), null, { bootTime: null, bootId: null });
    const ev = previousRunEvent(v, null, null, T0 + 50_000)!;
    expect(ev.details).toMatchObject({ scope: 'unknown' });
    expect(ev.end).toBe(T0 + 50_000);
  });
});

describe('heartbeat file', () => {
  it('is overwritten in place, two slots in turn; the newest valid slot is read, a torn one is skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-hb-'));
    const clock = new FakeClock(T0);
    const beat = new Heartbeat({ stateDir: dir, clock, log: silentLogger(), periodMs: 1000, fsync: true, identity: { run: 'r1', osBoot: T0 - 5000, osBootId: 'b-1' } });
    await beat.start();
    expect(await readHeartbeat(dir)).toEqual({ v: 1, run: 'r1', t: T0, osBoot: T0 - 5000, osBootId: 'b-1', periodMs: 1000 });
    clock.advance(1000);
    await beat.beat(); // the write the tick started
    expect((await readHeartbeat(dir))?.t).toBe(T0 + 1000);
    clock.advance(1000);
    await beat.beat();
    expect((await readHeartbeat(dir))?.t).toBe(T0 + 2000);
    expect(beat.count()).toBe(3);
    expect(readdirSync(dir)).toEqual([HEARTBEAT_FILE]); // no temporary file
    if (process.platform !== 'win32') expect(statSync(join(dir, HEARTBEAT_FILE)).mode & 0o777).toBe(0o600);
    await beat.stop();

    // Slot 0 holds T0 + 2000 (beats 1 and 3), slot 1 T0 + 1000. A power cut tearing slot 0: slot 1 is read.
    // (Test files are fresh: the first beat went to slot 0.)
    const file = join(dir, HEARTBEAT_FILE);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(SLOT_STRIDE + 512);
    const torn = Buffer.from(bytes);
    /** A digit of the slot's t changed, its CRC left as it was (half of the new bytes reached the disk). */
    const tear = (slotOffset: number) => {
      const at = slotOffset + torn.subarray(slotOffset).indexOf('"t":') + 6;
      torn[at] = torn[at] === 0x31 ? 0x32 : 0x31;
    };
    tear(0);
    writeFileSync(file, torn);
    expect((await readHeartbeat(dir))?.t).toBe(T0 + 1000);
    // Both torn: none.
    tear(SLOT_STRIDE);
    writeFileSync(file, torn);
    expect(await readHeartbeat(dir)).toBeNull();
    writeFileSync(file, '{"v":1,"run":"r1","t":17');
    expect(await readHeartbeat(dir)).toBeNull();
    expect(parseHeartbeat({ v: 2, run: 'x', t: 1, periodMs: 1 })).toBeNull();
  });

  it('after an upgrade the legacy heartbeat.json is read once, then replaced by the slots file; an old file mode is made private', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-hb-'));
    writeFileSync(join(dir, LEGACY_HEARTBEAT_FILE), JSON.stringify(hb({ run: 'old', t: T0 - 7000 })));
    writeFileSync(join(dir, HEARTBEAT_FILE), 'garbage from a foreign tool\n', { mode: 0o644 });
    chmodSync(join(dir, HEARTBEAT_FILE), 0o644);
    expect(await readHeartbeat(dir)).toMatchObject({ run: 'old', t: T0 - 7000 });
    const beat = new Heartbeat({
      stateDir: dir,
      clock: new FakeClock(T0),
      log: silentLogger(),
      periodMs: 1000,
      fsync: false,
      identity: { run: 'new', osBoot: null, osBootId: null },
    });
    await beat.start();
    await beat.stop();
    expect(readdirSync(dir)).toEqual([HEARTBEAT_FILE]);
    expect(await readHeartbeat(dir)).toMatchObject({ run: 'new', t: T0 });
    if (process.platform !== 'win32') expect(statSync(join(dir, HEARTBEAT_FILE)).mode & 0o777).toBe(0o600);
  });

  it('beats at each tick from outside; its own timer fires only a whole period after the latest beat; no tick beats after stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-hb-'));
    const clock = new FakeClock(T0);
    const beat = new Heartbeat({ stateDir: dir, clock, log: silentLogger(), periodMs: 1000, fsync: false, identity: { run: 'r1', osBoot: null, osBootId: null } });
    const settle = () => new Promise((r) => setTimeout(r, 20));
    const lastT = async () => (await readHeartbeat(dir))?.t;
    await beat.start();
    expect(beat.count()).toBe(1);
    expect(clock.pending).toBe(1); // its own next beat

    // The sampler's tick 600 ms on: a beat now, and the own timer moved to a period from here.
    clock.advance(600);
    beat.tick();
    await settle();
    expect(beat.count()).toBe(2);
    expect(await lastT()).toBe(T0 + 600);
    expect(clock.pending).toBe(1);
    clock.advance(900); // T0 + 1500: the timer armed at T0 would have fired at T0 + 1000
    await settle();
    expect(beat.count()).toBe(2);

    // No tick for a whole period: the heartbeat's own timer beats, at T0 + 1600, and again a period later.
    clock.advance(100);
    await settle();
    expect(beat.count()).toBe(3);
    expect(await lastT()).toBe(T0 + 1600);
    clock.advance(1000);
    await settle();
    expect(beat.count()).toBe(4);
    expect(await lastT()).toBe(T0 + 2600);

    // Ticks more frequent than the period (an interval shortened live): one beat per half period at most.
    clock.advance(200);
    beat.tick(); // 200 ms after the latest beat: skipped
    await settle();
    expect(beat.count()).toBe(4);
    clock.advance(300);
    beat.tick(); // 500 ms after it: beats
    await settle();
    expect(beat.count()).toBe(5);
    expect(await lastT()).toBe(T0 + 3100);

    await beat.stop();
    expect(clock.pending).toBe(0);
    clock.advance(500);
    beat.tick();
    await settle();
    expect(beat.count()).toBe(5);
    expect(await lastT()).toBe(T0 + 3100);
  });
});

class BootSys implements BootClock {
  constructor(public boot: { bootTime: number; bootId: string | null }) {}
  readonly platform = 'linux' as const;
  async osBoot() {
    return this.boot;
  }
}

describe('OutageDetector (state dir, fake clock)', () => {
  function detector(dir: string, clock: FakeClock, sys: BootSys, run: string, finding: ShutdownFinding | null = null) {
    const events: AgentEvent[] = [];
    let reads = 0;
    const reader: ShutdownEvidenceReader = {
      read: async () => {
        reads++;
        return finding ?? { kind: 'unknown', source: 'none', details: {} };
      },
    };
    const d = new OutageDetector({
      stateDir: dir,
      clock,
      log: silentLogger(),
      sys,
      reader,
      run,
      heartbeatPeriodMs: 1000,
      fsync: false,
      emit: (e) => events.push(e),
    });
    return { d, events, reads: () => reads };
  }
  const settle = () => new Promise((r) => setTimeout(r, 20));
  /** Advance one heartbeat period at a time, letting each (real, async) file write finish. */
  async function run(clock: FakeClock, ms: number) {
    for (let left = ms; left > 0; left -= 1000) {
      clock.advance(Math.min(1000, left));
      await settle();
    }
  }

  it('first run, clean stop, restart on the same boot, kill, restart on a new boot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-outage-'));
    const clock = new FakeClock(T0);
    const sys = new BootSys({ bootTime: T0 - 600_000, bootId: 'boot-1' });

    const r1 = detector(dir, clock, sys, 'run-1');
    await r1.d.start();
    await settle();
    expect(r1.events).toEqual([]);
    clock.advance(5000);
    await r1.d.stop();
    expect(JSON.parse(readFileSync(join(dir, SHUTDOWN_MARKER_FILE), 'utf8'))).toMatchObject({ run: 'run-1', t: T0 + 5000 });

    // Restart on the same boot after a clean stop: nothing, and the marker is consumed.
    const r2 = detector(dir, clock, sys, 'run-2');
    await r2.d.start();
    await settle();
    expect(r2.events).toEqual([]);
    expect(readdirSync(dir)).not.toContain(SHUTDOWN_MARKER_FILE);
    await run(clock, 3000); // heartbeats at +1, +2, +3 s
    const lastBeat = (await readHeartbeat(dir))!.t;
    expect(lastBeat).toBe(T0 + 8000);
    // "kill -9": no stop(), no marker, and run-2's timers never fire again (its clock is left
    // behind: a killed process writes no more heartbeats). The power comes back, the PC boots 40 s later.
    sys.boot = { bootTime: T0 + 48_000, bootId: 'boot-2' };
    const r3 = detector(dir, new FakeClock(clock.now() + 60_000), sys, 'run-3', { kind: 'power_loss', source: 'windows_event_log', details: {} });
    await r3.d.start();
    await settle();
    expect(r3.reads()).toBe(1);
    expect(r3.events).toHaveLength(1);
    expect(r3.events[0]).toMatchObject({ type: 'outage', start: lastBeat, end: T0 + 48_000 });
    expect(r3.events[0]!.details).toMatchObject({ scope: 'host', cause: 'power_loss', uncertaintyMs: 1000, previousRun: 'run-2' });
    await r3.d.stop();
  });

  it('killed and restarted on the same boot: agent crash, without reading the OS records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'canh-outage-'));
    const clock = new FakeClock(T0);
    const sys = new BootSys({ bootTime: T0 - 600_000, bootId: 'boot-1' });
    const r1 = detector(dir, clock, sys, 'run-1');
    await r1.d.start();
    await run(clock, 2000);
    // Killed: run-1's timers never fire again; run-2 starts 10 s later on its own clock.
    const r2 = detector(dir, new FakeClock(clock.now() + 10_000), sys, 'run-2');
    await r2.d.start();
    await settle();
    expect(r2.reads()).toBe(0);
    expect(r2.events[0]).toMatchObject({ type: 'outage', start: T0 + 2000, end: T0 + 12_000 });
    expect(r2.events[0]!.details).toMatchObject({ scope: 'agent', cause: 'crash' });
    await r2.d.stop();
  });
});
