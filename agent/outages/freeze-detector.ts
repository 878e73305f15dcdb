import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { ProcessInfo } from '../../contract/schemas.js';
import type { EmitEvent } from '../agent-event.js';
import type { BootClock, ProcessTable } from '../platform/system-info.js';

/**
 * Freeze, sleep and clock-jump detection (issue 3, "Agent, while running"). A tick every
 * `tickMs` compares three clocks between consecutive ticks:
 * - monotonic (performance.now: CLOCK_MONOTONIC on Linux) advances while the PC runs, and
 *   stops during suspend;
 * - the boot clock (Linux CLOCK_BOOTTIME via /proc/uptime, Windows tick count) advances while
 *   the PC runs and during suspend;
 * - the wall clock advances with both, and jumps when someone (NTP, the officer, a dead CMOS
 *   battery) sets it.
 * A tick that fires late on the monotonic clock means the PC (or the agent) was stuck: a
 * freeze. A boot clock that ran ahead of the monotonic one means suspend: a sleep. A wall
 * clock that ran ahead of (or behind) both means a clock jump. The boot clock is only read
 * when something looks wrong (never a file read per tick in the normal case).
 * Windows differs: QueryPerformanceCounter (the monotonic clock) and the tick count both run
 * through sleep, so a sleep shows as a late tick; there the System log's Power-Troubleshooter
 * records (SleepTime, WakeTime) are read, once, for a late tick, and the slept time is taken
 * off the lateness.
 */

/**
 * The processes as one short line (`name pid: cpu%, MB; …`, ≤ 1,024 characters), kept in the
 * event's details too, which every store keeps (the `processes` array is the structured form).
 */
export function processSummary(ps: readonly ProcessInfo[]): string {
  const parts = ps.map((p) => `${p.name.replace(/[;\n\r]/g, ' ').slice(0, 60)} ${p.pid}: ${p.cpuPct}% CPU, ${Math.round(p.memBytes / 1048576)} MB`);
  let out = '';
  for (const part of parts) {
    const next = out ? `${out}; ${part}` : part;
    if (next.length > 1024) break;
    out = next;
  }
  return out;
}

/** What happened between two ticks, in ms. */
export interface TickDelta {
  wallMs: number;
  monoMs: number;
  /** Time suspended within the delta; null when unknown. */
  suspendedMs: number | null;
  /**
   * The monotonic clock counted the suspended time too (Windows: QueryPerformanceCounter
   * runs through sleep), so it is taken off before judging lateness.
   */
  monoIncludesSuspend?: boolean;
}

export interface TickThresholds {
  /** The tick period. */
  expectedMs: number;
  /** Lateness that counts as a freeze (and the least sleep worth reporting). */
  freezeMs: number;
  /** Wall-clock deviation that counts as a jump. */
  clockJumpMs: number;
}

export type TickFinding =
  | { type: 'freeze'; durationMs: number }
  | { type: 'sleep'; durationMs: number }
  /** `suspendUnknown`: no boot clock, so a forward jump may also have been a sleep. */
  | { type: 'clock_jump'; jumpMs: number; suspendUnknown: boolean };

/** Does this delta need the boot clock to be judged? (Cheap pre-check on every tick.) */
export function tickLooksOdd(wallMs: number, monoMs: number, th: TickThresholds): boolean {
  return monoMs - th.expectedMs > th.freezeMs || Math.abs(wallMs - monoMs) > Math.min(th.freezeMs, th.clockJumpMs);
}

/** Classify one tick-to-tick delta. Pure. */
export function classifyTick(d: TickDelta, th: TickThresholds): TickFinding[] {
  const out: TickFinding[] = [];
  const suspended = d.suspendedMs ?? 0;
  // Time the PC was awake between the ticks, by the monotonic clock.
  const awakeMs = d.monoIncludesSuspend ? Math.max(0, d.monoMs - suspended) : d.monoMs;
  const late = awakeMs - th.expectedMs;
  if (late > th.freezeMs) out.push({ type: 'freeze', durationMs: Math.round(late) });
  if (suspended > th.freezeMs) out.push({ type: 'sleep', durationMs: Math.round(suspended) });
  const jump = d.wallMs - awakeMs - suspended;
  if (Math.abs(jump) > th.clockJumpMs) out.push({ type: 'clock_jump', jumpMs: Math.round(jump), suspendUnknown: d.suspendedMs === null && jump > 0 });
  return out;
}

export interface FreezeDetectorOptions {
  clock: Clock;
  log: Logger;
  sys: BootClock & ProcessTable;
  tickMs: number;
  freezeMs: number;
  clockJumpMs: number;
  /** Processes listed after a freeze, by CPU and by memory each. */
  topProcesses: number;
  emit: EmitEvent;
  /** Told at once when a freeze is found (before the process list is read), e.g. network-cut-detector.ts. */
  onFreeze?: (start: number, end: number) => void;
}

