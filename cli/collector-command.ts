import { loadCollectorConfig } from './collector-config.js';
import { parseArgs } from 'node:util';
import { Collector } from '../collector/collector.js';
import { COLLECTOR_MALLOC_ENV, COLLECTOR_NODE_FLAGS, mallocTuned, semiSpaceSized } from '../collector/health/heap-growth.js';
import { createLogger } from '../common/log.js';
import { runUntilSignal } from './run-service.js';

export async function runCollectorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadCollectorConfig('collector', { file: values.config });
  if (!config) return 2;
  const log = createLogger('canh-collector', { level: config.log.level });
  // The shipped launchers (systemd unit, Dockerfile, npm start) pass both; a hand-started collector may not.
  if (!semiSpaceSized())
    log.info({ flags: COLLECTOR_NODE_FLAGS.join(' ') }, 'node was started without --max-semi-space-size: V8 young generation at its default (more RSS; see README, health)');
  if (process.platform === 'linux' && !mallocTuned())
    log.info(
      {
        env: Object.entries(COLLECTOR_MALLOC_ENV)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      },
      "node was started without the malloc environment: glibc's thresholds move (more RSS; see README, health)",
    );
  const collector = await Collector.open(config, log);
  return runUntilSignal(collector, log);
}
