import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../common/clock.js';

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a service and stop it cleanly on SIGINT/SIGTERM (and SIGBREAK, sent by the
 * Windows service wrapper). A second signal, or a stop taking longer than
 * `forceAfterMs`, exits at once.
 */
export async function runUntilSignal(service: Service, log: Logger, forceAfterMs = 15_000, parentPid?: number, clock: Clock = systemClock): Promise<number> {
  await service.start();
  return new Promise<number>((resolve) => {
    let watch: TimerHandle | undefined;
    if (parentPid) {
      // Started by `canh up`: stop cleanly if that parent disappears (e.g. kill -9).
      watch = clock.setInterval(() => {
        try {
          process.kill(parentPid, 0);
        } catch {
          clock.clear(watch);
          log.warn({ parentPid }, 'parent process gone');
          process.emit('SIGTERM', 'SIGTERM');
        }
      }, 2000);
    }
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      clock.clear(watch);
      log.info({ signal }, 'stopping');
      // The clock's timeouts do not keep the process alive.
      const force = clock.setTimeout(() => {
        log.error('stop took too long: exiting');
        process.exit(1);
      }, forceAfterMs);
      service.stop().then(
        () => {
          clock.clear(force);
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err: (err as Error).message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (process.platform === 'win32') process.on('SIGBREAK', onSignal);
  });
}
