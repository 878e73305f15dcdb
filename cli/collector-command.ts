import { loadCollectorConfig } from './collector-config.js';
import { parseArgs } from 'node:util';
import { Collector } from '../collector/collector.js';
import { createLogger } from '../common/log.js';
import { runUntilSignal } from './run-service.js';

export async function runCollectorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadCollectorConfig('collector', { file: values.config });
  if (!config) return 2;
  const log = createLogger('canh-collector', { level: config.log.level });
  const collector = await Collector.open(config, log);
  return runUntilSignal(collector, log);
}
