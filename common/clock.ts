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
  /**
   * Run `fn` once, after the current event-loop turn's I/O, without a timer: `setTimeout(fn, 0)`
   * makes the loop sleep 1 ms first (a wake-up of its own); this runs in the same turn (Node's
   * setImmediate). Optional: without it callers use `setTimeout(fn, 0)` (fake clocks in tests).
   * Cancelled with {@link clear}. Never for a callback that re-arms itself at once (it would
   * spin without the 1 ms sleep).
   */
  soon?(fn: () => void): TimerHandle;
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
  soon(fn: () => void): TimerHandle {
    const id = setImmediate(fn);
    id.unref();
    return { id, immediate: true } as TimerHandle;
  }
  clear(handle: TimerHandle | undefined): void {
    if (!handle) return;
    if ((handle as { immediate?: boolean }).immediate) {
      clearImmediate(handle.id as NodeJS.Immediate);
      return;
    }
    const t = handle.id as NodeJS.Timeout;
    // Node keeps the (now empty) list of an unref'd timer on clear, "likely to be reused by
    // http", and wakes the event loop at its expiry for nothing: a timeout armed and cleared
    // every sample cost a wake-up per sample. Ref'd again first, it is cleared like a ref'd
    // one: its list goes when empty (lib/internal/timers.js unenroll).
    t.ref?.();
    clearTimeout(t);
    clearInterval(t);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

export const systemClock: Clock = new SystemClock();
