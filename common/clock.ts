/**
 * The only place that reads the wall clock or arms timers (house style §4).
 * Everything else receives a {@link Clock}; tests pass a fake one.
 */
export interface TimerHandle {
  /** Opaque; pass back to {@link Clock.clear}. */
  readonly id: unknown;
}

/** Port for time. `now()` is wall-clock epoch ms; `monotonic()` never jumps. */
export interface Clock {
  now(): number;
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle | undefined): void;
  /** Promise that resolves after `ms` (used for backoff). */
  sleep(ms: number): Promise<void>;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = setTimeout(fn, ms);
    id.unref?.();
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = setInterval(fn, ms);
    return { id };
  }
  clear(handle: TimerHandle | undefined): void {
    if (!handle) return;
    clearTimeout(handle.id as NodeJS.Timeout);
    clearInterval(handle.id as NodeJS.Timeout);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

export const systemClock: Clock = new SystemClock();
