import { parseArgs } from 'node:util';
import { Collector } from '../collector/collector.js';
import { resolveRulesFile } from '../collector/alerting/alerting-config.js';
import { CollectorConfigSchema } from '../collector/config.js';
import { loadConfig } from '../common/config-loader.js';
import { createLogger } from '../common/log.js';
import { loadOrReport } from './config-errors.js';
import { runUntilSignal } from './run-service.js';

export async function runCollectorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  const config = loadOrReport('collector', () => {
    const c = loadConfig(CollectorConfigSchema, { file: values.config ?? process.env.CANH_COLLECTOR_CONFIG, envPrefix: 'CANH_COLLECTOR' });
    return { ...c, alerting: resolveRulesFile(c.alerting) };
  });
  if (!config) return 2;
  const log = createLogger('canh-collector', { level: config.log.level });
  const collector = new Collector(config, log);
  return runUntilSignal(collector, log);
}