export class FreezeDetector {
  private timer: TimerHandle | undefined;
  private prev: { wall: number; mono: number } | undefined;
  /** Boot clock minus monotonic at the last reading; grows by the time suspended. */
  private bootOffset: number | null = null;
  private busy: Promise<void> | undefined;
  private running = false;

  constructor(private readonly opts: FreezeDetectorOptions) {}

  private get thresholds(): TickThresholds {
    return { expectedMs: this.opts.tickMs, freezeMs: this.opts.freezeMs, clockJumpMs: this.opts.clockJumpMs };
  }

  async start(): Promise<void> {
    this.running = true;
    this.bootOffset = await this.readBootOffset();
    this.prev = { wall: this.opts.clock.now(), mono: this.opts.clock.monotonic() };
    this.timer = this.opts.clock.setInterval(() => this.tick(), this.opts.tickMs);
  }

  private async readBootOffset(): Promise<number | null> {
    try {
      const boot = await this.opts.sys.bootClockMs?.();
      return typeof boot === 'number' ? boot - this.opts.clock.monotonic() : null;
    } catch {
      return null;
    }
  }

  /** One tick (public for tests driving a fake clock). */
  tick(): void {
    const cur = { wall: this.opts.clock.now(), mono: this.opts.clock.monotonic() };
    const prev = this.prev;
    this.prev = cur;
    if (!prev || this.busy || !this.running) return;
    const wallMs = cur.wall - prev.wall;
    const monoMs = cur.mono - prev.mono;
    if (!tickLooksOdd(wallMs, monoMs, this.thresholds)) return;
    this.busy = this.judge(prev, cur, wallMs, monoMs)
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message }, 'freeze check failed'))
      .finally(() => {
        this.busy = undefined;
      });
  }

  private async judge(prev: { wall: number; mono: number }, cur: { wall: number; mono: number }, wallMs: number, monoMs: number): Promise<void> {
    let suspendedMs: number | null;
    const monoIncludesSuspend = this.opts.sys.platform === 'win32';
    if (monoIncludesSuspend) {
      // Windows: both clocks run through sleep; the System log says whether it slept.
      // No record: it did not sleep (a sleep there always shows as monotonic lateness too).
      suspendedMs = (await this.opts.sys.sleptMsBetween?.(prev.wall, cur.wall).catch(() => null)) ?? 0;
    } else {
      const before = this.bootOffset;
      const after = before === null ? null : await this.readBootOffset();
      if (after !== null) this.bootOffset = after;
      suspendedMs = before !== null && after !== null ? after - before : null;
    }
    const findings = classifyTick({ wallMs, monoMs, suspendedMs, monoIncludesSuspend }, this.thresholds);
    for (const f of findings) {
      if (f.type === 'freeze') {
        const start = Math.round(prev.wall + this.opts.tickMs);
        this.opts.onFreeze?.(start, Math.round(cur.wall));
        const processes = await this.processes();
        this.opts.log.warn({ durationMs: f.durationMs, processes: processes.length }, 'freeze detected');
        this.opts.emit({
          type: 'freeze',
          severity: 'warning',
          message: `the PC (or the agent) was unresponsive for ${Math.round(f.durationMs / 1000)} s`,
          start,
          end: Math.round(cur.wall),
          details: {
            durationMs: f.durationMs,
            thresholdMs: this.opts.freezeMs,
            tickMs: this.opts.tickMs,
            uncertaintyMs: this.opts.tickMs,
            ...(processes.length ? { topProcesses: processSummary(processes) } : {}),
          },
          ...(processes.length ? { processes } : {}),
        });
      } else if (f.type === 'sleep') {
        this.opts.log.info({ durationMs: f.durationMs }, 'sleep detected');
        this.opts.emit({
          type: 'sleep',
          severity: 'info',
          message: `the PC slept for ${Math.round(f.durationMs / 1000)} s`,
          start: Math.round(cur.wall - f.durationMs),
          end: Math.round(cur.wall),
          details: { durationMs: f.durationMs, uncertaintyMs: this.opts.tickMs },
        });
      } else {
        this.opts.log.warn({ jumpMs: f.jumpMs }, 'wall clock jumped');
        this.opts.emit({
          type: 'clock_jump',
          severity: 'warning',
          message: `the system clock jumped ${f.jumpMs > 0 ? 'forward' : 'back'} by ${Math.abs(Math.round(f.jumpMs / 1000))} s`,
          details: { jumpMs: f.jumpMs, suspendUnknown: f.suspendUnknown, expectedWall: Math.round(cur.wall - f.jumpMs), actualWall: Math.round(cur.wall) },
        });
      }
    }
  }

  private async processes(): Promise<ProcessInfo[]> {
    if (this.opts.topProcesses <= 0 || !this.opts.sys.topProcesses) return [];
    try {
      return await this.opts.sys.topProcesses(this.opts.topProcesses);
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'process list unreadable after a freeze');
      return [];
    }
  }

  /** Resolves when no late tick is being judged (network-cut-detector.ts waits for it). */
  async settled(): Promise<void> {
    await this.busy;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clear(this.timer);
    this.timer = undefined;
    await this.busy;
  }
}
