import type { Logger } from 'pino';

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start a service and stop it cleanly on SIGINT/SIGTERM (and SIGBREAK, sent by the
 * Windows service wrapper). A second signal, or a stop taking longer than
 * `forceAfterMs`, exits at once.
 */
export async function runUntilSignal(service: Service, log: Logger, forceAfterMs = 15_000, parentPid?: number): Promise<number> {
  await service.start();
  return new Promise<number>((resolve) => {
    if (parentPid) {
      // Started by `canh up`: stop cleanly if that parent disappears (e.g. kill -9).
      const watch = setInterval(() => {
        try {
          process.kill(parentPid, 0);
        } catch {
          clearInterval(watch);
          log.warn({ parentPid }, 'parent process gone');
          process.emit('SIGTERM', 'SIGTERM');
        }
      }, 2000);
      watch.unref();
    }
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        log.error('stop took too long: exiting');
        process.exit(1);
      }, forceAfterMs);
      force.unref();
      service.stop().then(
        () => {
          clearTimeout(force);
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
