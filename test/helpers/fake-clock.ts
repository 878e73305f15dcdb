import type { Clock, TimerHandle } from '../../common/clock.js';

/** A manual clock for unit tests: time moves only when the test calls `advance`. */
export class FakeClock implements Clock {
  private t: number;
  private mono = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; every?: number }>();

  constructor(start = Date.UTC(2026, 10, 24, 2, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.mono + ms, fn });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.mono + ms, fn, every: ms });
    return { id };
  }
  clear(h: TimerHandle | undefined): void {
    if (h) this.timers.delete(h.id as number);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  /** Timers armed and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, tm] of this.timers) if (tm.at <= end && tm.at < nextAt) [nextId, nextAt] = [id, tm.at];
      if (nextId === undefined) break;
      const tm = this.timers.get(nextId)!;
      // A timer overdue after freeze() fires now, as Node's do after the loop stood still.
      const at = Math.max(tm.at, this.mono);
      this.t += at - this.mono;
      this.mono = at;
      // Node re-arms an interval from when its callback ran.
      if (tm.every) tm.at = at + tm.every;
      else this.timers.delete(nextId);
      tm.fn();
    }
    this.t += end - this.mono;
    this.mono = end;
  }
  /**
   * The process stands still for `ms` (SIGSTOP, a VM stall, a long synchronous job): both
   * clocks move, no timer fires; the overdue ones fire at the next `advance`.
   */
  freeze(ms: number): void {
    this.t += ms;
    this.mono += ms;
  }
  /** Jump the wall clock only (a PC whose clock is reset after a power cut). */
  setWall(t: number): void {
    this.t = t;
  }
}
