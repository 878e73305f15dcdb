import type { Clock, TimerHandle } from '../../common/clock.js';

/**
 * How the InfluxDB writer's send loop waits (influx-writer.ts): for a time or until new work
 * wakes it; a backoff wait after a failed write is not cut short by new work, only by
 * {@link SenderWait.wakeAll} (stop()).
 */
export class SenderWait {
  private wakeUp: (() => void) | undefined;
  private stopWakeUp: (() => void) | undefined;

  constructor(private readonly clock: Pick<Clock, 'setTimeout' | 'clear'>) {}

  /** Waits `ms` (or without end when undefined) or until woken. */
  sleep(ms: number | undefined, backoff = false): Promise<void> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const done = (): void => {
        this.clock.clear(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        if (this.stopWakeUp === done) this.stopWakeUp = undefined;
        resolve();
      };
      if (backoff) this.stopWakeUp = done;
      else this.wakeUp = done;
      if (ms !== undefined) timer = this.clock.setTimeout(done, ms);
    });
  }

  /** New work for the sender. */
  wake(): void {
    this.wakeUp?.();
  }

  /** stop(): also ends a backoff wait. */
  wakeAll(): void {
    this.wakeUp?.();
    this.stopWakeUp?.();
  }
}
